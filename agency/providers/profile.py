"""A micro-provider's own record: registration, profile, services and rates, availability."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.access import Principal
from agency.accounts.models import Role, User
from agency.accounts.registration import request_registration, take_pending
from agency.directory import places
from agency.directory.models import Council, ServiceType
from agency.errors import InvalidInput, NotFound
from agency.ids import new_id
from agency.mail import Mailer
from agency.providers import compliance
from agency.providers.models import (
    AvailabilityException,
    Provider,
    ProviderListing,
    ProviderService,
)
from agency.providers.schemas import ProviderProfileSchema
from agency.providers.service import (
    CqcRegistrationRequired,
    EmailTaken,
    london_today,
    provider_for_owner,
)
from agency.schedule import mask_to_hex, mask_to_windows, windows_to_mask
from agency.unit_of_work import unit_of_work

# Council area used for local-spend placement until the provider applies to an agency
# whose council names its boundary (Bristol is the programme's home).
DEFAULT_COUNCIL_AREA = "bristol"

PROFILE_FIELDS = (
    "trading_name",
    "organisation_type",
    "size",
    "sector",
    "travel_radius_km",
    "capacity_hours_per_week",
    "languages",
    "skills",
    "gender",
    "bio",
)


def request_provider_registration(
    session: Session,
    mailer: Mailer,
    *,
    email: str,
    password: str,
    base_postcode: str,
    profile: Mapping[str, Any],
) -> dt.datetime:
    """Ask to register: the same answer whether or not the email has an account.

    A confirmation code is mailed to a new address (``confirm_provider_registration``
    creates the account); a taken one is told it already has an account. Only the
    postcode is kept as its outcode and location, as for a registered provider.
    """
    outcode, _sector, lat, lon = places.parse(base_postcode, "base_postcode")
    payload = {
        "base": {"outcode": outcode, "lat": lat, "lon": lon},
        "profile": json.loads(json.dumps(dict(profile), default=str)),
    }
    return request_registration(
        session,
        mailer,
        email=email,
        password=password,
        role=Role.PROVIDER,
        payload=payload,
        names=[str(profile.get("trading_name") or "")],
    )


def confirm_provider_registration(session: Session, token: str) -> Provider:
    """Create the provider's user (its argon2 hash from the request) and profile."""

    # Two confirmations for one email racing past the check below: the second is refused.
    with unit_of_work(session, integrity_error=EmailTaken) as uow:
        pending = take_pending(session, token)
        if pending.role is not Role.PROVIDER:
            raise NotFound("This confirmation code is unknown, used or expired; register again.")
        if session.scalar(select(User.id).where(User.email == pending.email)):
            raise EmailTaken()  # registered meanwhile; only the mailbox's reader holds the code
        user = User(
            id=new_id("usr"),
            email=pending.email,
            password_hash=pending.password_hash,
            role=Role.PROVIDER,
        )
        session.add(user)
        base = pending.payload["base"]
        profile = ProviderProfileSchema(exclude=("base_postcode",)).load(pending.payload["profile"])
        locality, basis = places.locality_of(base["outcode"], DEFAULT_COUNCIL_AREA)
        provider = Provider(
            id=new_id("prv"),
            user_id=user.id,
            base_outcode=base["outcode"],
            lat=base["lat"],
            lon=base["lon"],
            locality=locality,
            locality_basis=basis,
            languages=[],
            skills=[],
            weekly_availability=[],
            availability_mask=mask_to_hex(windows_to_mask([], "weekly")),
        )
        _apply_profile(provider, profile)
        session.add(provider)
        uow.commit()
    return provider


def update_provider(
    session: Session, principal: Principal, provider_id: str, changes: Mapping[str, Any]
) -> Provider:
    """Change the profile; a new base postcode moves the provider and its locality."""
    provider = provider_for_owner(session, principal, provider_id)
    with unit_of_work(session) as uow:
        _apply_profile(provider, changes)
        if "base_postcode" in changes:
            outcode, _sector, lat, lon = places.parse(changes["base_postcode"], "base_postcode")
            provider.base_outcode, provider.lat, provider.lon = outcode, lat, lon
            relocate(session, provider)
        uow.commit()
    return provider


def relocate(session: Session, provider: Provider) -> None:
    """Place the provider in the local-spend circles of its first agency's council area."""
    area = session.scalar(
        select(Council.area_key)
        .join(ProviderListing, ProviderListing.council_id == Council.id)
        .where(ProviderListing.provider_id == provider.id, Council.area_key.is_not(None))
        .order_by(ProviderListing.created_at, ProviderListing.id)
        .limit(1)
    )
    provider.locality, provider.locality_basis = places.locality_of(
        provider.base_outcode, area or DEFAULT_COUNCIL_AREA
    )


def _apply_profile(provider: Provider, values: Mapping[str, Any]) -> None:
    for name in PROFILE_FIELDS:
        if name in values:
            setattr(provider, name, values[name])


# --- services and rates ----------------------------------------------------------------------


def set_services(
    session: Session,
    principal: Principal,
    provider_id: str,
    services: Sequence[Mapping[str, Any]],
    today: dt.date | None = None,
) -> Provider:
    """Replace the provider's services and hourly rates (the full list).

    Personal care is a CQC-regulated activity (Health and Social Care Act 2008
    (Regulated Activities) Regulations 2014): only a provider with a verified,
    in-date CQC registration may offer a regulated service.
    """
    provider = provider_for_owner(session, principal, provider_id)
    keys = [s["service_key"] for s in services]
    if len(set(keys)) != len(keys):
        raise InvalidInput(errors={"services": ["Each service may appear only once."]})
    types = {
        t.key: t for t in session.scalars(select(ServiceType).where(ServiceType.key.in_(keys)))
    }
    unknown = sorted(set(keys) - set(types))
    if unknown:
        raise InvalidInput(errors={"services": [f"Unknown service: {', '.join(unknown)}."]})
    regulated = sorted(k for k in keys if types[k].regulated)
    if regulated and not compliance.cqc_registered(provider, today or london_today()):
        raise CqcRegistrationRequired(
            f"Offering {', '.join(regulated)} needs a verified, in-date CQC registration: "
            "add a cqc_registration compliance item and have an agency verify it.",
            errors={"services": [f"{k} is a CQC-regulated service." for k in regulated]},
        )
    with unit_of_work(session) as uow:
        current = {s.service_key: s for s in provider.services}
        provider.services = [
            _service_row(current.get(s["service_key"]), s["service_key"], s["rate_pence"])
            for s in services
        ]
        uow.commit()
    return provider


def _service_row(existing: ProviderService | None, key: str, rate_pence: int) -> ProviderService:
    if existing is None:
        return ProviderService(service_key=key, rate_pence=rate_pence)
    existing.rate_pence = rate_pence
    return existing


# --- availability ----------------------------------------------------------------------------


def set_availability(
    session: Session, principal: Principal, provider_id: str, weekly: Sequence[Mapping[str, Any]]
) -> Provider:
    """Replace the weekly pattern (Europe/London wall time, 30-minute boundaries)."""
    provider = provider_for_owner(session, principal, provider_id)
    mask = windows_to_mask(weekly, "weekly")
    with unit_of_work(session) as uow:
        # Stored in canonical form: overlapping or touching windows merged, sorted by day.
        provider.weekly_availability = mask_to_windows(mask)
        provider.availability_mask = mask_to_hex(mask)
        uow.commit()
    return provider


def add_exception(
    session: Session,
    principal: Principal,
    provider_id: str,
    *,
    starts_on: dt.date,
    ends_on: dt.date,
    reason: str,
) -> AvailabilityException:
    """Dated time off: no new work starts between ``starts_on`` and ``ends_on`` inclusive."""
    provider = provider_for_owner(session, principal, provider_id)
    if ends_on < starts_on:
        raise InvalidInput(errors={"ends_on": ["Must be on or after starts_on."]})
    exception = AvailabilityException(
        id=new_id("off"), starts_on=starts_on, ends_on=ends_on, reason=reason
    )
    with unit_of_work(session) as uow:
        provider.exceptions.append(exception)
        uow.commit()
    return exception


def delete_exception(
    session: Session, principal: Principal, provider_id: str, exception_id: str
) -> None:
    provider = provider_for_owner(session, principal, provider_id)
    exception = next((e for e in provider.exceptions if e.id == exception_id), None)
    if exception is None:
        raise NotFound(f"No availability exception with id {exception_id}.")
    with unit_of_work(session) as uow:
        provider.exceptions.remove(exception)
        uow.commit()
