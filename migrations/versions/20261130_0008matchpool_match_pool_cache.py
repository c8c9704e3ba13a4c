"""introductions: match_pool_cache (the engine's provider pool per agency, with its generation)

Revision ID: 0008matchpool
Revises: 0007overdraft
Create Date: 2026-11-30 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agency.db

revision: str = "0008matchpool"
down_revision: str | None = "0007overdraft"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "match_pool_cache",
        sa.Column("agency_id", sa.String(length=40), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("built_generation", sa.BigInteger(), nullable=True),
        sa.Column("built_on", sa.Date(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", agency.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_match_pool_cache_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_match_pool_cache")),
    )


def downgrade() -> None:
    op.drop_table("match_pool_cache")
