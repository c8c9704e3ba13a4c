"""Micro-providers: sole traders, micro-enterprises and small community groups."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from agency.db import Base, IdMixin, TimestampMixin


class Provider(IdMixin, TimestampMixin, Base):
    __tablename__ = "providers"
    __label__ = "provider"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), unique=True)
    trading_name: Mapped[str] = mapped_column(String(200))
