"""Two managers, or a double click, cannot approve twice; two accepts cannot both win.

Real concurrent requests on PostgreSQL: each thread has its own test client (and so
its own database session), and a barrier releases them together.
"""

import threading

import pytest
from sqlalchemy import func, select

from agency.audit.service import verify_chain
from agency.introductions.models import Introduction
from tests.factories import bearer, make_manager
from tests.introductions.introductions_helpers import approved, make_world


def _race(app, requests):
    """Run each (method, url, json, headers) at the same moment; return the statuses."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def fire(index, method, url, body, headers):
        client = app.test_client()
        barrier.wait()
        response = client.open(url, method=method, json=body, headers=headers)
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=fire, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.committed  # threads write and read at once: real transactions
def test_two_managers_approving_the_same_suggestion_at_once_make_one_introduction(app, session):
    world = make_world(session)
    second_manager = bearer(session, make_manager(session, world.agency))
    url = f"/care-requests/{world.care_request.id}/introductions"
    body = {"suggestion_id": world.suggestion.id}
    results = _race(
        app,
        [("POST", url, body, world.manager), ("POST", url, body, second_manager)] * 2,
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409, 409, 409], results
    codes = {body["code"] for status, body in results if status == 409}
    assert codes <= {"illegal_transition", "introduction_exists", "version_conflict"}
    count = session.scalar(select(func.count()).select_from(Introduction))
    assert count == 1
    assert verify_chain(session).ok


@pytest.mark.postgres
@pytest.mark.committed  # threads write and read at once: real transactions
def test_a_double_clicked_accept_is_accepted_once(app, session):
    world = make_world(session)
    with app.test_client() as client:
        introduction_id = approved(client, world)
    url = f"/introductions/{introduction_id}/accept"
    results = _race(app, [("POST", url, None, world.provider_auth)] * 3)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409, 409], results
    assert {body["code"] for status, body in results if status == 409} <= {
        "version_conflict",
        "illegal_transition",
    }
    session.expire_all()
    assert session.get(Introduction, introduction_id).version == 2
    assert verify_chain(session).ok
