"""The benches' scratch database: one new database per bench run, dropped afterwards.

Every bench builds its data set in a database of its own beside ``DATABASE_URL``'s
(``agency_bench_<random>``, created with ``CREATE DATABASE``) so that it never touches the
data of the database it was pointed at, and drops it at the end, connections and all.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from agency.config import Settings


def scratch_database(*, postgres_only: bool = False) -> tuple[str, Callable[[], None]]:
    """A new database's URL and the call that drops it.

    Without a ``DATABASE_URL`` it is a SQLite file in a new temporary folder (nothing to
    drop), unless ``postgres_only``: then the bench exits saying it needs PostgreSQL.
    """
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        if postgres_only:
            sys.exit(f"{Path(sys.argv[0]).name} needs PostgreSQL: set DATABASE_URL")
        if not base:
            return f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", lambda: None
    base = Settings.from_env({"DATABASE_URL": base}).database_url
    name = f"agency_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        from agency.db import dispose_engines

        dispose_engines()  # the app's pools hold connections to it
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.rsplit("/", 1)[0] + "/" + name, drop


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """``scratch_database(postgres_only=True)`` as a ``with`` block: its URL, dropped at the
    end whatever happened."""
    url, drop = scratch_database(postgres_only=True)
    try:
        yield url
    finally:
        drop()
