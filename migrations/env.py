"""Alembic environment: one set of migrations for SQLite and PostgreSQL.

SQLite cannot ALTER most things, so migrations run in batch mode there
(``render_as_batch``), which Alembic turns into copy-and-rename.
"""

from alembic import context
from sqlalchemy import engine_from_config, pool

import agency.models  # noqa: F401  (fills Base.metadata)
from agency.config import Settings
from agency.db import Base

config = context.config
database_url = config.attributes.get("database_url") or Settings.from_env().database_url
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(
        url=database_url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = engine_from_config(
        {"sqlalchemy.url": database_url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
