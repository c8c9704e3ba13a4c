"""Places and what is brokered there: councils, agencies, neighbourhoods, service types."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.access import Kind, Principal, Scope
from agency.db import Base, IdMixin, TimestampMixin, str_enum


class Locality(enum.StrEnum):
    """Concentric local-spend circles a council reports on."""

    COUNCIL_AREA = "council_area"
    COMBINED_AUTHORITY = "combined_authority"
    REGION = "region"
    NATIONAL = "national"


class SupplierSize(enum.StrEnum):
    SOLE_TRADER = "sole_trader"
    MICRO = "micro"
    SMALL = "small"
    LARGER = "larger"


class Sector(enum.StrEnum):
    VCSE = "vcse"
    SOCIAL_ENTERPRISE = "social_enterprise"
    PRIVATE = "private"


class Council(IdMixin, TimestampMixin, Base):
    """A local authority that funds ISFs and audits its agencies (e.g. Bristol City Council)."""

    __tablename__ = "councils"
    __label__ = "council"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # Which shipped boundary is this council's area ("bristol"...): see matching.geo.
    area_key: Mapped[str | None] = mapped_column(String(60))

    agencies: Mapped[list[Agency]] = relationship(back_populates="council")

    def access_scope(self) -> Scope:
        return Scope.of(council_ids=[self.id])

    @classmethod
    def visibility(cls, principal: Principal) -> Any:
        """Listed to its auditors and to the managers of its agencies (agency.access.visible_to)."""
        if principal.kind is Kind.MANAGER:
            own = select(Agency.council_id).where(Agency.id == principal.agency_id)
            return cls.id.in_(own.scalar_subquery())
        if principal.kind is Kind.AUDITOR:
            return cls.id == principal.council_id
        return false()


class Agency(IdMixin, TimestampMixin, Base):
    """A community anchor organisation running an introductory agency."""

    __tablename__ = "agencies"
    __label__ = "agency"

    council_id: Mapped[str] = mapped_column(ForeignKey("councils.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    base_outcode: Mapped[str | None] = mapped_column(String(8))
    locality: Mapped[Locality | None] = mapped_column(str_enum(Locality))
    size: Mapped[SupplierSize | None] = mapped_column(str_enum(SupplierSize))
    sector: Mapped[Sector | None] = mapped_column(str_enum(Sector))
    # Per-agency matching weights (matching.Weights field -> value); empty = defaults.
    matching_weights: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)

    council: Mapped[Council] = relationship(back_populates="agencies")
    neighbourhoods: Mapped[list[Neighbourhood]] = relationship(back_populates="agency")

    def access_scope(self) -> Scope:
        return Scope.of(council_ids=[self.council_id], agency_ids=[self.id])


class Neighbourhood(IdMixin, Base):
    """A named area made of whole outcodes, covered by one agency or (unmet need) by none."""

    __tablename__ = "neighbourhoods"
    __label__ = "neighbourhood"

    council_id: Mapped[str] = mapped_column(ForeignKey("councils.id"), index=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    agency: Mapped[Agency | None] = relationship(back_populates="neighbourhoods")
    outcodes: Mapped[list[NeighbourhoodOutcode]] = relationship(
        cascade="all, delete-orphan", order_by="NeighbourhoodOutcode.outcode"
    )


class NeighbourhoodOutcode(Base):
    __tablename__ = "neighbourhood_outcodes"
    __table_args__ = (UniqueConstraint("neighbourhood_id", "outcode"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    neighbourhood_id: Mapped[str] = mapped_column(ForeignKey("neighbourhoods.id"), index=True)
    outcode: Mapped[str] = mapped_column(String(8), index=True)


class ServiceType(Base):
    """The taxonomy of support an introductory agency brokers (reference data, seeded)."""

    __tablename__ = "service_types"
    __label__ = "service type"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    # Personal care is a CQC-regulated activity: only a registered provider may offer it.
    regulated: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
