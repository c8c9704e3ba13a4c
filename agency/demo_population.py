"""A realistic Bristol population for the demo: providers and seekers the matcher can work on.

Deterministic (seeded) so two newcomers see the same demo. Providers cluster in the
three agencies' neighbourhoods; some compliance is about to expire or has expired;
some care requests come from parts of the city no agency covers (unmet need).
"""

from __future__ import annotations

import datetime as dt
import random

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

import matching
from agency.accounts.models import PartnerClient, Role, User
from agency.directory.models import Agency, Sector, SupplierSize
from agency.directory.places import locality_of
from agency.ids import new_id
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    IsfApproval,
    ListingStatus,
    OrganisationType,
    Provider,
    ProviderListing,
    ProviderService,
)
from agency.schedule import mask_to_hex, windows_to_mask
from agency.seekers.models import CareRequest, CareSeeker, Consent, Funding, Urgency

DEMO_PROVIDER_PASSWORD = "demo-password-provider"  # noqa: S105 - documented demo credential
SERVICE_MIX = [  # (service, share of providers offering it)
    ("companionship", 0.75),
    ("shopping_errands", 0.55),
    ("meal_preparation", 0.45),
    ("domestic_help", 0.45),
    ("getting_out", 0.35),
    ("accompanying_appointments", 0.3),
    ("carer_respite", 0.2),
    ("gardening_repairs", 0.15),
    ("personal_care", 0.12),
]
SHAPES = [  # typical micro-provider weeks: (weekdays, start, end)
    (range(5), "09:00", "13:00"),
    (range(5), "13:00", "17:00"),
    (range(5), "09:00", "17:00"),
    ((0, 2, 4), "10:00", "16:00"),
    ((1, 3), "08:00", "12:00"),
    ((5, 6), "09:00", "15:00"),
    (range(5), "17:00", "20:00"),
]
LANGUAGES = [("so", 0.1), ("ur", 0.08), ("pl", 0.06), ("ar", 0.05), ("pa", 0.04)]
UNCOVERED = ["BS4", "BS7", "BS13", "BS16", "BS14"]  # Bristol areas with no agency yet
FIRST_NAMES = ["Amina", "Ben", "Chloe", "Dev", "Ewa", "Femi", "Grace", "Hassan", "Iris", "Jo"]
TRADES = ["Care", "Companions", "Home Help", "Support", "Helping Hands", "Friends"]


def _windows(rng: random.Random) -> list[dict[str, object]]:
    days, start, end = rng.choice(SHAPES)
    return [{"weekday": d, "start": start, "end": end} for d in days]


def _jitter(rng: random.Random, outcode: str) -> tuple[float, float]:
    lat, lon = matching.outcode_table().latlon(outcode)
    return lat + rng.uniform(-0.008, 0.008), lon + rng.uniform(-0.012, 0.012)


def add_providers(
    session: Session,
    rng: random.Random,
    agencies: dict[str, tuple[Agency, list[str]]],
    per_agency: int,
) -> int:
    password_hash = PasswordHasher().hash(DEMO_PROVIDER_PASSWORD)
    today = dt.date.today()
    slugs = list(agencies)
    n = 0
    for slug, (agency, outcodes) in agencies.items():
        for _ in range(per_agency):
            n += 1
            outcode = rng.choice(outcodes)
            lat, lon = _jitter(rng, outcode)
            user = User(
                id=new_id("usr"),
                email=f"provider{n}@demo.example",
                password_hash=password_hash,
                role=Role.PROVIDER,
            )
            sole = rng.random() < 0.7
            windows = _windows(rng) + (_windows(rng) if rng.random() < 0.3 else [])
            mask = windows_to_mask(windows, "weekly_availability")
            locality, basis = locality_of(outcode, "bristol")
            provider = Provider(
                id=new_id("prv"),
                user_id=user.id,
                trading_name=f"{rng.choice(FIRST_NAMES)}'s {rng.choice(TRADES)}",
                organisation_type=OrganisationType.SOLE_TRADER
                if sole
                else rng.choice(
                    [
                        OrganisationType.COMMUNITY_GROUP,
                        OrganisationType.CIC,
                        OrganisationType.CHARITY,
                    ]
                ),
                size=SupplierSize.SOLE_TRADER if sole else SupplierSize.MICRO,
                sector=Sector.PRIVATE
                if sole
                else rng.choice([Sector.VCSE, Sector.SOCIAL_ENTERPRISE]),
                base_outcode=outcode,
                lat=lat,
                lon=lon,
                locality=locality,
                locality_basis=basis,
                travel_radius_km=rng.choice([2.0, 3.0, 5.0, 5.0, 8.0]),
                languages=["en"] + [code for code, p in LANGUAGES if rng.random() < p],
                skills=[],
                gender=rng.choice(["female", "female", "male", None]),
                bio="Local, friendly support from someone in your neighbourhood.",
                capacity_hours_per_week=float(rng.choice([8, 12, 16, 20, 25, 30])),
                weekly_availability=windows,
                availability_mask=mask_to_hex(mask),
            )
            offered = [s for s, share in SERVICE_MIX if rng.random() < share] or ["companionship"]
            provider.services = [
                ProviderService(service_key=s, rate_pence=rng.randrange(1500, 2850, 50))
                for s in offered
            ]
            provider.compliance_items = _compliance(rng, today, n, "personal_care" in offered)
            session.add_all([user, provider])
            listed = [slug] + ([rng.choice(slugs)] if rng.random() < 0.08 else [])
            for listed_slug in dict.fromkeys(listed):
                listed_agency = agencies[listed_slug][0]
                status = rng.choices(
                    [ListingStatus.APPROVED, ListingStatus.APPLIED, ListingStatus.SUSPENDED],
                    [0.85, 0.11, 0.04],
                )[0]
                session.add(
                    ProviderListing(
                        id=new_id("lst"),
                        provider_id=provider.id,
                        agency_id=listed_agency.id,
                        council_id=listed_agency.council_id,
                        status=status,
                        reason=None if status is ListingStatus.APPROVED else "demo",
                    )
                )
            if rng.random() < 0.6:
                session.add(
                    IsfApproval(
                        id=new_id("isa"),
                        provider_id=provider.id,
                        council_id=agency.council_id,
                        approved=True,
                        recorded_by=user.id,
                        reason="demo: council ISF panel",
                    )
                )
    return n


def _compliance(
    rng: random.Random, today: dt.date, n: int, regulated: bool
) -> list[ComplianceItem]:
    roll = rng.random()
    # ~5 % expired, ~10 % expiring within 30 days: the manager's dashboard has work to do.
    expiry = (
        today - dt.timedelta(days=rng.randint(1, 60))
        if roll < 0.05
        else today + dt.timedelta(days=rng.randint(1, 30))
        if roll < 0.15
        else today + dt.timedelta(days=rng.randint(60, 700))
    )
    kinds = [ComplianceKind.DBS, ComplianceKind.INSURANCE, ComplianceKind.TRAINING]
    if regulated:
        kinds.append(ComplianceKind.CQC_REGISTRATION)
    return [
        ComplianceItem(
            id=new_id("cmp"),
            kind=kind,
            level="enhanced" if kind is ComplianceKind.DBS else None,
            evidence_reference=f"DEMO-{kind.value.upper()}-{n:04d}",
            issued_on=today - dt.timedelta(days=300),
            expires_on=None if kind is ComplianceKind.CQC_REGISTRATION else expiry,
            status=ComplianceStatus.VERIFIED,
        )
        for kind in kinds
    ]


def add_seekers(
    session: Session,
    rng: random.Random,
    partner: PartnerClient,
    agencies: dict[str, tuple[Agency, list[str]]],
    count: int,
    locate,  # type: ignore[no-untyped-def]
) -> list[CareRequest]:
    """Seekers with one care request each; routed through the same postcode lookup as the API."""
    today = dt.date.today()
    covered = [o for _, outcodes in agencies.values() for o in outcodes]
    requests = []
    for n in range(1, count + 1):
        outcode = rng.choice(UNCOVERED) if rng.random() < 0.12 else rng.choice(covered)
        seeker = CareSeeker(
            id=new_id("skr"),
            partner_client_id=partner.id,
            reference=f"DEMO-{n:04d}",
            display_name=f"Demo seeker {n}",
            outcode=outcode,
            sector=None,
        )
        seeker.consents = [
            Consent(
                id=new_id("cns"),
                terms_version="2026-01",
                purposes=["introductions", "share_with_providers", "isf_administration"],
                given_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=rng.randint(1, 90)),
            )
        ]
        place = locate(outcode)
        days, start, end = rng.choice(SHAPES[:5])
        chosen = rng.sample(list(days), k=min(len(days), rng.choice([1, 2, 3])))
        windows = [{"weekday": d, "start": start, "end": end} for d in sorted(chosen)]
        slot_hours = len(windows) * (int(end[:2]) - int(start[:2]))
        hours = min(slot_hours, rng.choice([1, 2, 2, 3, 4, 6]))
        services = rng.sample(
            [
                "companionship",
                "shopping_errands",
                "meal_preparation",
                "domestic_help",
                "getting_out",
            ],
            k=rng.choice([1, 1, 2]),
        )
        if rng.random() < 0.08:
            services = ["personal_care"]
        request = CareRequest(
            id=new_id("req"),
            seeker_id=seeker.id,
            partner_client_id=partner.id,
            council_id=place.council_id,
            agency_id=place.agency_id,
            neighbourhood_id=place.neighbourhood_id,
            outcode=place.outcode,
            sector=None,
            lat=place.lat,
            lon=place.lon,
            services=services,
            minutes_per_week=hours * 60,
            windows=windows,
            windows_mask=mask_to_hex(windows_to_mask(windows, "windows")),
            allow_split=rng.random() < 0.2,
            start_date=today + dt.timedelta(days=rng.randint(3, 30)),
            urgency=rng.choices(list(Urgency), [0.7, 0.2, 0.1])[0],
            funding=rng.choices(list(Funding), [0.3, 0.3, 0.4])[0],
            max_rate_pence=rng.choice([None, 2400, 2600, 2800]),
            ranked_generation=0,  # no match job of its own: the re-match the demo queues ranks it
            preferences={
                "languages": [],
                "language_required": False,
                "gender": None,
                "gender_required": False,
                "known_provider_ids": [],
            },
        )
        session.add_all([seeker, request])
        requests.append(request)
    return requests
