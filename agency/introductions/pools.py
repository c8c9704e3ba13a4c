"""From database rows to the matcher's plain data: provider pools and request specs.

Jobs and reads take an agency's pool from :func:`build_pool`, which serves the arrays
kept per agency by ``agency.introductions.pool_cache`` (narrow Core queries, rebuilt only
when a provider change bumps the agency's generation). :class:`PoolLoader` builds the
same pool from ORM objects (providers with their services, compliance items, listings,
ISF approvals and time off via ``selectinload``); it stays as the reference the cached
arrays are tested and benchmarked against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

import matching
from agency.dates import london_today as london_today
from agency.directory.models import Agency, ServiceType
from agency.introductions.models import Arrangement, ArrangementStatus, ArrangementVersion
from agency.introductions.pool_cache import AgencyPools
from agency.providers.compliance import compliance_valid_until, cqc_registered
from agency.providers.models import ListingStatus, Provider, ProviderListing
from agency.schedule import mask_from_hex
from agency.seekers.models import CareRequest, Funding, Urgency
from agency.visits.feedback import agency_ratings


def regulated_services(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(ServiceType.key).where(ServiceType.regulated)))


def committed_hours(session: Session, provider_ids: Iterable[str]) -> dict[str, float]:
    """Weekly hours each provider already gives in active or paused arrangements."""
    ids = list(provider_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Arrangement.provider_id, func.sum(ArrangementVersion.minutes_per_week))
        .join(
            ArrangementVersion,
            (ArrangementVersion.arrangement_id == Arrangement.id)
            & (ArrangementVersion.version == Arrangement.current_version),
        )
        .where(
            Arrangement.provider_id.in_(ids),
            Arrangement.status.in_([ArrangementStatus.ACTIVE, ArrangementStatus.PAUSED]),
        )
        .group_by(Arrangement.provider_id)
    )
    return {provider_id: (minutes or 0) / 60 for provider_id, minutes in rows}


def load_providers(session: Session, agency_id: str) -> list[Provider]:
    """Every provider with a listing at the agency (the engine checks approval itself)."""
    return list(
        session.scalars(
            select(Provider)
            .join(ProviderListing, ProviderListing.provider_id == Provider.id)
            .where(ProviderListing.agency_id == agency_id)
            .options(
                selectinload(Provider.services),
                selectinload(Provider.compliance_items),
                selectinload(Provider.listings),
                selectinload(Provider.isf_approvals),
                selectinload(Provider.exceptions),
            )
            .order_by(Provider.id)
        ).unique()
    )


def provider_record(
    provider: Provider,
    committed: float,
    on: dt.date,
    regulated: Collection[str] | None = None,
    today: dt.date | None = None,
    rating: float | None = None,
) -> matching.ProviderRecord:
    """The matcher's view of one provider for work starting ``on``.

    Compliance follows the providers domain's rule (agency.providers.compliance): the
    earliest expiry of the required verified items, as known ``today``.
    """
    today = today or london_today()
    away = any(e.starts_on <= on <= e.ends_on for e in provider.exceptions)
    return matching.ProviderRecord(
        provider_id=provider.id,
        lat=provider.lat,
        lon=provider.lon,
        travel_radius_km=provider.travel_radius_km,
        rates_pence={s.service_key: s.rate_pence for s in provider.services},
        # Time off on the start date: nothing can start then, so no availability counts.
        availability=matching.availability.empty_mask()
        if away
        else mask_from_hex(provider.availability_mask),
        cqc_registered=cqc_registered(provider, on),
        approved_agencies=frozenset(
            listing.agency_id
            for listing in provider.listings
            if listing.status is ListingStatus.APPROVED
        ),
        suspended=any(listing.status is ListingStatus.SUSPENDED for listing in provider.listings),
        compliance_valid_until=compliance_valid_until(provider, today, regulated),
        isf_approved_councils=frozenset(a.council_id for a in provider.isf_approvals if a.approved),
        capacity_hours_per_week=provider.capacity_hours_per_week,
        committed_hours=committed,
        gender=provider.gender,
        languages=frozenset(provider.languages or ()),
        rating=rating,
    )


class PoolLoader:
    """Loads an agency's providers once; builds the pool as of any date from them.

    Only time off and CQC expiry depend on the date, so a job matching many requests
    with different start dates queries the database once, not once per date.
    """

    def __init__(self, session: Session, agency_id: str) -> None:
        self.providers = load_providers(session, agency_id)
        self.committed = committed_hours(session, (p.id for p in self.providers))
        self.regulated = regulated_services(session)
        self.ratings, self.mean_rating = agency_ratings(session, agency_id)
        self._pools: dict[dt.date, matching.ProviderPool] = {}

    def pool(self, on: dt.date) -> matching.ProviderPool:
        if on not in self._pools:
            today = london_today()
            records = [
                provider_record(
                    p,
                    self.committed.get(p.id, 0.0),
                    on,
                    self.regulated,
                    today,
                    self.ratings.get(p.id, self.mean_rating),
                )
                for p in self.providers
            ]
            self._pools[on] = matching.ProviderPool.build(
                records, regulated_services=self.regulated
            )
        return self._pools[on]


def build_pool(session: Session, agency_id: str, on: dt.date) -> matching.ProviderPool:
    """The agency's pool for work starting ``on``, from the stored arrays (pool_cache)."""

    return AgencyPools(session, agency_id, london_today()).pool(on)


def build_pool_from_objects(session: Session, agency_id: str, on: dt.date) -> matching.ProviderPool:
    """The same pool built from ORM objects: the reference the stored arrays are tested
    and benchmarked against (slow: tens of thousands of objects at a council's scale)."""
    return PoolLoader(session, agency_id).pool(on)


def request_spec(care_request: CareRequest) -> matching.CareRequestSpec:
    prefs = care_request.preferences or {}
    languages = frozenset(str(x) for x in prefs.get("languages") or [])  # type: ignore[attr-defined]
    gender = prefs.get("gender")
    return matching.CareRequestSpec(
        request_id=care_request.id,
        services=tuple(care_request.services),
        hours_per_week=care_request.minutes_per_week / 60,
        lat=care_request.lat,
        lon=care_request.lon,
        agency=care_request.agency_id or "",
        start_date=care_request.start_date,
        windows=mask_from_hex(care_request.windows_mask),
        # Splitting allowed: a provider covering half of the windows still qualifies.
        min_window_share=0.5 if care_request.allow_split else 1.0,
        council=care_request.council_id,
        isf_funded=care_request.funding is Funding.ISF,
        max_rate_pence=care_request.max_rate_pence,
        required_gender=str(gender) if gender and prefs.get("gender_required") else None,
        required_languages=languages if prefs.get("language_required") else frozenset(),
        preferred_gender=str(gender) if gender and not prefs.get("gender_required") else None,
        preferred_languages=frozenset() if prefs.get("language_required") else languages,
        known_provider_ids=frozenset(str(x) for x in prefs.get("known_provider_ids") or []),  # type: ignore[attr-defined]
        urgency=Urgency(care_request.urgency).value,  # type: ignore[arg-type]
    )


def agency_weights(agency: Agency | None) -> matching.Weights:
    return _weights((agency.matching_weights if agency else None) or {})


def agency_weights_of(session: Session, agency_id: str | None) -> matching.Weights:
    """:func:`agency_weights` of the agency ``agency_id``, reading only its weights column."""
    overrides = (
        session.scalar(select(Agency.matching_weights).where(Agency.id == agency_id))
        if agency_id
        else None
    )
    return _weights(overrides or {})


def _weights(overrides: dict[str, Any]) -> matching.Weights:
    known = {f for f in matching.Weights.__dataclass_fields__}
    return matching.Weights(**{k: float(v) for k, v in overrides.items() if k in known})
