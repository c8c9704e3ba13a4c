"""Small builders for the reports tests: introductions, arrangements and invoices with the
times and amounts each test states (the factories give everything else)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.orm import Session

from agency.ids import new_id
from agency.introductions.models import (
    Arrangement,
    ArrangementStatus,
    ArrangementVersion,
    Introduction,
    IntroductionStatus,
)
from agency.isf.models import Invoice, InvoiceStatus
from agency.providers.models import Provider
from agency.seekers.models import CareRequest

_numbers = itertools.count(1)
T0 = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)


def make_introduction(
    session: Session,
    request: CareRequest,
    provider: Provider,
    status: IntroductionStatus = IntroductionStatus.CONFIRMED,
    **overrides: Any,
) -> Introduction:
    introduction = Introduction(
        id=new_id("itr"),
        care_request_id=request.id,
        provider_id=provider.id,
        agency_id=request.agency_id,
        council_id=request.council_id,
        partner_client_id=request.partner_client_id,
        status=status,
        approved_by=provider.user_id,
        respond_by=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    for key, value in overrides.items():
        setattr(introduction, key, value)
    session.add(introduction)
    session.commit()
    return introduction


def make_arrangement(
    session: Session,
    request: CareRequest,
    provider: Provider,
    minutes: int = 120,
    *,
    status: ArrangementStatus = ArrangementStatus.ACTIVE,
    earlier_minutes: int | None = None,
    services: list[str] | None = None,
    **overrides: Any,
) -> Arrangement:
    """An arrangement (through a confirmed introduction) whose current terms are ``minutes``;
    with ``earlier_minutes``, version 1 had those and version 2 is current."""
    introduction = make_introduction(session, request, provider)
    arrangement = Arrangement(
        id=new_id("arr"),
        introduction_id=introduction.id,
        care_request_id=request.id,
        seeker_id=request.seeker_id,
        provider_id=provider.id,
        agency_id=request.agency_id,
        council_id=request.council_id,
        partner_client_id=request.partner_client_id,
        funding="isf",
        status=status,
        start_date=dt.date(2026, 1, 5),
    )
    terms = [earlier_minutes, minutes] if earlier_minutes is not None else [minutes]
    arrangement.versions = [
        ArrangementVersion(
            id=new_id("arv"),
            version=number,
            services=services or ["companionship"],
            rates_pence={"companionship": 1800},
            minutes_per_week=value,
            schedule=[],
            schedule_mask="0" * 96,
            effective_from=dt.date(2026, 1, 5),
            created_by="test",
        )
        for number, value in enumerate(terms, start=1)
    ]
    arrangement.current_version = len(terms)
    for key, value in overrides.items():
        setattr(arrangement, key, value)
    session.add(arrangement)
    session.commit()
    return arrangement


def make_invoice(
    session: Session,
    arrangement: Arrangement,
    total_pence: int,
    *,
    approved_at: dt.datetime,
    paid_at: dt.datetime | None = None,
    status: InvoiceStatus | None = None,
) -> Invoice:
    invoice = Invoice(
        id=new_id("inv"),
        number=f"INV-T-{next(_numbers):05d}",
        arrangement_id=arrangement.id,
        provider_id=arrangement.provider_id,
        agency_id=arrangement.agency_id,
        council_id=arrangement.council_id,
        funding="isf",
        period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2026, 9, 7),
        lines=[],
        total_pence=total_pence,
        status=status or (InvoiceStatus.PAID if paid_at else InvoiceStatus.APPROVED),
        approved_at=approved_at,
        paid_at=paid_at,
        days_to_paid=(paid_at - approved_at).days if paid_at else None,
    )
    session.add(invoice)
    session.commit()
    return invoice
