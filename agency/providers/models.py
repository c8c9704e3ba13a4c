"""Micro-providers: profile, services and rates, availability, compliance, vetting, ISF approval."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.access import Scope
from agency.db import Base, IdMixin, TimestampMixin, str_enum, utcnow
from agency.directory.models import Locality, Sector, SupplierSize
from agency.state_machine import StateMachine


class OrganisationType(enum.StrEnum):
    SOLE_TRADER = "sole_trader"
    PARTNERSHIP = "partnership"
    COMMUNITY_GROUP = "community_group"
    CHARITY = "charity"
    CIC = "cic"
    COMPANY = "company"


# Open Referral UK publishes a provider as a service with a UUID (agency.oruk): a UUIDv5 of
# our id, stored so that the feed's item endpoints can look it up.
ORUK_NAMESPACE = uuid.UUID("6f1c1c56-6a43-4c0e-9a55-7f0e0ad1b1a7")


def oruk_uuid(kind: str, our_id: str) -> str:
    """The stable UUIDv5 that Open Referral UK publishes for one of our records."""
    return str(uuid.uuid5(ORUK_NAMESPACE, f"{kind}/{our_id}"))


def _service_uuid(context: Any) -> str:
    return oruk_uuid("service", context.get_current_parameters()["id"])


def _organization_uuid(context: Any) -> str:
    return oruk_uuid("organization", context.get_current_parameters()["id"])


class Provider(IdMixin, TimestampMixin, Base):
    __tablename__ = "providers"
    __table_args__ = (
        Index("ix_providers_lat_lon", "lat", "lon"),  # distance filters' box
        # The public directory's and ORUK's order: a page reads 20 rows of it, not a sort.
        Index("ix_providers_trading_name_id", "trading_name", "id"),
    )
    __label__ = "provider"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), unique=True)
    trading_name: Mapped[str] = mapped_column(String(200))
    organisation_type: Mapped[OrganisationType] = mapped_column(str_enum(OrganisationType))
    size: Mapped[SupplierSize] = mapped_column(str_enum(SupplierSize))
    sector: Mapped[Sector] = mapped_column(str_enum(Sector))
    base_outcode: Mapped[str] = mapped_column(String(8), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    # How the provider was placed for local-spend reports ("boundary" = point in polygon).
    locality: Mapped[Locality] = mapped_column(str_enum(Locality))
    locality_basis: Mapped[str] = mapped_column(String(200))
    travel_radius_km: Mapped[float] = mapped_column(default=5.0)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    gender: Mapped[str | None] = mapped_column(String(20))
    bio: Mapped[str | None] = mapped_column(Text)
    capacity_hours_per_week: Mapped[float] = mapped_column(default=0.0)
    # Weekly pattern [{"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}] (Europe/London wall
    # time) and its 336-slot bitmask (6 words) as hex, which the matcher reads directly.
    weekly_availability: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    availability_mask: Mapped[str] = mapped_column(String(96), default="0" * 96)
    cqc_registration_number: Mapped[str | None] = mapped_column(String(20))
    oruk_id: Mapped[str] = mapped_column(String(36), unique=True, index=True, default=_service_uuid)
    # The organisation the feed publishes the provider under (its services' organization_id).
    oruk_organization_id: Mapped[str] = mapped_column(
        String(36), unique=True, index=True, default=_organization_uuid
    )

    services: Mapped[list[ProviderService]] = relationship(
        cascade="all, delete-orphan", order_by="ProviderService.service_key"
    )
    compliance_items: Mapped[list[ComplianceItem]] = relationship(
        cascade="all, delete-orphan", order_by="ComplianceItem.kind"
    )
    listings: Mapped[list[ProviderListing]] = relationship(back_populates="provider")
    isf_approvals: Mapped[list[IsfApproval]] = relationship()
    exceptions: Mapped[list[AvailabilityException]] = relationship(
        cascade="all, delete-orphan", order_by="AvailabilityException.starts_on"
    )

    def access_scope(self) -> Scope:
        """The provider itself, the agencies it applied to, and those agencies' councils."""
        return Scope.of(
            agency_ids=[listing.agency_id for listing in self.listings],
            council_ids=[listing.council_id for listing in self.listings],
            provider_id=self.id,
        )


class ProviderService(Base):
    __tablename__ = "provider_services"

    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), primary_key=True)
    service_key: Mapped[str] = mapped_column(ForeignKey("service_types.key"), primary_key=True)
    rate_pence: Mapped[int]


class AvailabilityException(IdMixin, Base):
    """Dated time off (holiday, sickness): no new work starts in it."""

    __tablename__ = "availability_exceptions"

    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))


class ComplianceKind(enum.StrEnum):
    DBS = "dbs"
    INSURANCE = "insurance"
    TRAINING = "training"
    CQC_REGISTRATION = "cqc_registration"


class ComplianceStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class ComplianceItem(IdMixin, TimestampMixin, Base):
    """A DBS check, insurance policy, training record or CQC registration, with its evidence."""

    __tablename__ = "compliance_items"

    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    kind: Mapped[ComplianceKind] = mapped_column(str_enum(ComplianceKind))
    title: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str | None] = mapped_column(String(40))  # DBS: basic/standard/enhanced
    evidence_reference: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    status: Mapped[ComplianceStatus] = mapped_column(
        str_enum(ComplianceStatus), default=ComplianceStatus.PENDING
    )
    verified_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[dt.datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)


class ListingStatus(enum.StrEnum):
    APPLIED = "applied"
    MORE_INFO_REQUESTED = "more_info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


_L = ListingStatus
# Named moves: "resubmit" is the provider's; the rest are the agency manager's decisions.
# Rejected is final: a new start needs a new agency. Moves go through agency.providers.vetting.
LISTING_STATES = StateMachine(
    {
        _L.APPLIED: {
            "approve": _L.APPROVED,
            "request_info": _L.MORE_INFO_REQUESTED,
            "reject": _L.REJECTED,
        },
        _L.MORE_INFO_REQUESTED: {
            "resubmit": _L.APPLIED,
            "approve": _L.APPROVED,
            "reject": _L.REJECTED,
        },
        _L.APPROVED: {"suspend": _L.SUSPENDED},
        _L.SUSPENDED: {"reinstate": _L.APPROVED, "reject": _L.REJECTED},
        _L.REJECTED: {},
    }
)


class ProviderListing(IdMixin, TimestampMixin, Base):
    """A provider's application to (and standing with) one agency: the vetting record."""

    __tablename__ = "provider_listings"
    __table_args__ = (UniqueConstraint("provider_id", "agency_id"),)
    __label__ = "listing"

    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str] = mapped_column(ForeignKey("councils.id"))
    status: Mapped[ListingStatus] = mapped_column(
        str_enum(ListingStatus), default=ListingStatus.APPLIED, index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]

    provider: Mapped[Provider] = relationship(back_populates="listings")
    decisions: Mapped[list[VettingDecision]] = relationship(order_by="VettingDecision.created_at")

    def access_scope(self) -> Scope:
        return Scope.of(
            agency_ids=[self.agency_id], council_ids=[self.council_id], provider_id=self.provider_id
        )


class VettingDecision(IdMixin, Base):
    """Every vetting move, append-only: who decided what, when and why."""

    __tablename__ = "vetting_decisions"

    listing_id: Mapped[str] = mapped_column(ForeignKey("provider_listings.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IsfApproval(IdMixin, TimestampMixin, Base):
    """A council's ISF approved provider status, granted by the council's own process."""

    __tablename__ = "isf_approvals"
    __table_args__ = (UniqueConstraint("provider_id", "council_id"),)

    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    council_id: Mapped[str] = mapped_column(ForeignKey("councils.id"), index=True)
    approved: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
