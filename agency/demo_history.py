"""Four weeks of demo history after matching: the whole money journey, through the services.

Introductions from the matcher's top suggestions, provider and seeker answers (some
declined, with reasons), arrangements, ISF accounts with four-weekly allocations (one
deliberately too small), visits on the agreed schedule (one outside it), timesheets,
invoices, a manual bank transfer payment run per agency and bank references for most
payouts. Every step calls the same service function the API calls, so every rule,
audit record and ledger posting is the real one. Deterministic given the seeded rng.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.access import Kind, Principal
from agency.accounts.models import Role, User
from agency.errors import DomainError
from agency.introductions import approval
from agency.introductions import service as introductions
from agency.introductions.models import Arrangement, Suggestion, SuggestionStatus
from agency.isf import funding, isf_accounts
from agency.isf.manual_gateway import MANUAL_BANK_TRANSFER
from agency.isf.models import Invoice, InvoiceStatus, Payout, PayoutStatus
from agency.isf.payment_runs import start_payment_run
from agency.isf.settlement import record_bank_reference
from agency.jobs.queue import jobs_for
from agency.providers.models import Provider
from agency.seekers.models import CareRequest, CareSeeker, Funding, RequestStatus
from agency.unit_of_work import unit_of_work
from agency.visits import timesheets as ts
from agency.visits.visit_rules import london_today, minutes_of_day
from agency.visits.visits import log_visit

INTRODUCTIONS, ACCEPTED, PROVIDER_DECLINED = 60, 45, 8  # the rest await the provider
CONFIRMED, SEEKER_DECLINED = 36, 4  # of the accepted; the rest await the seeker
WEEKS = 4
PROVIDER_REASONS = [
    "No capacity this month",
    "Too far from my other visits",
    "The times clash with another client",
    "Not confident with this kind of support",
]
SEEKER_REASONS = [
    "Found help through family",
    "Preferred someone who speaks Somali",
    "The times did not suit after meeting",
]
UNPAID_EVERY = 4  # every fourth payout is left without a bank reference (still waiting)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _candidates(
    session: Session, care_request_id: str | None = None
) -> list[tuple[CareRequest, Suggestion]]:
    """Routed open requests with their top active suggestion, in seeker reference order.

    Read afresh each time: match jobs (inline) re-rank requests as arrangements start.
    """
    stmt = (
        select(CareRequest, Suggestion)
        .join(CareSeeker, CareSeeker.id == CareRequest.seeker_id)
        .join(Suggestion, Suggestion.care_request_id == CareRequest.id)
        .where(
            CareRequest.agency_id.is_not(None),
            CareRequest.status.in_([RequestStatus.OPEN, RequestStatus.MATCHING]),
            Suggestion.status == SuggestionStatus.ACTIVE,
        )
        .order_by(CareSeeker.reference, Suggestion.rank, Suggestion.provider_id)
        .execution_options(populate_existing=True)
    )
    if care_request_id:
        stmt = stmt.where(CareRequest.id == care_request_id)
    top: dict[str, tuple[CareRequest, Suggestion]] = {}
    for care_request, suggestion in session.execute(stmt):
        top.setdefault(care_request.id, (care_request, suggestion))
    return list(top.values())


def _provider(session: Session, provider_id: str) -> Principal:
    provider = session.get(Provider, provider_id)
    assert provider is not None
    return Principal(kind=Kind.PROVIDER, id=provider.user_id, provider_id=provider.id)


Managers = dict[str, Principal]
Busy = dict[tuple[str, int], list[tuple[int, int]]]


def _introduce(
    session: Session, rng: random.Random, managers: Managers, start: dt.date
) -> tuple[int, str | None, list[Arrangement]]:
    """Introductions and answers; returns (introductions, ISF too-small id, arrangements)."""
    made, small = 0, None  # type: int, str | None
    confirmed: list[Arrangement] = []
    for request_id in [r.id for r, _ in _candidates(session)]:
        if made == INTRODUCTIONS:
            break
        fresh = _candidates(session, request_id)
        if not fresh:
            continue
        care_request, suggestion = fresh[0]
        manager = managers[str(care_request.agency_id)]
        with unit_of_work(session) as uow:
            planned, care_request.start_date = care_request.start_date, start
            uow.commit()  # demo rows: care that began four weeks ago
        try:
            intro = approval.approve_introduction(
                session, manager, care_request.id, suggestion_id=suggestion.id
            )
        except DomainError:  # e.g. capacity already taken by an earlier introduction
            with unit_of_work(session) as uow:
                uow.rollback()
                care_request.start_date = planned
                uow.commit()
            continue
        made += 1
        provider = _provider(session, intro.provider_id)
        if made > ACCEPTED + PROVIDER_DECLINED:
            continue  # still awaiting the provider
        if made > ACCEPTED:
            introductions.provider_answer(
                session, provider, intro.id, accept=False, reason=rng.choice(PROVIDER_REASONS)
            )
            continue
        introductions.provider_answer(session, provider, intro.id, accept=True)
        partner = Principal(kind=Kind.PARTNER, id=intro.partner_client_id)
        if len(confirmed) == CONFIRMED:
            if made > ACCEPTED - SEEKER_DECLINED:
                introductions.seeker_answer(
                    session, partner, intro.id, confirm=False, reason=rng.choice(SEEKER_REASONS)
                )
            continue  # else still awaiting the seeker
        if care_request.funding is Funding.ISF:
            isf = isf_accounts.open_isf_account(
                session,
                manager,
                seeker_id=care_request.seeker_id,
                council_reference=f"BCC-ISF-{len(confirmed) + 1:04d}",
                plan_start=start,
                plan_end=start + dt.timedelta(days=364),
            )
            offered = session.get(Provider, intro.provider_id)
            assert offered is not None
            rate = max(s.rate_pence for s in offered.services)
            four_weeks = care_request.minutes_per_week * rate * WEEKS // 60
            # The first ISF gets a quarter of what four weeks cost: its approval is refused.
            amount = four_weeks // 4 if small is None else (four_weeks * 2 // 1000 + 1) * 1000
            small = small or isf.id
            funding.allocate(
                session,
                manager,
                isf.id,
                amount_pence=amount,
                period_start=start,
                period_end=start + dt.timedelta(days=7 * WEEKS - 1),
                memo="four-weekly budget",
            )
        introductions.seeker_answer(session, partner, intro.id, confirm=True)
        arrangement = session.scalar(select(Arrangement).filter_by(introduction_id=intro.id))
        assert arrangement is not None
        confirmed.append(arrangement)
    return made, small, confirmed


def _slot(busy: list[tuple[int, int]], first: int, last: int, each: int) -> tuple[int, int]:
    """The earliest time in the window clear of the provider's other visits (else the first)."""
    for begin in range(first, max(first, last - each) + 1, 30):
        end = min(begin + each, last)
        if all(end <= x or y <= begin for x, y in busy):
            busy.append((begin, end))
            return begin, end
    return first, min(first + each, last)


def _visits(
    session: Session, arrangement: Arrangement, start: dt.date, today: dt.date, busy: Busy
) -> int:
    """Log the agreed weekly minutes, split over the schedule's windows, on each past day."""
    provider = _provider(session, arrangement.provider_id)
    terms = arrangement.terms
    each = max(30, terms.minutes_per_week // len(terms.schedule) // 15 * 15)
    times = {
        int(str(w["weekday"])): _slot(
            busy.setdefault((arrangement.provider_id, int(str(w["weekday"]))), []),
            minutes_of_day(str(w["start"])),
            minutes_of_day(str(w["end"])),
            each,
        )
        for w in terms.schedule
    }
    logged = 0
    for offset in range(7 * WEEKS):
        day = start + dt.timedelta(days=offset)
        if day >= today or day.weekday() not in times:
            continue
        begin, end = times[day.weekday()]
        fields = {"date": day, "start": _hhmm(begin), "end": _hhmm(end)}
        log_visit(session, provider, arrangement.id, {**fields, "services": terms.services})
        logged += 1
    return logged


def _off_schedule_visit(session: Session, arrangement: Arrangement, start: dt.date) -> int:
    """One visit on a day the schedule does not include: flagged, not refused."""
    days = {w["weekday"] for w in arrangement.terms.schedule}
    day = next(
        start + dt.timedelta(days=d)
        for d in range(7)
        if (start + dt.timedelta(days=d)).weekday() not in days
    )
    fields = {
        "date": day,
        "start": "18:00",
        "end": "19:00",
        "notes": "Extra visit: hospital discharge",
    }
    log_visit(
        session,
        _provider(session, arrangement.provider_id),
        arrangement.id,
        {**fields, "services": arrangement.terms.services},
    )
    return 1


def _pay(session: Session, managers: Managers, today: dt.date) -> tuple[int, int]:
    """A manual bank transfer payment run per agency; bank references for most payouts."""
    jobs = jobs_for(session)  # the composition root's runner (agency.bootstrap)
    runs, paid, seen = 0, 0, 0
    for agency_id in sorted(managers):
        # runs inline
        run = start_payment_run(session, managers[agency_id], jobs, MANUAL_BANK_TRANSFER)
        runs += 1
        session.expire_all()
        payouts = session.scalars(
            select(Payout)
            .join(Invoice, Invoice.id == Payout.invoice_id)
            .where(Payout.payment_run_id == run.id)
            .order_by(Invoice.number)
        ).all()
        for payout in payouts:
            seen += 1
            if payout.status is not PayoutStatus.SENT or seen % UNPAID_EVERY == 0:
                continue  # sent but not yet paid by the bank: still waiting
            reference = f"BACS-{today:%y%m%d}-{seen:04d}"
            record_bank_reference(session, managers[agency_id], payout.id, reference)
            paid += 1
    return runs, paid


def add_history(session: Session, seed: int = 20261127) -> list[str]:
    """Drive four weeks of the journey through the services; return summary lines."""
    settings = jobs_for(session).settings
    if not settings.inline_jobs or settings.stripe_api_key:
        return ["", "History: skipped (needs inline jobs and the manual bank transfer gateway)."]
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    managers: Managers = {
        str(u.agency_id): Principal(kind=Kind.MANAGER, id=u.id, agency_id=u.agency_id)
        for u in session.scalars(select(User).where(User.role == Role.MANAGER))
    }
    today = london_today()
    start = today - dt.timedelta(days=7 * WEEKS)
    made, small, arrangements = _introduce(session, rng, managers, start)
    busy: Busy = {}
    visits = sum(_visits(session, a, start, today, busy) for a in arrangements)
    if arrangements:
        visits += _off_schedule_visit(session, arrangements[0], start)
    refused, end = 0, today - dt.timedelta(days=1)  # four whole weeks, up to yesterday
    for arrangement in arrangements:
        provider = _provider(session, arrangement.provider_id)
        try:
            sheet = ts.submit_timesheet(session, provider, arrangement.id, start, end)
        except DomainError:  # no visits in the period (a schedule on no past day)
            session.rollback()
            continue
        try:
            ts.approve_timesheet(session, managers[arrangement.agency_id], sheet.id)
        except DomainError as error:
            if error.code != "insufficient_funds":
                raise
            refused += 1  # left submitted: the demo shows the refusal
    runs, paid = _pay(session, managers, today)
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(Invoice.total_pence), 0))
    ).one()
    waiting = session.scalar(
        select(func.count()).where(
            Invoice.status == InvoiceStatus.APPROVED, Invoice.isf_account_id.is_not(None)
        )
    )
    return [
        "",
        f"History (last {WEEKS} weeks): {made} introductions, {len(arrangements)} arrangements, "
        f"{visits} visits, {count} invoices (£{total / 100:,.2f});",
        f"  {runs} manual bank transfer payment runs, {paid} payouts paid with a bank reference, "
        f"{waiting} ISF invoices awaiting payment, {refused} timesheet refused "
        f"(insufficient_funds, ISF {small}).",
        "  See /reports/local-spend, /reports/funnel, /reports/prompt-payment, /reports/fairness "
        "(e.g. as auditor@bristol.example).",
    ]
