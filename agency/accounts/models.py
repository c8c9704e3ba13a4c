"""Who can call the API: users (with tokens) and partner clients (with API keys).

Secrets are never stored: passwords as argon2 hashes, API keys and tokens as
SHA-256 digests (they are 256-bit random values, so a fast hash is safe and
lets every request look them up by digest).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.db import Base, IdMixin, TimestampMixin, str_enum, utcnow


class Role(enum.StrEnum):
    PROVIDER = "provider"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMIN = "admin"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    council_id: Mapped[str | None] = mapped_column(ForeignKey("councils.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[dt.datetime | None]


class PartnerClient(IdMixin, TimestampMixin, Base):
    """A partner front end that care seekers use; it owns the seekers it registers."""

    __tablename__ = "partner_clients"

    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="partner_client")


class ApiKey(IdMixin, Base):
    __tablename__ = "api_keys"

    partner_client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(20), index=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    partner_client: Mapped[PartnerClient] = relationship(back_populates="api_keys")


class AuthToken(IdMixin, Base):
    """One sign-in: a short-lived access token and a longer refresh token, rotated together.

    Every pair rotated from one sign-in shares its ``family_id`` (the first pair's id), so
    the reuse of an already-rotated refresh token (a stolen copy) can revoke them all.
    """

    __tablename__ = "auth_tokens"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    family_id: Mapped[str] = mapped_column(String(40), index=True)
    access_digest: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_digest: Mapped[str] = mapped_column(String(64), unique=True)
    access_expires_at: Mapped[dt.datetime]
    refresh_expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class PendingRegistration(IdMixin, Base):
    """A self-registration waiting for its email address to be confirmed.

    Registration answers the same whether or not the address has an account (no
    enumeration oracle); the account exists only once someone who reads that mailbox
    sends back the token mailed to it. Rows expire within a day and are then deleted.
    """

    __tablename__ = "pending_registrations"

    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
