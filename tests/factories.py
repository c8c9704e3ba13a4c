"""make_<thing>(session, **overrides): small factories with sensible defaults (CTFd style)."""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from agency.access import Principal
from agency.accounts import api_keys
from agency.accounts import service as accounts
from agency.accounts.models import PartnerClient, Role, User
from agency.directory.models import Agency, Council
from agency.ids import new_id

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Hashing once keeps factories fast; sign-in tests still verify real argon2 hashes.
    return PasswordHasher().hash(PASSWORD)


def make_council(session: Session, **overrides: Any) -> Council:
    n = next(_counter)
    council = Council(id=new_id("cnc"), name=f"Council {n}", slug=f"council-{n}")
    for key, value in overrides.items():
        setattr(council, key, value)
    session.add(council)
    session.commit()
    return council


def make_agency(session: Session, council: Council | None = None, **overrides: Any) -> Agency:
    council = council or make_council(session)
    n = next(_counter)
    agency = Agency(id=new_id("agy"), council_id=council.id, name=f"Agency {n}", slug=f"agency-{n}")
    for key, value in overrides.items():
        setattr(agency, key, value)
    session.add(agency)
    session.commit()
    return agency


def make_user(session: Session, role: Role = Role.MANAGER, **overrides: Any) -> User:
    n = next(_counter)
    user = User(
        id=new_id("usr"), email=f"user{n}@example.test", password_hash=_password_hash(), role=role
    )
    for key, value in overrides.items():
        setattr(user, key, value)
    session.add(user)
    session.commit()
    return user


def make_manager(session: Session, agency: Agency | None = None) -> User:
    agency = agency or make_agency(session)
    return make_user(session, Role.MANAGER, agency_id=agency.id)


def make_auditor(session: Session, council: Council | None = None) -> User:
    council = council or make_council(session)
    return make_user(session, Role.AUDITOR, council_id=council.id)


def make_admin(session: Session) -> User:
    return make_user(session, Role.ADMIN)


def make_partner(session: Session, **overrides: Any) -> tuple[PartnerClient, str]:
    """A partner client and the secret of its API key."""
    client = api_keys.create_partner_client(session, overrides.pop("name", "Test partner"))
    issued = api_keys.issue_api_key(session, client.id, "test")
    return client, issued.secret


def bearer(session: Session, user: User) -> dict[str, str]:
    """Headers of a signed-in user (a real token, issued without the slow password check)."""
    pair = accounts._issue(session, user, access_minutes=15, refresh_days=1)
    session.commit()
    return {"Authorization": f"Bearer {pair.access_token}"}


def api_key(secret: str) -> dict[str, str]:
    return {"X-API-Key": secret}


def principal_of(session: Session, user: User) -> Principal:
    return accounts.principal_for_user(session, user)


# --- directory, providers, seekers ------------------------------------------------------------

import datetime as dt  # noqa: E402

from agency.directory.models import (  # noqa: E402
    Locality,
    Neighbourhood,
    NeighbourhoodOutcode,
    Sector,
    SupplierSize,
)
from agency.providers.models import (  # noqa: E402
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    ListingStatus,
    OrganisationType,
    Provider,
    ProviderListing,
    ProviderService,
)
from agency.schedule import mask_to_hex, windows_to_mask  # noqa: E402
from agency.seekers.models import CareRequest, CareSeeker, Consent, Funding  # noqa: E402

WEEKDAY_MORNINGS = [{"weekday": d, "start": "09:00", "end": "13:00"} for d in range(5)]
BS3 = (51.4410, -2.6010)  # Bedminster (see matching/data/centroid_corrections.tsv)


def make_neighbourhood(
    session: Session, agency: Agency | None, outcodes: tuple[str, ...] = ("BS3",), **overrides: Any
) -> Neighbourhood:
    n = next(_counter)
    council_id = agency.council_id if agency else overrides.pop("council_id")
    hood = Neighbourhood(
        id=new_id("nbh"),
        council_id=council_id,
        agency_id=agency.id if agency else None,
        slug=f"hood-{n}",
        name=f"Neighbourhood {n}",
    )
    hood.outcodes = [NeighbourhoodOutcode(outcode=o) for o in outcodes]
    for key, value in overrides.items():
        setattr(hood, key, value)
    session.add(hood)
    session.commit()
    return hood


def make_provider(
    session: Session,
    agency: Agency | None = None,
    *,
    rates: dict[str, int] | None = None,
    status: ListingStatus = ListingStatus.APPROVED,
    compliant_until: dt.date | None = dt.date(2030, 1, 1),
    windows: list[dict[str, object]] | None = None,
    **overrides: Any,
) -> Provider:
    """An approved provider in Bedminster (BS3), with in-date DBS and insurance by default."""
    user = make_user(session, Role.PROVIDER)
    n = next(_counter)
    windows = WEEKDAY_MORNINGS if windows is None else windows
    provider = Provider(
        id=new_id("prv"),
        user_id=user.id,
        trading_name=f"Provider {n}",
        organisation_type=OrganisationType.SOLE_TRADER,
        size=SupplierSize.SOLE_TRADER,
        sector=Sector.PRIVATE,
        base_outcode="BS3",
        lat=BS3[0],
        lon=BS3[1],
        locality=Locality.COUNCIL_AREA,
        locality_basis="test",
        travel_radius_km=5.0,
        languages=["en"],
        skills=[],
        capacity_hours_per_week=20.0,
        weekly_availability=windows,
        availability_mask=mask_to_hex(windows_to_mask(windows, "w")),
    )
    for key, value in overrides.items():
        setattr(provider, key, value)
    provider.services = [
        ProviderService(service_key=k, rate_pence=v)
        for k, v in (rates or {"companionship": 1800, "shopping_errands": 1800}).items()
    ]
    if compliant_until is not None:
        provider.compliance_items = [
            ComplianceItem(
                id=new_id("cmp"),
                kind=kind,
                evidence_reference=f"{kind.value}-{n}",
                issued_on=dt.date(2024, 1, 1),
                expires_on=compliant_until,
                status=ComplianceStatus.VERIFIED,
            )
            for kind in (ComplianceKind.DBS, ComplianceKind.INSURANCE)
        ]
    session.add(provider)
    if agency is not None:
        session.add(
            ProviderListing(
                id=new_id("lst"),
                provider_id=provider.id,
                agency_id=agency.id,
                council_id=agency.council_id,
                status=status,
            )
        )
    session.commit()
    return provider


def make_seeker(session: Session, partner_client_id: str, **overrides: Any) -> CareSeeker:
    n = next(_counter)
    seeker = CareSeeker(
        id=new_id("skr"),
        partner_client_id=partner_client_id,
        reference=f"ref-{n}",
        display_name=f"Seeker {n}",
        outcode="BS3",
        sector="BS3 4",
    )
    for key, value in overrides.items():
        setattr(seeker, key, value)
    seeker.consents = [
        Consent(
            id=new_id("cns"),
            terms_version="2026-01",
            purposes=["introductions"],
            given_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    ]
    session.add(seeker)
    session.commit()
    return seeker


def make_care_request(
    session: Session,
    seeker: CareSeeker,
    agency: Agency | None,
    *,
    add: bool = True,
    **overrides: Any,
) -> CareRequest:
    """A care request of ``seeker``, added and committed (``add=False``: only built, for a
    caller that inserts it with its match job, as the API does)."""
    windows = overrides.pop("windows", [{"weekday": 1, "start": "10:00", "end": "12:00"}])
    request = CareRequest(
        id=new_id("req"),
        seeker_id=seeker.id,
        partner_client_id=seeker.partner_client_id,
        council_id=agency.council_id if agency else None,
        agency_id=agency.id if agency else None,
        outcode="BS3",
        sector="BS3 4",
        lat=BS3[0],
        lon=BS3[1],
        services=["companionship"],
        minutes_per_week=120,
        windows=windows,
        windows_mask=mask_to_hex(windows_to_mask(windows, "w")),
        start_date=dt.date(2026, 12, 7),
        funding=Funding.SELF_FUNDED,
        max_rate_pence=2500,
    )
    for key, value in overrides.items():
        setattr(request, key, value)
    if add:
        session.add(request)
        session.commit()
    return request


def make_arrangement(
    session: Session,
    agency: Agency,
    provider: Provider,
    seeker: CareSeeker,
    *,
    funding: str = "self_funded",
    isf_account_id: str | None = None,
    rates: dict[str, int] | None = None,
    schedule: list[dict[str, object]] | None = None,
    start_date: dt.date | None = None,
    minutes_per_week: int = 300,
    **overrides: Any,
) -> Any:
    """A confirmed arrangement: its care request, introduction and first version."""
    from agency.introductions.models import Arrangement, ArrangementVersion, Introduction

    rates = rates or {"companionship": 1850}
    schedule = [] if schedule is None else schedule
    start_date = start_date or dt.date.today() - dt.timedelta(days=90)
    request = make_care_request(session, seeker, agency)
    introduction = Introduction(
        id=new_id("itr"),
        care_request_id=request.id,
        provider_id=provider.id,
        agency_id=agency.id,
        council_id=agency.council_id,
        partner_client_id=seeker.partner_client_id,
        approved_by=provider.user_id,
        respond_by=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    session.add(introduction)
    session.flush()
    arrangement = Arrangement(
        id=new_id("arr"),
        introduction_id=introduction.id,
        care_request_id=request.id,
        seeker_id=seeker.id,
        provider_id=provider.id,
        agency_id=agency.id,
        council_id=agency.council_id,
        partner_client_id=seeker.partner_client_id,
        funding=funding,
        isf_account_id=isf_account_id,
        start_date=start_date,
    )
    arrangement.versions = [
        ArrangementVersion(
            id=new_id("arv"),
            version=1,
            services=list(rates),
            rates_pence=dict(rates),
            minutes_per_week=minutes_per_week,
            schedule=schedule,
            schedule_mask=mask_to_hex(windows_to_mask(schedule, "schedule")),
            effective_from=start_date,
            created_by="test",
        )
    ]
    for key, value in overrides.items():
        setattr(arrangement, key, value)
    session.add(arrangement)
    session.commit()
    return arrangement
