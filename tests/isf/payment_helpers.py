"""A provider onboarded at the stand-in, funded ISF invoices, and running queued jobs."""

import datetime as dt

from rq import SimpleWorker

from agency.accounts.models import User
from agency.isf.invoices import approve_invoice
from tests.factories import bearer, make_agency, make_manager, make_provider, principal_of
from tests.isf.money_factories import fund, make_isf_account, make_isf_arrangement


def deliver(standin, client):
    """Deliver the stand-in's pending webhooks to the API; returns the responses."""
    return standin.deliver_pending(
        lambda body, headers: client.post("/webhooks/stripe", data=body, headers=headers)
    )


def queue_worker(request):
    """A function that works the queue with a real RQ worker (with Redis), else does nothing.

    Call it BEFORE enqueueing: the rq_queue fixture empties the queue when first used.
    """
    from tests.conftest import REDIS_URL

    if not REDIS_URL:
        return lambda: None
    queue = request.getfixturevalue("rq_queue")
    return lambda: SimpleWorker([queue], connection=queue.connection).work(burst=True)


def money_world(session, client, standin, invoices=(3600,), funds=100_000):
    """An agency with a manager, an onboarded provider, a funded ISF and approved invoices."""
    agency = make_agency(session)
    manager = make_manager(session, agency)
    provider = make_provider(session, agency)
    provider_headers = bearer(session, session.get(User, provider.user_id))
    if standin is not None:
        response = client.post("/payout-accounts", headers=provider_headers)
        assert response.status_code == 201, response.get_json()
        standin.complete_onboarding(response.get_json()["external_id"])
        deliver(standin, client)
    isf = make_isf_account(session, agency)
    fund(session, isf, funds)
    arrangement = make_isf_arrangement(session, isf, provider)
    principal = principal_of(session, manager)
    made = [
        approve_invoice(
            session,
            principal,
            arrangement_id=arrangement.id,
            period_start=dt.date(2026, 12, 1),
            period_end=dt.date(2026, 12, 7),
            lines=[{"service": "companionship", "minutes": 120, "pence": total}],
            total_pence=total,
        )
        for total in invoices
    ]
    return {
        "agency": agency,
        "manager": bearer(session, manager),
        "provider": provider,
        "provider_headers": provider_headers,
        "isf": isf,
        "invoices": made,
    }
