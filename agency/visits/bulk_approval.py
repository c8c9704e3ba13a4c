"""Approving many timesheets at once: the month-end run of an agency with thousands of them.

Each timesheet gets exactly what :func:`agency.visits.timesheets.approve_timesheet` gives
it (its invoice with the same id and numbering, the ISF charge, the audit entry), or is
refused with the same code (``illegal_transition``, ``visit_disputed``, ``no_isf_account``,
``isf_account_closed``, ``insufficient_funds``, ``not_found``) without stopping the others.
Chunks of :data:`CHUNK` are one transaction each; the ISF charges of a chunk are posted
together (``agency.isf.ledger_batch.post_entries``) after each ISF's balance was checked
timesheet by timesheet, oldest submitted first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session, selectinload

from agency.access import Action, Principal, authorize
from agency.audit.service import record
from agency.db import utcnow
from agency.directory.models import Agency
from agency.errors import DomainError, NotFound
from agency.introductions.models import Arrangement
from agency.isf.ledger import _overdraft_floors, balances, ledger_account
from agency.isf.ledger_batch import Movement, post_entries
from agency.isf.models import (
    AccountKind,
    EntryKind,
    Invoice,
    InvoiceStatus,
    IsfAccount,
    IsfStatus,
    LedgerAccount,
)
from agency.unit_of_work import unit_of_work
from agency.visits.models import Timesheet, TimesheetStatus, VisitStatus
from agency.visits.pricing import invoice_lines
from agency.visits.timesheets import _manager_only, invoice_id_for
from agency.visits.visit_rules import LONDON

CHUNK = 250


@dataclass
class Outcome:
    approved: list[str] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, timesheet_id: str, code: str, message: str) -> None:
        self.refused.append({"timesheet_id": timesheet_id, "code": code, "message": message})


def approve_timesheets(
    session: Session, principal: Principal, timesheet_ids: Sequence[str]
) -> dict[str, Any]:
    """Approve each submitted timesheet; {"approved": [ids], "refused": [{id, code, message}]}."""
    _manager_only(principal)
    outcome = Outcome()
    ids = list(dict.fromkeys(timesheet_ids))
    for start in range(0, len(ids), CHUNK):
        _approve_chunk(session, principal, ids[start : start + CHUNK], outcome)
    return {"approved": outcome.approved, "refused": outcome.refused}


def _approve_chunk(
    session: Session, principal: Principal, ids: Sequence[str], outcome: Outcome
) -> None:
    with unit_of_work(session) as uow:
        timesheets = session.scalars(
            select(Timesheet)
            .where(Timesheet.id.in_(ids))
            .order_by(Timesheet.id)
            .with_for_update(of=Timesheet)
            .options(selectinload(Timesheet.visits))
            .execution_options(populate_existing=True)
        ).all()
        found = {t.id: t for t in timesheets}
        arrangements = {
            a.id: a
            for a in session.scalars(
                select(Arrangement)
                .where(Arrangement.id.in_({t.arrangement_id for t in timesheets}))
                .options(selectinload(Arrangement.versions))
            )
        }
        isfs = {
            i.id: i
            for i in session.scalars(
                select(IsfAccount).where(
                    IsfAccount.id.in_(
                        {a.isf_account_id for a in arrangements.values() if a.isf_account_id}
                    )
                )
            )
        }
        ready = []
        for timesheet_id in ids:
            timesheet = found.get(timesheet_id)
            refusal = _refusal(principal, timesheet, arrangements, isfs, timesheet_id)
            if refusal is not None:
                outcome.refuse(timesheet_id, *refusal)
                continue
            assert timesheet is not None
            arrangement = arrangements[timesheet.arrangement_id]
            try:
                lines = invoice_lines(arrangement.versions, timesheet.visits)
            except DomainError as error:
                outcome.refuse(timesheet_id, error.code, str(error))
                continue
            ready.append((timesheet, arrangement, lines))
        ready.sort(key=lambda item: (item[0].submitted_at, item[0].id))
        accounts = _ledger_accounts(session, ready, isfs)
        ready = _within_funds(session, ready, accounts, outcome)
        _write(session, principal, ready, isfs, accounts)
        approved = [t.id for t, _, _ in ready]
        uow.commit()  # expires the timesheets, written with Core above
        outcome.approved.extend(approved)


def _refusal(
    principal: Principal,
    timesheet: Timesheet | None,
    arrangements: dict[str, Arrangement],
    isfs: dict[str, IsfAccount],
    timesheet_id: str,
) -> tuple[str, str] | None:
    if timesheet is None:
        return "not_found", f"No timesheet with id {timesheet_id}."
    try:
        authorize(principal, Action.WRITE, timesheet)
    except NotFound:
        return "not_found", f"No timesheet with id {timesheet_id}."
    if timesheet.status is not TimesheetStatus.SUBMITTED:
        return "illegal_transition", f"The timesheet is {timesheet.status.value}."
    if any(v.status is VisitStatus.DISPUTED for v in timesheet.visits):
        return "visit_disputed", "Disputed visits must be resolved before approval."
    arrangement = arrangements[timesheet.arrangement_id]
    if arrangement.funding == "isf":
        isf = isfs.get(arrangement.isf_account_id or "")
        if isf is None:
            return "no_isf_account", "This ISF arrangement has no ISF account."
        if isf.status is IsfStatus.CLOSED:
            return "isf_account_closed", "The ISF account is closed."
    return None


def _ledger_accounts(
    session: Session,
    ready: list[tuple[Timesheet, Arrangement, list[dict[str, Any]]]],
    isfs: dict[str, IsfAccount],
) -> dict[str, LedgerAccount]:
    """Every ISF and payable ledger account the chunk charges, by natural key, in one read."""
    wanted: dict[str, tuple[AccountKind, dict[str, str | None]]] = {}
    for _, arrangement, _ in ready:
        isf = isfs.get(arrangement.isf_account_id or "") if arrangement.funding == "isf" else None
        if isf is None:
            continue
        owner = {"agency_id": isf.agency_id, "council_id": isf.council_id}
        wanted[f"isf:{isf.id}"] = (AccountKind.ISF, {"isf_account_id": isf.id, **owner})
        wanted[f"provider_payable:{arrangement.provider_id}:{isf.agency_id}"] = (
            AccountKind.PROVIDER_PAYABLE,
            {"provider_id": arrangement.provider_id, **owner},
        )
    found = {
        a.key: a
        for a in session.scalars(select(LedgerAccount).where(LedgerAccount.key.in_(wanted)))
    }
    for key, (kind, owner) in wanted.items():
        if key not in found:  # first charge of this ISF or provider: made on first use
            found[key] = ledger_account(session, kind, **owner)
    return found


def _within_funds(
    session: Session,
    ready: list[tuple[Timesheet, Arrangement, list[dict[str, Any]]]],
    accounts: dict[str, LedgerAccount],
    outcome: Outcome,
) -> list[tuple[Timesheet, Arrangement, list[dict[str, Any]]]]:
    """Drop (as insufficient_funds) what an ISF cannot pay, oldest submitted first."""
    isf_accounts = [a for a in accounts.values() if a.kind is AccountKind.ISF]
    left = balances(session, [a.id for a in isf_accounts])
    floors = _overdraft_floors(session, isf_accounts)
    kept = []
    for timesheet, arrangement, lines in ready:
        total = sum(line["amount_pence"] for line in lines)
        if arrangement.funding == "isf":
            account = accounts[f"isf:{arrangement.isf_account_id}"]
            if left[account.id] - total < floors.get(account.id, 0):
                outcome.refuse(
                    timesheet.id,
                    "insufficient_funds",
                    "The ISF account does not hold enough money for this.",
                )
                continue
            left[account.id] -= total
        kept.append((timesheet, arrangement, lines))
    return kept


def _write(
    session: Session,
    principal: Principal,
    ready: list[tuple[Timesheet, Arrangement, list[dict[str, Any]]]],
    isfs: dict[str, IsfAccount],
    accounts: dict[str, LedgerAccount],
) -> None:
    """Timesheets approved, invoices and ISF charges written: a few statements per chunk."""
    if not ready:
        return
    now = utcnow()
    numbers = _numbering(session, {t.agency_id for t, _, _ in ready}, now)
    invoices, charges = [], []
    for timesheet, arrangement, lines in ready:
        invoice_id = invoice_id_for(timesheet)
        isf_id = arrangement.isf_account_id if arrangement.funding == "isf" else None
        total = sum(line["amount_pence"] for line in lines)
        record(
            session, principal, "timesheet.approved", timesheet, None, {"invoice_id": invoice_id}
        )
        invoices.append(
            {
                "id": invoice_id,
                "number": numbers[timesheet.agency_id](),
                "arrangement_id": arrangement.id,
                "provider_id": arrangement.provider_id,
                "agency_id": arrangement.agency_id,
                "council_id": arrangement.council_id,
                "isf_account_id": isf_id,
                "funding": arrangement.funding,
                "period_start": timesheet.period_start,
                "period_end": timesheet.period_end,
                "lines": lines,
                "total_pence": total,
                "status": InvoiceStatus.APPROVED,
                "approved_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        if isf_id:
            isf = isfs[isf_id]
            payable = accounts[f"provider_payable:{arrangement.provider_id}:{isf.agency_id}"]
            charges.append(
                Movement(
                    [(accounts[f"isf:{isf_id}"], -total), (payable, total)],
                    f"Invoice {invoice_id}",
                    f"invoice-{invoice_id}-charge",
                    isf.agency_id,
                    isf.council_id,
                )
            )
    # The rows are locked (FOR UPDATE above), so one UPDATE replaces the per-row version check.
    session.execute(
        update(Timesheet)
        .where(Timesheet.id.in_([t.id for t, _, _ in ready]))
        .values(
            status=TimesheetStatus.APPROVED,
            approved_at=now,
            approved_by=principal.id,
            invoice_id=literal("inv_") + func.substr(Timesheet.id, len("tms_") + 1),
            version=Timesheet.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(insert(Invoice), invoices)
    post_entries(session, EntryKind.INVOICE, charges, created_by=principal.id)


def _numbering(session: Session, agency_ids: set[str], when: dt.datetime):  # type: ignore[no-untyped-def]
    """agency id -> a function giving its next invoice number (as next_invoice_number does)."""
    counters = {}
    for agency in session.scalars(select(Agency).where(Agency.id.in_(agency_ids))):
        short = re.sub(r"[^A-Z0-9]", "", agency.slug.upper())[:12] or "AGENCY"
        prefix = f"INV-{short}-{when.astimezone(LONDON):%Y%m}-"
        taken = session.scalar(select(func.count()).where(Invoice.number.like(prefix + "%"))) or 0
        counters[agency.id] = _counter(prefix, taken)
    return counters


def _counter(prefix: str, taken: int):  # type: ignore[no-untyped-def]
    state = {"n": taken}

    def next_number() -> str:
        state["n"] += 1
        return f"{prefix}{state['n']:04d}"

    return next_number
