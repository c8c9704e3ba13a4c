"""Migrations run up, down and up again on SQLite and PostgreSQL, and match the models."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import agency.models  # noqa: F401
from agency.db import Base
from agency.migrate import downgrade, upgrade


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
