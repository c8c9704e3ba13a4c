"""Signed checkpoints of the audit chain's head, kept outside the database.

A keyed chain stops someone who can write the database (but lacks ``AUDIT_KEY``) from
re-linking an edited history, but two tamperings leave every remaining link intact:
deleting the newest entries, and re-chaining by someone who does hold the key. A
checkpoint (the head's sequence, entry count and hash, where the keyed chain starts,
signed with HMAC under the audit key) written periodically to ``AUDIT_CHECKPOINT_DIR``
anchors the head: ``verify-audit`` requires the chain to reach the latest checkpoint
and to carry its hash there. Ship the directory somewhere the database owner cannot
rewrite (another host, an append-only or object-locked bucket, the council's copy).

A checkpoint is only written for a chain that verifies against the previous one, so a
tampering is never signed over. To cost what was added since, not the whole history (a
city writes some two million entries a year; a full walk is about 50 us an entry), the
hourly run resumes from the latest checkpoint: its signature checked, the entry at its
sequence still carrying its hash, then only the entries after it walked. The first run
(no checkpoint yet) and ``--full`` walk from entry 1; ``verify-audit`` always does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from agency.audit.service import AUDIT_KEY_INFO, ChainReport, verify_chain
from agency.config import Settings
from agency.db import session_scope, utcnow

_PREFIX = "audit-checkpoint-"
_STAMP = "%Y%m%dT%H%M%S%fZ"
# A checkpoint's file name: its sequence (zero-padded) and when it was written (UTC), so the
# newest checkpoint is found by its name without reading the others.
_NAME = re.compile(rf"^{_PREFIX}(?P<sequence>\d{{12,}})-(?P<at>\d{{8}}T\d{{12}}Z)\.json$")


class CheckpointError(Exception):
    """A checkpoint cannot be trusted (bad signature, unreadable) or written (broken chain)."""


@dataclass(frozen=True)
class Checkpoint:
    sequence: int  # the head's sequence (the chain has no gaps, so also the entry count)
    count: int
    hash: str
    keyed_from: int
    at: str
    signature: str = ""

    def signed_fields(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def signed(self, key: bytes) -> Checkpoint:
        mac = hmac.new(key, b"checkpoint:" + self.signed_fields(), hashlib.sha256).hexdigest()
        return Checkpoint(**{**asdict(self), "signature": mac})

    def valid(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signed(key).signature, self.signature)


def _stamp(at: str) -> str:
    return dt.datetime.fromisoformat(at).astimezone(dt.UTC).strftime(_STAMP)


def file_name(checkpoint: Checkpoint) -> str:
    """``audit-checkpoint-<sequence, 12 digits>-<written at, UTC>.json``."""
    return f"{_PREFIX}{checkpoint.sequence:012d}-{_stamp(checkpoint.at)}.json"


def _read(path: Path, key: bytes) -> Checkpoint:
    try:
        data = json.loads(path.read_text())
        checkpoint = Checkpoint(
            sequence=int(data["sequence"]),
            count=int(data["count"]),
            hash=str(data["hash"]),
            keyed_from=int(data["keyed_from"]),
            at=str(data["at"]),
            signature=str(data["signature"]),
        )
        named = file_name(checkpoint)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{path.name}: unreadable checkpoint ({error})") from None
    if not checkpoint.valid(key):
        raise CheckpointError(f"{path.name}: the signature does not match (forged or edited)")
    if named != path.name:
        # The newest is chosen by name: a name that is not its contents' would choose wrong.
        raise CheckpointError(f"{path.name}: signed as {named} (renamed)")
    return checkpoint


def _order(name: str) -> tuple[int, str]:
    match = _NAME.match(name)
    if match is None:
        raise CheckpointError(f"{name}: not a checkpoint's file name")
    return int(match["sequence"]), match["at"]


def latest_checkpoint(directory: str | Path, key: bytes) -> Checkpoint | None:
    """The checkpoint with the highest sequence (the latest written, among equal ones).

    Found by file name (``file_name``), so only that one file is read, however many the
    directory holds. It must be trusted or this raises ``CheckpointError``: its signature
    must match and its name must be its contents'. There is no falling back to an older
    checkpoint: whoever can spoil the newest file could otherwise roll the anchor back to
    before entries they then delete. Older files are not read, so a spoiled older file is
    not noticed here (nothing trusts it either); a file with the prefix but not a
    checkpoint's name is refused, as it would have been unreadable.
    """
    folder = Path(directory)
    if not folder.is_dir():
        return None
    names = [
        entry.name
        for entry in os.scandir(folder)
        if entry.name.startswith(_PREFIX) and entry.name.endswith(".json")
    ]
    if not names:
        return None
    return _read(folder / max(names, key=_order), key)


def write_checkpoint(
    session: Session,
    directory: str | Path,
    key: bytes,
    *,
    now: dt.datetime | None = None,
    full: bool = False,
) -> tuple[Checkpoint, ChainReport]:
    """Verify the chain since the latest checkpoint (from entry 1 if ``full`` or there is
    none), then sign and write its head.

    A checkpoint file with a bad signature, or a chain that no longer carries the latest
    checkpoint's hash at its sequence, raises ``CheckpointError``: nothing is signed and no
    walk starts afresh over a refused checkpoint. ``count`` stays the number of entries
    verified from entry 1: the previous checkpoint's, plus those walked after it.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    previous = latest_checkpoint(folder, key)
    resumed = None if full else previous
    report = verify_chain(
        session, key=key, checkpoint=previous, from_checkpoint=resumed is not None
    )
    if not report.ok:
        raise CheckpointError(
            f"not signing a broken chain: sequence {report.first_bad_sequence}: {report.problem}"
        )
    count = report.checked + (resumed.count if resumed else 0)
    at = (now or utcnow()).astimezone(dt.UTC)
    checkpoint = Checkpoint(
        sequence=report.head_sequence,
        count=count,
        hash=report.head_hash,
        keyed_from=report.keyed_from,
        at=at.isoformat(timespec="microseconds"),
    ).signed(key)
    store_checkpoint(folder, checkpoint)
    return checkpoint, report


def store_checkpoint(directory: str | Path, checkpoint: Checkpoint) -> Path:
    """Write a signed checkpoint under its ``file_name``; write then rename, so a reader
    never sees half a checkpoint."""
    folder = Path(directory)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump(asdict(checkpoint), out, sort_keys=True, indent=2)
    path = folder / file_name(checkpoint)
    os.replace(temporary, path)
    return path


def checkpoint_job() -> dict[str, object]:
    """What ``rq cron`` runs hourly: a signed checkpoint, if AUDIT_CHECKPOINT_DIR is set.

    A broken chain raises (the job fails and shows in RQ's failed registry) instead of
    being signed. It walks only the entries since the latest checkpoint; the first one of
    a long chain walks it all, within the cron entry's 30-minute job timeout
    (``agency.cron.CHECKPOINT_TIMEOUT_SECONDS``); past that, write it with ``flask
    audit-checkpoint`` (no timeout).
    """
    settings = Settings.from_env()
    if not settings.audit_checkpoint_dir:
        return {"written": False, "reason": "AUDIT_CHECKPOINT_DIR is not set"}
    key = settings.audit_signing_key
    with session_scope(settings.database_url) as session:
        session.info[AUDIT_KEY_INFO] = key
        checkpoint, report = write_checkpoint(session, settings.audit_checkpoint_dir, key)
    return {
        "written": True,
        "sequence": checkpoint.sequence,
        "hash": checkpoint.hash,
        "verified_from": report.verified_from,
        "checked": report.checked,
    }
