"""cover rates on planned and logged visits; arrangement teams (issue 19)

Revision ID: 0020coverteams
Revises: 0019activities
Create Date: 2026-12-01 03:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agency.db

revision: str = "0020coverteams"
down_revision: str | None = "0019activities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = agency.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    # The cover provider's hourly rates for the arrangement's services, fixed when cover is
    # offered; a cover visit carries them to its invoice.
    op.add_column("planned_visits", sa.Column("cover_rates_pence", sa.JSON(), nullable=True))
    op.add_column("visits", sa.Column("cover_rates_pence", sa.JSON(), nullable=True))
    op.create_table(
        "arrangement_team_members",
        sa.Column("arrangement_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("added_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["arrangement_id"],
            ["arrangements.id"],
            name=op.f("fk_arrangement_team_members_arrangement_id_arrangements"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_arrangement_team_members_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrangement_team_members")),
        sa.UniqueConstraint(
            "arrangement_id", "provider_id", name="uq_arrangement_team_members_member"
        ),
    )
    op.create_index(
        op.f("ix_arrangement_team_members_provider_id"),
        "arrangement_team_members",
        ["provider_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_arrangement_team_members_provider_id"), table_name="arrangement_team_members"
    )
    op.drop_table("arrangement_team_members")
    op.drop_column("visits", "cover_rates_pence")
    op.drop_column("planned_visits", "cover_rates_pence")
