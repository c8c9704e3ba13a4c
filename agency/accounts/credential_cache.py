"""The principals of credentials a process resolved in the last second, for reads.

Every signed-in request used to read its API key or access token from the database: one
round trip that cost a read of the public directory more CPU than the rest of the
request (a partner front end calls it on every page load with one key). A read (GET or
HEAD) now reuses the principal this process resolved for the same credential less than
:data:`TTL_S` ago; writes always read the credential.

What that means for revoking, and why it is safe:

- In the process that made the change it counts at once. A commit that updated or
  deleted a user, partner client, API key or token row through a session
  (:mod:`agency.commit_watch`) makes this process forget every principal it resolved
  before that commit.
- In other processes (the other gunicorn workers, other hosts) it counts once
  PostgreSQL's notification of it arrives, a moment after the commit: triggers send one for
  every change to what a credential stands for (migration ``0032credentialfeed``), and the
  change feed (:mod:`agency.change_feed`) voids every entry kept before it. Where the feed
  does not listen (SQLite, ``CHANGE_FEED`` off, a lost connection) a revoked key or token,
  a disabled user or a deactivated partner can still **read** for at most ``TTL_S``
  seconds after the commit. It can never write: a write reads its credential each time.
- An access token's expiry is exact: an entry does not outlive its token.
- Only credentials that were accepted are kept (a wrong key is read every time, and
  throttled), keyed by the credential's SHA-256 digest, never the secret itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from time import monotonic

from sqlalchemy.orm import Session

from agency.access import Principal
from agency.accounts.models import ApiKey, AuthToken, PartnerClient, User
from agency.change_feed import CREDENTIALS, ChangeFeed
from agency.commit_watch import watch_commits
from agency.db import utcnow

TTL_S = 1.0
MAX_ENTRIES = 4096
# Changes to credentials committed by this process (see the module's docs).
local_changes = 0


def _forget(session: Session) -> None:
    global local_changes
    local_changes += 1


watch_commits("credentials", (User, PartnerClient, ApiKey, AuthToken), _forget, new_rows=False)


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    until: float  # monotonic()
    changes: int  # local_changes before the credential was read
    mark: int | None  # the change feed's mark before it was read (None: not listening)
    read_at: float


class CredentialCache:
    """One app's principals by credential digest; see the module's docs."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def get(self, key: str, feed: ChangeFeed | None = None) -> Principal | None:
        """The kept principal, or None. ``feed`` (its :meth:`~ChangeFeed.mark` read in this
        request): an entry kept while it listened holds only until a credential changes."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = monotonic()
        if (
            entry.changes != local_changes
            or now >= entry.until
            or (
                entry.mark is not None
                and (feed is None or not feed.current(CREDENTIALS, entry.mark, entry.read_at))
            )
        ):
            self._entries.pop(key, None)
            return None
        return entry.principal

    def put(
        self,
        key: str,
        principal: Principal,
        changes: int,
        expires_at: dt.datetime | None = None,
        mark: int | None = None,
    ) -> None:
        """Keep ``principal``, read after ``changes`` (:data:`local_changes` taken before the
        read: a change committed since then leaves it out) and, when the change feed
        listens, after its ``mark``."""
        if changes != local_changes:
            return
        seconds = TTL_S
        if expires_at is not None:
            seconds = min(seconds, (expires_at - utcnow()).total_seconds())
        if seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # entries live a second: nothing worth ordering
        now = monotonic()
        self._entries[key] = _Entry(principal, now + seconds, changes, mark, now)
