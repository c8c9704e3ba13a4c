"""introductions: store match_pool_cache.payload uncompressed by PostgreSQL (it is read per job)

Revision ID: 0015poolstorage
Revises: 0014suggestionidx
Create Date: 2026-12-01 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015poolstorage"
down_revision: str | None = "0014suggestionidx"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # EXTERNAL: out of line but not pglz-compressed, so a match job reads the pool's
    # arrays without decompressing megabytes. SQLite has no such setting.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE match_pool_cache ALTER COLUMN payload SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE match_pool_cache ALTER COLUMN payload SET STORAGE EXTENDED")
