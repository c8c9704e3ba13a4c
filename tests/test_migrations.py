"""Migrations run up, down and up again on SQLite and PostgreSQL, match the models, and form
one line of history."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

import agency.models  # noqa: F401
from agency.db import Base
from agency.migrate import alembic_config, downgrade, upgrade


def _roundtrip(url):
    upgrade(url)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"users", "agencies", "jobs"} <= tables
    downgrade(url, "base")
    assert set(inspect(create_engine(url)).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert set(inspect(create_engine(url)).get_table_names()) == tables


def _no_drift(url):
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_migrations_round_trip_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    _roundtrip(url)
    _no_drift(url)


@pytest.fixture
def scratch_postgres():
    base = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"agency_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    from agency.db import dispose_engines

    dispose_engines()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_migrations_round_trip_on_postgres(scratch_postgres):
    _roundtrip(scratch_postgres)
    _no_drift(scratch_postgres)


def test_history_is_linear_and_sorts_in_order():
    """One root, one head, no merges or branches, and the file listing is the history's order."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = list(scripts.walk_revisions())  # head first
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1
    for revision in revisions:
        assert not isinstance(revision.down_revision, (tuple, list)), f"{revision.revision} merges"
        assert len(revision.nextrev) <= 1, f"{revision.revision} branches"
    in_order = [revision.revision for revision in reversed(revisions)]
    assert in_order == sorted(in_order), "revision ids must sort in history order (00NN<short>)"
    numbers = [revision_id[:4] for revision_id in in_order]
    assert len(set(numbers)) == len(numbers), "two revisions share a number"
    listing = sorted(revisions, key=lambda revision: os.path.basename(revision.path))
    assert [revision.revision for revision in listing] == in_order, "file names sort out of order"
