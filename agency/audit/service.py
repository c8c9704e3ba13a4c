"""Append to the audit chain, read it within a principal's rights, verify it.

Each entry's ``hash`` is an HMAC-SHA-256, under a key that is not in the database
(``AUDIT_KEY``), of the canonical JSON of its fields plus the previous entry's hash:
changing or deleting any row breaks every later link, and someone who can write the
database cannot recompute the links without the key. Entries written before the chain
was keyed (migration 0011security) keep plain SHA-256 links up to ``keyed_from``.
What a key cannot catch (the newest entries deleted, or a re-chaining by someone who
does hold the key) signed checkpoints of the head catch: see ``agency.audit.checkpoints``.
Appends are serialised so the chain stays linear: entries are linked when their
transaction commits; on PostgreSQL a transaction-scoped advisory lock is taken
then, and the last entry read after it in the same round trip (held until commit);
SQLite allows one writer at a time anyway; and the unique ``sequence`` column
refuses a second "entry n" should both ever slip through.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, Table, event, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from agency.access import Kind, Principal, visible_to
from agency.audit.models import AuditChainKeying, AuditEntry
from agency.config import Settings
from agency.db import durable_commit_again, utcnow
from agency.errors import Forbidden
from agency.ids import new_id
from agency.privacy import hash_free_text

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 0x61756469  # "audi": one app-wide key for audit appends


def jsonable(value: Any) -> Any:
    """The value as it will come back from a JSON column (dates as ISO strings, enums as values)."""
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def _canonical(entry: AuditEntry) -> bytes:
    fields = {
        "sequence": entry.sequence,
        "at": entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "principal_kind": entry.principal_kind,
        "principal_id": entry.principal_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "agency_id": entry.agency_id,
        "council_id": entry.council_id,
        "before": entry.before,
        "after": entry.after,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


AUDIT_KEY_INFO = "audit_key"  # session.info key a composition root may set (bytes)


def chain_key(session: Session | None = None) -> bytes:
    """The HMAC key: the session's (set by whoever built it), else the environment's settings."""
    if session is not None and session.info.get(AUDIT_KEY_INFO):
        return session.info[AUDIT_KEY_INFO]
    return Settings.from_env().audit_signing_key


def entry_hash(entry: AuditEntry, key: bytes) -> str:
    """The keyed link: HMAC-SHA-256 of the entry's canonical fields (prev_hash included)."""
    return hmac.new(key, _canonical(entry), hashlib.sha256).hexdigest()


def legacy_entry_hash(entry: AuditEntry) -> str:
    """The unkeyed link of entries written before the chain was keyed (plain SHA-256)."""
    return hashlib.sha256(_canonical(entry)).hexdigest()


def keyed_from(session: Session) -> int:
    """The first sequence linked by HMAC (1, the whole chain, unless migrated from unkeyed)."""
    row = session.get(AuditChainKeying, 1)
    return row.keyed_from_sequence if row else 1


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-ready dict (for ``before`` and ``after``)."""
    return jsonable({name: getattr(obj, name) for name in fields})


def record(
    session: Session,
    principal: Principal | None,
    action: str,
    obj: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    agency_id: str | None = None,
    council_id: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (committed, or rolled back, with it).

    ``principal`` None means the system (a scheduled job). ``obj`` is the changed row: its
    ``id`` and table name are recorded, and its ``agency_id``/``council_id`` (unless given)
    decide who may read the entry. Call it in every service function that changes state.
    The entry gets its place in the chain (``sequence``, ``hash``) when the session commits.
    """
    entry = AuditEntry(
        id=new_id("aud"),
        at=utcnow(),
        principal_kind=principal.kind.value if principal else "system",
        principal_id=principal.id if principal else None,
        action=action,
        object_type=getattr(obj, "__tablename__", type(obj).__name__.lower()),
        object_id=obj.id,
        agency_id=agency_id or getattr(obj, "agency_id", None),
        council_id=council_id or getattr(obj, "council_id", None),
        # Free text goes in as a hash: the trail is append-only, so it could never be erased.
        before=jsonable(hash_free_text(before)) if before is not None else None,
        after=jsonable(hash_free_text(after)) if after is not None else None,
    )
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


_PENDING = "audit_pending"


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    """Link this transaction's entries onto the chain as late as possible, just before commit.

    The lock is taken last, after every row lock the transaction needed, so a transaction
    holding it never waits for another: appends are serialised without deadlocks. The ORM
    flushes after this hook, so what is still unflushed is flushed first (and the entries
    its flush hooks record are linked with the rest).
    """
    if not session.info.get(_PENDING):
        return
    session.flush()
    pending = session.info.pop(_PENDING)
    key = chain_key(session)
    connection = session.connection()
    # Entries are never committed without waiting for the disk: a signed checkpoint could
    # otherwise name an entry a database crash then loses (agency.db).
    durable_commit_again(session, connection)
    sequence, prev_hash = _locked_head(connection)
    rows = []
    for entry in pending:
        sequence += 1
        entry.sequence, entry.prev_hash = sequence, prev_hash
        entry.hash = prev_hash = entry_hash(entry, key)
        rows.append({name: getattr(entry, name) for name in _COLUMNS})
    # A Core insert of the rows (the entries stay plain objects, outside the session):
    # the ORM's flush of them cost more CPU, spent while the lock is held.
    connection.execute(_INSERT, rows)


_TABLE: Table = AuditEntry.__table__  # type: ignore[assignment]
_COLUMNS = tuple(column.key for column in _TABLE.columns)
_INSERT = insert(_TABLE)
_HEAD = "SELECT sequence, hash FROM audit_entries ORDER BY sequence DESC LIMIT 1"
# PostgreSQL: the lock, then the head read in a snapshot taken after it (one round trip;
# in a multi-statement simple query each statement gets its own snapshot under READ
# COMMITTED, so the head read sees the commit of whoever held the lock before).
_LOCK_THEN_HEAD = f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_KEY}); {_HEAD}"


def _locked_head(connection: Connection) -> tuple[int, str]:
    """Take the appenders' lock (PostgreSQL) and read the chain's head: (sequence, hash)."""
    if connection.dialect.name == "postgresql":
        # Through SQLAlchemy (its errors, e.g. a statement timeout, and its events), then the
        # driver's cursor for the second statement's result.
        result = connection.exec_driver_sql(_LOCK_THEN_HEAD)
        try:
            cursor = result.cursor
            cursor.nextset()
            last = cursor.fetchone()
        finally:
            result.close()
    else:
        last = connection.execute(text(_HEAD)).first()
    return (last[0], last[1]) if last else (0, GENESIS_HASH)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


def entries_for(
    principal: Principal, object_id: str | None = None, action: str | None = None
) -> Select[Any]:
    """The entries a principal may read, oldest first (managers: agency; auditors: council)."""
    if principal.kind not in (Kind.MANAGER, Kind.AUDITOR, Kind.ADMIN):
        raise Forbidden("The audit log is for managers, auditors and admins.")
    stmt = select(AuditEntry).where(visible_to(AuditEntry, principal)).order_by(AuditEntry.sequence)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return stmt


@dataclass(frozen=True)
class ChainReport:
    """What a walk found. ``checked`` counts the entries walked, from ``verified_from`` on
    (after the checkpoint a walk resumed from: the entry at its sequence is re-checked, not
    counted); ``unverified`` counts those after the last one walked that a capped walk
    (``limit``) left unread."""

    checked: int
    first_bad_sequence: int | None = None
    first_bad_id: str | None = None
    problem: str | None = None
    head_sequence: int = 0
    head_hash: str = GENESIS_HASH
    keyed_from: int = 1
    checkpoint_sequence: int | None = None
    verified_from: int = 1
    unverified: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def complete(self) -> bool:
        """Nothing wrong found, and no entry left unread after the last one walked."""
        return self.ok and self.unverified == 0


class Anchor(Protocol):
    """What a signed checkpoint vouches for (``agency.audit.checkpoints.Checkpoint``)."""

    sequence: int
    hash: str
    keyed_from: int


def verify_chain(
    session: Session,
    batch: int = 1000,
    *,
    key: bytes | None = None,
    checkpoint: Anchor | None = None,
    from_checkpoint: bool = False,
    limit: int | None = None,
) -> ChainReport:
    """Walk the chain in order; report the first entry whose link or hash does not hold.

    With a ``checkpoint`` (a signed, earlier head), the entry at its sequence must carry
    its hash (a re-chained history fails here even if every link holds) and the chain must
    reach at least that far (deleting the newest entries fails here).

    ``from_checkpoint`` resumes from that checkpoint instead of entry 1, so a walk costs
    what was added since: the caller checked its signature, and the entries up to it were
    walked before it was signed. The entry at its sequence is re-read (its keyed hash and
    the checkpoint's hash), then only the entries after it are walked. Entries below it
    are not re-read: an edit or a deleted row there that leaves the checkpointed entry as
    it was is for the full walk (``flask verify-audit``). ``limit`` caps the entries
    walked (a page view's budget); the report counts those it left ``unverified``.
    """
    key = key or chain_key(session)
    start = keyed_from(session)
    anchor = checkpoint.sequence if checkpoint is not None else None

    def report(checked: int, *bad: Any, **found: Any) -> ChainReport:
        return ChainReport(checked, *bad, keyed_from=start, checkpoint_sequence=anchor, **found)

    if checkpoint is not None and checkpoint.keyed_from != start:
        return report(
            0,
            problem=f"the keyed chain starts at {start}, but the checkpoint at sequence "
            f"{checkpoint.sequence} says {checkpoint.keyed_from}",
        )
    expected_prev, expected_sequence = GENESIS_HASH, 1
    stmt = select(AuditEntry).order_by(AuditEntry.sequence)
    if checkpoint is not None and from_checkpoint:
        refused = _checkpointed_entry_problem(session, checkpoint, key, start)
        if refused:
            return report(0, *refused, verified_from=checkpoint.sequence)
        expected_prev, expected_sequence = checkpoint.hash, checkpoint.sequence + 1
        stmt = stmt.where(AuditEntry.sequence > checkpoint.sequence)
    first, checked = expected_sequence, 0
    if limit is not None:
        stmt = stmt.limit(limit)
    for entry in session.scalars(stmt.execution_options(yield_per=batch)):
        problem = _link_problem(entry, expected_sequence, expected_prev, key, start, checkpoint)
        if problem:
            return report(checked, entry.sequence, entry.id, problem, verified_from=first)
        checked += 1
        expected_prev, expected_sequence = entry.hash, entry.sequence + 1
    head = expected_sequence - 1
    found = {"head_sequence": head, "head_hash": expected_prev, "verified_from": first}
    if limit is not None and checked == limit:
        after = select(func.count(AuditEntry.id)).where(AuditEntry.sequence > head)
        if left := session.scalar(after) or 0:
            return report(checked, unverified=left, **found)
    if checkpoint is not None and head < checkpoint.sequence:
        return report(
            checked,
            head + 1,
            None,
            f"the chain ends at sequence {head} but a signed checkpoint vouches for "
            f"{checkpoint.sequence} entries (newest entries deleted)",
            **found,
        )
    return report(checked, **found)


def _link_problem(
    entry: AuditEntry,
    expected_sequence: int,
    expected_prev: str,
    key: bytes,
    start: int,
    checkpoint: Anchor | None,
) -> str | None:
    """Why ``entry`` does not follow the entry before it, or None."""
    if entry.sequence != expected_sequence:
        return f"sequence {entry.sequence} where {expected_sequence} was expected (gap)"
    if entry.prev_hash != expected_prev:
        return "prev_hash does not match the previous entry's hash"
    return _hash_problem(entry, key, start, checkpoint)


def _hash_problem(
    entry: AuditEntry, key: bytes, start: int, checkpoint: Anchor | None
) -> str | None:
    """Why ``entry``'s hash does not hold (its contents, or the checkpoint at it), or None."""
    link = entry_hash(entry, key) if entry.sequence >= start else legacy_entry_hash(entry)
    if not hmac.compare_digest(link, entry.hash):
        return "hash does not match the entry's contents (edited)"
    if (
        checkpoint is not None
        and entry.sequence == checkpoint.sequence
        and not hmac.compare_digest(entry.hash, checkpoint.hash)
    ):
        return "hash differs from the signed checkpoint's (history rewritten)"
    return None


def _checkpointed_entry_problem(
    session: Session, checkpoint: Anchor, key: bytes, start: int
) -> tuple[int, str | None, str] | None:
    """(sequence, id, problem) if the entry a checkpoint vouches for is gone or changed."""
    if checkpoint.sequence == 0:  # a checkpoint of the empty chain
        if hmac.compare_digest(checkpoint.hash, GENESIS_HASH):
            return None
        return 0, None, "hash differs from the signed checkpoint's (history rewritten)"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.sequence == checkpoint.sequence))
    if entry is None:
        head = session.scalar(select(func.max(AuditEntry.sequence))) or 0
        if head < checkpoint.sequence:
            return (
                head + 1,
                None,
                f"the chain ends at sequence {head} but a signed checkpoint vouches for "
                f"{checkpoint.sequence} entries (newest entries deleted)",
            )
        return checkpoint.sequence, None, "the entry a signed checkpoint vouches for is missing"
    problem = _hash_problem(entry, key, start, checkpoint)
    return (entry.sequence, entry.id, problem) if problem else None
