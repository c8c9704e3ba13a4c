"""One row per state change, chained by hash so that an edited or removed row is detectable.

Rows are never updated or deleted by the application; on PostgreSQL a trigger
(migration 0004introductions) refuses UPDATE and DELETE outright.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from agency.access import Scope
from agency.db import Base, IdMixin


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_entries"
    __label__ = "audit entry"

    # Position in the chain: 1, 2, 3... unique, so two writers cannot both append entry n.
    sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[dt.datetime]
    principal_kind: Mapped[str] = mapped_column(String(20))  # a Kind value, or "system"
    principal_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40), index=True)
    agency_id: Mapped[str | None] = mapped_column(String(40), index=True)
    council_id: Mapped[str | None] = mapped_column(String(40), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def access_scope(self) -> Scope:
        return Scope.of(agency_ids=[self.agency_id], council_ids=[self.council_id])


class AuditChainKeying(Base):
    """Where the keyed (HMAC) chain starts: entries before it were hashed with plain SHA-256.

    Written once by migration 0011security for a database that already had entries; no row
    means the whole chain is keyed. Checkpoints repeat the value, so raising it to pass off
    re-hashed entries as "legacy" is caught by ``verify-audit``.
    """

    __tablename__ = "audit_chain_keying"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    keyed_from_sequence: Mapped[int] = mapped_column(BigInteger)
