"""Factories for the money side: ISF accounts, ISF-funded arrangements, approved invoices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from agency.directory.models import Agency
from agency.ids import new_id
from agency.introductions.models import Arrangement
from agency.isf.isf_accounts import isf_ledger_account
from agency.isf.ledger import ledger_account, post_entry
from agency.isf.models import AccountKind, EntryKind, IsfAccount, PayoutAccount
from agency.providers.models import Provider
from agency.seekers.models import CareSeeker
from tests.factories import (
    make_agency,
    make_arrangement,
    make_care_request,
    make_partner,
    make_provider,
    make_seeker,
)


def make_isf_account(
    session: Session,
    agency: Agency | None = None,
    seeker: CareSeeker | None = None,
    **overrides: Any,
) -> IsfAccount:
    agency = agency or make_agency(session)
    if seeker is None:
        partner, _ = make_partner(session)
        seeker = make_seeker(session, partner.id)
        make_care_request(session, seeker, agency)
    isf = IsfAccount(
        id=new_id("isf"),
        seeker_id=seeker.id,
        agency_id=agency.id,
        council_id=agency.council_id,
        council_reference=overrides.pop("council_reference", "BCC-ISF-1"),
        plan_start=dt.date(2026, 1, 1),
        plan_end=dt.date(2026, 12, 31),
        created_by="test",
    )
    for key, value in overrides.items():
        setattr(isf, key, value)
    session.add(isf)
    session.flush()
    isf_ledger_account(session, isf)
    session.commit()
    return isf


def fund(session: Session, isf: IsfAccount, amount_pence: int) -> None:
    funding = ledger_account(session, AccountKind.COUNCIL_FUNDING, council_id=isf.council_id)
    post_entry(
        session,
        EntryKind.ALLOCATION,
        [(funding, -amount_pence), (isf_ledger_account(session, isf), amount_pence)],
        "test allocation",
        f"test-{new_id('key')}",
        agency_id=isf.agency_id,
        council_id=isf.council_id,
    )
    session.commit()


def make_isf_arrangement(
    session: Session, isf: IsfAccount, provider: Provider | None = None
) -> Arrangement:
    agency = session.get(Agency, isf.agency_id)
    return make_arrangement(
        session,
        agency,
        provider or make_provider(session, agency),
        session.get(CareSeeker, isf.seeker_id),
        funding="isf",
        isf_account_id=isf.id,
        rates={"companionship": 1800},
        start_date=dt.date(2026, 1, 5),
        minutes_per_week=120,
    )


def make_payout_account(
    session: Session, provider: Provider, external_id: str, gateway: str = "stripe"
) -> PayoutAccount:
    account = PayoutAccount(
        id=new_id("poa"),
        provider_id=provider.id,
        gateway=gateway,
        external_id=external_id,
        status="enabled",
        details_submitted=True,
        payouts_enabled=True,
    )
    session.add(account)
    session.commit()
    return account
