"""Two managers approving one timesheet at once make one invoice and charge the ISF once.

Real concurrent requests on PostgreSQL: each thread has its own test client (and so its
own database session), and a barrier releases them together.
"""

import threading

import pytest
from sqlalchemy import func, select

from agency.isf.isf_accounts import figures_for
from agency.isf.models import EntryKind, Invoice, JournalEntry
from tests.factories import bearer, make_manager
from tests.visits.visit_helpers import log, make_isf_world, submit


def _race(app, url, headers_list):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(headers_list))
    results = [None] * len(headers_list)

    def fire(index, headers):  # type: ignore[no-untyped-def]
        client = app.test_client()
        barrier.wait()
        response = client.post(url, headers=headers)
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=fire, args=(i, h)) for i, h in enumerate(headers_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.committed  # threads write and read at once: real transactions
def test_two_managers_approving_at_once_make_one_invoice_and_one_charge(app, client, session):
    world = make_isf_world(session, 10_000)
    log(client, world, day=2, start="10:00", end="11:00")
    timesheet = submit(client, world).json
    second = bearer(session, make_manager(session, world.agency))
    results = _race(
        app,
        f"/timesheets/{timesheet['id']}/approve",
        [world.manager_headers, second, world.manager_headers, second],
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409, 409, 409], results
    codes = {body["code"] for status, body in results if status == 409}
    assert codes <= {"illegal_transition", "version_conflict"}
    assert session.scalar(select(func.count()).select_from(Invoice)) == 1
    charges = select(func.count()).where(JournalEntry.kind == EntryKind.INVOICE)
    assert session.scalar(charges) == 1
    isf_id = world.arrangement.isf_account_id
    assert figures_for(session, [isf_id])[isf_id].balance_pence == 10_000 - 1850
