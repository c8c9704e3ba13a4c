"""Cover paid: the cover provider logs the visit they covered; it goes on their own
timesheet at their rate, is invoiced against the seeker's same ISF and paid by the
payment run through the ledger (issue 19)."""

import datetime as dt

from sqlalchemy import func, select

from agency.ids import new_id
from agency.isf.isf_accounts import isf_ledger_account
from agency.isf.ledger import balance
from agency.isf.models import AccountKind, Invoice, IsfAccount, LedgerAccount, Payout, Posting
from agency.providers.models import AvailabilityException
from agency.visits.planned_models import PlannedVisit
from agency.visits.planning import plan_arrangement
from tests.continuity.continuity_helpers import EVERY_DAY_TEN, others, planned
from tests.factories import make_provider
from tests.isf.payment_helpers import queue_worker
from tests.visits.visit_helpers import days_ago, make_isf_world, provider_headers

COVER_RATE = 2200  # the cover provider's listed rate; the arrangement agreed 1850


def _covered_world(session, client):  # type: ignore[no-untyped-def]
    """An ISF-funded arrangement planned daily at 10:00; its provider away for a week; a
    cover provider offered and accepted for the first day away."""
    world = make_isf_world(session, 100_000, schedule=EVERY_DAY_TEN, minutes_per_week=420)
    plan_arrangement(session, world.arrangement, now=dt.datetime.now(dt.UTC))
    session.commit()
    cover = make_provider(session, world.agency, rates={"companionship": COVER_RATE})
    away = [days_ago(-d) for d in range(1, 8)]
    session.add(
        AvailabilityException(
            id=new_id("avx"),
            provider_id=world.provider.id,
            starts_on=away[0],
            ends_on=away[-1],
            reason="holiday",
        )
    )
    session.commit()
    target = next(p for p in planned(session, world) if p.date in away and p.date.weekday() < 5)
    offered = client.post(
        f"/planned-visits/{target.id}/cover",
        json={"provider_id": cover.id},
        headers=world.manager_headers,
    )
    assert offered.status_code == 200, offered.json
    assert offered.json["cover_rates_pence"] == {"companionship": COVER_RATE}
    cover_headers = provider_headers(session, cover)
    accepted = client.post(f"/planned-visits/{target.id}/cover/accept", headers=cover_headers)
    assert accepted.status_code == 200, accepted.json
    return world, cover, cover_headers, target


def _the_day_comes(session, target: PlannedVisit, day: dt.date) -> None:
    """Move the covered visit to ``day`` (the clock cannot be moved for a whole app)."""
    shift = dt.datetime.combine(day, dt.time()) - dt.datetime.combine(target.date, dt.time())
    target.date, target.starts_at, target.ends_at = (
        day,
        target.starts_at + shift,
        target.ends_at + shift,
    )
    session.commit()


def _log_cover(client, target, headers):  # type: ignore[no-untyped-def]
    return client.post(
        f"/planned-visits/{target.id}/cover/visit",
        json={"start": "10:00", "end": "11:00", "services": ["companionship"]},
        headers=headers,
    )


def test_a_cover_visit_is_invoiced_at_the_cover_rate_and_paid_from_the_same_isf(
    client, session, request
):
    world, cover, cover_headers, target = _covered_world(session, client)
    funnel_before = _funnel(client, world)
    # Not before the day: a visit is never logged for a future date.
    early = _log_cover(client, target, cover_headers)
    assert early.status_code == 422 and "date" in early.json["errors"]
    _the_day_comes(session, target, days_ago(1))

    logged = _log_cover(client, target, cover_headers)
    assert logged.status_code == 201, logged.json
    visit = logged.json
    assert visit["provider_id"] == cover.id and visit["arrangement_id"] == world.arrangement.id
    assert visit["cover_rates_pence"] == {"companionship": COVER_RATE}
    session.expire_all()
    assert session.get(PlannedVisit, target.id).visit_id == visit["id"]
    again = _log_cover(client, target, cover_headers)
    assert again.status_code == 409 and again.json["code"] == "visit_already_logged"
    # The arrangement's own provider logs a visit too: it stays off the cover timesheet.
    own = client.post(
        f"/arrangements/{world.arrangement.id}/visits",
        json={
            "date": days_ago(2).isoformat(),
            "start": "10:00",
            "end": "11:00",
            "services": ["companionship"],
        },
        headers=world.provider_headers,
    )
    assert own.status_code == 201, own.json
    for visit_id in (visit["id"], own.json["id"]):
        confirmed = client.post(f"/visits/{visit_id}/confirm", headers=world.partner_headers)
        assert confirmed.status_code == 200, confirmed.json

    period = {"period_start": days_ago(3).isoformat(), "period_end": days_ago(0).isoformat()}
    sheet = client.post(
        f"/arrangements/{world.arrangement.id}/timesheets", json=period, headers=cover_headers
    )
    assert sheet.status_code == 201, sheet.json
    assert sheet.json["provider_id"] == cover.id
    assert [v["id"] for v in sheet.json["visits"]] == [visit["id"]]
    # The arrangement's provider does not see the cover provider's timesheet on their list.
    listed = client.get(
        f"/arrangements/{world.arrangement.id}/timesheets", headers=world.provider_headers
    )
    assert sheet.json["id"] not in {t["id"] for t in listed.json}

    isf = session.get(IsfAccount, world.arrangement.isf_account_id)
    isf_account = isf_ledger_account(session, isf).id
    before = balance(session, isf_account)
    approved = client.post(f"/timesheets/{sheet.json['id']}/approve", headers=world.manager_headers)
    assert approved.status_code == 200, approved.json
    session.expire_all()
    invoice = session.get(Invoice, approved.json["invoice_id"])
    assert invoice.provider_id == cover.id and invoice.isf_account_id == isf.id
    assert [(line["rate_pence"], line["amount_pence"]) for line in invoice.lines] == [
        (COVER_RATE, COVER_RATE)
    ]
    assert balance(session, isf_account) == before - COVER_RATE

    work = queue_worker(request)
    run = client.post("/payment-runs", headers=world.manager_headers)
    assert run.status_code == 202, run.json
    work()
    session.expire_all()
    payouts = session.scalars(select(Payout).where(Payout.invoice_id == invoice.id)).all()
    assert [(p.provider_id, p.amount_pence) for p in payouts] == [(cover.id, COVER_RATE)]

    def held(kind):  # type: ignore[no-untyped-def]
        return session.scalar(
            select(func.coalesce(func.sum(Posting.amount_pence), 0))
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(LedgerAccount.kind == kind, LedgerAccount.provider_id == cover.id)
        )

    assert held(AccountKind.PROVIDER_PAYABLE) == 0  # credited by the invoice, paid out
    assert balance(session, isf_account) == before - COVER_RATE
    # The arrangement's own provider is paid for their own visit at the agreed rate.
    own_sheet = client.post(
        f"/arrangements/{world.arrangement.id}/timesheets",
        json=period,
        headers=world.provider_headers,
    )
    assert [v["id"] for v in own_sheet.json["visits"]] == [own.json["id"]]
    own_approved = client.post(
        f"/timesheets/{own_sheet.json['id']}/approve", headers=world.manager_headers
    )
    assert own_approved.status_code == 200, own_approved.json
    session.expire_all()
    own_invoice = session.get(Invoice, own_approved.json["invoice_id"])
    assert own_invoice.provider_id == world.provider.id and own_invoice.total_pence == 1850
    # The funnel counts the cover apart; its matching steps are as before (no new match).
    funnel_after = _funnel(client, world)
    assert funnel_after["steps"] == funnel_before["steps"]
    assert funnel_before["cover"] == {"offered": 1, "accepted": 1, "declined": 0, "visits_made": 0}
    assert funnel_after["cover"] == {"offered": 1, "accepted": 1, "declined": 0, "visits_made": 1}


def _funnel(client, world):  # type: ignore[no-untyped-def]
    query = {"period_start": days_ago(30).isoformat(), "period_end": days_ago(-30).isoformat()}
    response = client.get("/reports/funnel", query_string=query, headers=world.manager_headers)
    assert response.status_code == 200, response.json
    return response.json


def test_only_the_accepting_cover_provider_logs_the_cover_visit(client, session):
    world, cover, cover_headers, target = _covered_world(session, client)
    _the_day_comes(session, target, days_ago(1))
    body = {"start": "10:00", "end": "11:00", "services": ["companionship"]}
    url = f"/planned-visits/{target.id}/cover/visit"
    assert client.post(url, json=body).status_code == 401
    refused = others(session, world)
    assert client.post(url, json=body, headers=refused["another provider"]).status_code == 404
    assert client.post(url, json=body, headers=world.provider_headers).status_code == 404
    for who in ("another partner", "another agency's manager", "the council's auditor"):
        assert client.post(url, json=body, headers=refused[who]).status_code == 403, who
    for headers in (world.manager_headers, world.partner_headers):
        assert client.post(url, json=body, headers=headers).status_code == 403
    bad = client.post(url, json={**body, "end": "09:00"}, headers=cover_headers)
    assert bad.status_code == 422 and "end" in bad.json["errors"]
    # A provider with no accepted cover on the arrangement cannot submit a timesheet on it.
    period = {"period_start": days_ago(3).isoformat(), "period_end": days_ago(0).isoformat()}
    sheet = client.post(
        f"/arrangements/{world.arrangement.id}/timesheets",
        json=period,
        headers=refused["another provider"],
    )
    assert sheet.status_code == 404


def test_cover_not_accepted_cannot_be_logged(client, session):
    world, cover, cover_headers, target = _covered_world(session, client)
    # Another weekday: the cover provider works weekdays only, so on a Thursday the next
    # day's Saturday visit is one the engine never proposes them for.
    other = next(
        p
        for p in planned(session, world)
        if p.date > target.date and p.date.weekday() < 5 and p.cover_status is None
    )
    offered = client.post(
        f"/planned-visits/{other.id}/cover",
        json={"provider_id": cover.id},
        headers=world.manager_headers,
    )
    assert offered.status_code == 200, offered.json
    _the_day_comes(session, session.get(PlannedVisit, other.id), days_ago(1))
    response = client.post(
        f"/planned-visits/{other.id}/cover/visit",
        json={"start": "10:00", "end": "11:00", "services": ["companionship"]},
        headers=cover_headers,
    )
    assert response.status_code == 409 and response.json["code"] == "cover_not_accepted"
