"""The Bristol demo, seeded once per test run into a template database, and clones of it.

Seeding the demo costs ~12 s (migrations, 240 providers, 300 requests matched, four weeks
of history); the tests that need it whole (the schemathesis gate, the browser tests, the
demo's own reports, the ORUK conformance crawl, the CLI) each get a copy made with
``CREATE DATABASE ... TEMPLATE``, which takes a fraction of a second.

The template is built with the documented commands in fresh interpreters
(``flask --app wsgi db-upgrade`` then ``seed-demo``, as ``make run`` does), by whichever
pytest-xdist worker asks first; the others wait on a PostgreSQL advisory lock. It is built
under a temporary name and renamed when done, so a clone never sees half a demo.
``seed-demo``'s output (the credentials and the partner's API key, which only exists in
clear there) is kept beside it in the run's shared temporary folder. The controlling
process drops the template at the end of the run (``drop_demo_template``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class DemoTemplate:
    server_url: str | None  # PostgreSQL: the suite's DATABASE_URL; None: SQLite files
    name: str  # PostgreSQL: the template database; SQLite: the template file
    output: str  # what `flask seed-demo` printed


def database_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + name


def _admin(server_url: str) -> Engine:
    return create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _sql(server_url: str, *statements: str) -> None:
    engine = _admin(server_url)
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def _seed_with_the_cli(url: str, run_id: str) -> str:
    """``flask db-upgrade`` and ``flask seed-demo`` on ``url``, in fresh interpreters.

    REDIS_URL stays as the run has it (seed-demo runs the demo's jobs inline either way);
    anything queued goes to a queue of the run's own that no worker reads.
    """
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    env["RQ_QUEUE"] = f"agency-demo-{run_id}"
    output = ""
    for step in ("db-upgrade", "seed-demo"):
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", step],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"flask {step}: {done.stderr[-3000:]}"
        output = done.stdout
    return output


def demo_template(server_url: str | None, run_id: str, shared: Path) -> DemoTemplate:
    """The run's demo template, built here unless a process of the run has built it.

    ``shared`` is a folder all the run's processes see (pytest-xdist workers: the parent of
    their temporary folders); a file lock there makes the others wait for the first.
    """
    name = f"agency_demo_{run_id}"
    output_file = shared / f"{name}.out"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not output_file.exists():
            building = f"{name}_building"
            if server_url is None:
                target = shared / f"{building}.db"
                target.unlink(missing_ok=True)
                output = _seed_with_the_cli(f"sqlite:///{target}", run_id)
                with closing(sqlite3.connect(target)) as connection:  # one file: WAL folded in
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    connection.execute("PRAGMA journal_mode=DELETE")
                target.rename(shared / f"{name}.db")
            else:
                _sql(
                    server_url,
                    f'DROP DATABASE IF EXISTS "{building}"',
                    f'CREATE DATABASE "{building}"',
                )
                output = _seed_with_the_cli(database_url(server_url, building), run_id)
                _sql(server_url, f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            output_file.write_text(output)  # last: its presence says the template is whole
    if server_url is None:
        name = str(shared / f"{name}.db")
    return DemoTemplate(server_url, name, output_file.read_text())


@contextmanager
def demo_clone(template: DemoTemplate, prefix: str, folder: Path) -> Iterator[str]:
    """A database of the caller's own holding the demo; its URL. Dropped afterwards.

    ``folder`` holds the copy on SQLite.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    if template.server_url is None:
        copy = folder / f"{name}.db"
        shutil.copyfile(template.name, copy)
        try:
            yield f"sqlite:///{copy}"
        finally:
            from agency.db import dispose_engines

            dispose_engines()
            copy.unlink(missing_ok=True)
        return
    # Per-database settings are not copied from a template; as for every scratch database
    # of the suite, commits there don't wait for the disk.
    _sql(
        template.server_url,
        f'CREATE DATABASE "{name}" TEMPLATE "{template.name}"',
        f'ALTER DATABASE "{name}" SET synchronous_commit = off',
    )
    try:
        yield database_url(template.server_url, name)
    finally:
        from agency.db import dispose_engines

        dispose_engines()
        _sql(template.server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_demo_template(server_url: str | None, run_id: str) -> None:
    """The end of the run (the controlling process): the template goes."""
    if server_url is None:
        return  # a file in the run's temporary folder
    name = f"agency_demo_{run_id}"
    _sql(
        server_url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'DROP DATABASE IF EXISTS "{name}_building" WITH (FORCE)',
    )
