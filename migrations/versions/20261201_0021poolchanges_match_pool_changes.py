"""introductions: which providers changed since an agency's stored pool was built (issue 15)

Revision ID: 0021poolchanges
Revises: 0020coverteams
Create Date: 2026-12-01 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021poolchanges"
down_revision: str | None = "0020coverteams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One row per provider per bump of match_pool_cache.generation (provider_id NULL: a
    # change to the whole agency); a match job patches the stored arrays with those rows.
    op.create_table(
        "match_pool_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("agency_id", sa.String(length=40), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_match_pool_changes_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_pool_changes")),
    )
    op.create_index(
        "ix_match_pool_changes_agency_generation",
        "match_pool_changes",
        ["agency_id", "generation"],
    )


def downgrade() -> None:
    op.drop_index("ix_match_pool_changes_agency_generation", table_name="match_pool_changes")
    op.drop_table("match_pool_changes")
