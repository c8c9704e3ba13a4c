"""outcomes: ONS4 wellbeing assessments

Revision ID: 0017outcomes
Revises: 0016plannedvisits
Create Date: 2026-12-01 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agency.db

revision: str = "0017outcomes"
down_revision: str | None = "0016plannedvisits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = agency.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wellbeing_assessments",
        sa.Column("arrangement_id", sa.String(length=40), nullable=False),
        sa.Column("seeker_id", sa.String(length=40), nullable=False),
        sa.Column("agency_id", sa.String(length=40), nullable=False),
        sa.Column("council_id", sa.String(length=40), nullable=True),
        sa.Column("partner_client_id", sa.String(length=40), nullable=False),
        sa.Column(
            "occasion",
            sa.Enum("baseline", "review", name="occasion", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("life_satisfaction", sa.SmallInteger(), nullable=True),
        sa.Column("worthwhile", sa.SmallInteger(), nullable=True),
        sa.Column("happiness", sa.SmallInteger(), nullable=True),
        sa.Column("anxiety", sa.SmallInteger(), nullable=True),
        sa.Column(
            "recorded_by",
            sa.Enum("partner", "manager", "admin", name="recordedby", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["arrangement_id"], ["arrangements.id"]),
        sa.ForeignKeyConstraint(["council_id"], ["councils.id"]),
        sa.ForeignKeyConstraint(["partner_client_id"], ["partner_clients.id"]),
        sa.ForeignKeyConstraint(["seeker_id"], ["care_seekers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wellbeing_assessments") as batch:
        for column in ("agency_id", "arrangement_id", "council_id", "seeker_id"):
            batch.create_index(f"ix_wellbeing_assessments_{column}", [column], unique=False)


def downgrade() -> None:
    op.drop_table("wellbeing_assessments")
