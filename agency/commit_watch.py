"""A call after each commit of a session that wrote rows of some models.

For the process-local caches that must forget what a commit changed
(:mod:`agency.directory.feed_version`, :mod:`agency.accounts.credential_cache`): a session
that flushed, bulk-updated or bulk-deleted (and, if asked, inserted) rows of one of the
models is flagged, and once its transaction commits the callback runs, with the session.
A rollback clears the flag. Writes made outside SQLAlchemy sessions (Core on a bare
connection, psql, a migration) are not seen: each cache also forgets on its own after a
while.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session


def watch_commits(
    name: str,
    models: tuple[type, ...],
    after_commit: Callable[[Session], None],
    *,
    new_rows: bool = True,
) -> None:
    """Run ``after_commit(session)`` after a commit that wrote ``models``' rows.

    ``new_rows=False``: inserts do not count (a cache of existing rows only goes stale
    when they change or go).
    """
    flag = f"commit_watch:{name}"

    def wrote(objects: Iterable[Any]) -> bool:
        return any(isinstance(obj, models) for obj in objects)

    @event.listens_for(Session, "after_flush")
    def _after_flush(session: Session, flush_context: Any) -> None:
        if not session.info.get(flag) and (
            (new_rows and wrote(session.new)) or wrote(session.dirty) or wrote(session.deleted)
        ):
            session.info[flag] = True

    @event.listens_for(Session, "do_orm_execute")
    def _bulk_write(state: ORMExecuteState) -> None:
        writes = state.is_update or state.is_delete or (new_rows and state.is_insert)
        if writes and state.bind_mapper is not None and state.bind_mapper.class_ in models:
            state.session.info[flag] = True

    @event.listens_for(Session, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.info.pop(flag, False):
            after_commit(session)

    @event.listens_for(Session, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(flag, None)
