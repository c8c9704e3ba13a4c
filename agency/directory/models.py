"""Councils and the introductory agencies they commission."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.db import Base, IdMixin, TimestampMixin


class Council(IdMixin, TimestampMixin, Base):
    """A local authority that funds ISFs and audits its agencies (e.g. Bristol City Council)."""

    __tablename__ = "councils"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)

    agencies: Mapped[list[Agency]] = relationship(back_populates="council")


class Agency(IdMixin, TimestampMixin, Base):
    """A community anchor organisation running an introductory agency."""

    __tablename__ = "agencies"

    council_id: Mapped[str] = mapped_column(ForeignKey("councils.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)

    council: Mapped[Council] = relationship(back_populates="agencies")
