"""A counter that moves after every committed change to what the public directory shows.

The public directory and the Open Referral UK feed are read far more than they change
(partner front ends on every page load, social prescribers' directories polling the
feed). :mod:`agency.web.read_cache` keeps their rendered pages keyed by this
counter, so a page is built once per change instead of once per request.

Every process that imports the models (``agency.models`` imports this module) counts
its own changes: a session that flushed, bulk-updated or bulk-deleted any of
:data:`WATCHED` bumps the counter *after* its commit (:mod:`agency.commit_watch`), in its
own short transaction, so a reader that sees the new number also sees the committed
rows. A page built just before the bump is at worst rebuilt once. Changes made outside
SQLAlchemy sessions (psql, a migration) are not seen: the cache also forgets pages after
``read_cache.MAX_AGE_S`` seconds, and the London date is part of every key (compliance
expires by date).
"""

from __future__ import annotations

import contextlib

from sqlalchemy import select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from agency.activities.models import Activity
from agency.commit_watch import watch_commits
from agency.db import Base
from agency.directory.models import Agency, ServiceType
from agency.introductions.models import Arrangement, ArrangementVersion
from agency.providers.models import ComplianceItem, Provider, ProviderListing, ProviderService
from agency.unit_of_work import own_transaction

WATCHED: tuple[type, ...] = (
    Provider,
    ProviderService,
    ProviderListing,
    ComplianceItem,
    ServiceType,
    Agency,
    Arrangement,  # capacity: arranged hours
    ArrangementVersion,
    Activity,  # community activities are ORUK services too
)


class FeedVersion(Base):
    """One row: how many committed changes the directory has seen (see module docs)."""

    __tablename__ = "feed_versions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(default=0)


def current(session: Session) -> int:
    return session.scalar(select(FeedVersion.n).where(FeedVersion.id == 1)) or 0


# Bumps made by this process: readers here re-read the counter at once after one.
local_bumps = 0


def bump(session: Session) -> None:
    """Add one, in a transaction of its own (the caller's has committed)."""
    global local_bumps
    local_bumps += 1
    with own_transaction(session.get_bind()) as connection:
        table = FeedVersion.__table__
        moved = connection.execute(
            update(table).where(table.c.id == 1).values(n=table.c.n + 1)
        ).rowcount
        if not moved:
            connection.execute(table.insert().values(id=1, n=1))


def _bump_after_commit(session: Session) -> None:
    with contextlib.suppress(Exception):  # the commit stands; pages still age out
        bump(session)


watch_commits("feed", WATCHED, _bump_after_commit)
