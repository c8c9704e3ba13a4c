"""activities: community activities, referrals of seekers, attendance per session

Revision ID: 0019activities
Revises: 0018equality
Create Date: 2026-12-01 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agency.db

revision: str = "0019activities"
down_revision: str | None = "0018equality"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = agency.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("agency_id", sa.String(length=40), nullable=False),
        sa.Column("council_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("organiser", sa.String(length=120), nullable=False),
        sa.Column("outcode", sa.String(length=8), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=True),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("accessibility_notes", sa.Text(), nullable=True),
        sa.Column("cost_pence", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["council_id"], ["councils.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activities") as batch:
        batch.create_index("ix_activities_agency_id", ["agency_id"], unique=False)
        batch.create_index("ix_activities_council_id", ["council_id"], unique=False)
    op.create_table(
        "activity_referrals",
        sa.Column("activity_id", sa.String(length=40), nullable=False),
        sa.Column("seeker_id", sa.String(length=40), nullable=False),
        sa.Column("agency_id", sa.String(length=40), nullable=False),
        sa.Column("council_id", sa.String(length=40), nullable=True),
        sa.Column("partner_client_id", sa.String(length=40), nullable=False),
        sa.Column("referred_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["council_id"], ["councils.id"]),
        sa.ForeignKeyConstraint(["partner_client_id"], ["partner_clients.id"]),
        sa.ForeignKeyConstraint(["referred_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["seeker_id"], ["care_seekers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id", "seeker_id"),
    )
    with op.batch_alter_table("activity_referrals") as batch:
        batch.create_index("ix_activity_referrals_activity_id", ["activity_id"], unique=False)
        batch.create_index("ix_activity_referrals_agency_id", ["agency_id"], unique=False)
        batch.create_index("ix_activity_referrals_seeker_id", ["seeker_id"], unique=False)
    op.create_table(
        "activity_attendance",
        sa.Column("referral_id", sa.String(length=40), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["activity_referrals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referral_id", "session_date"),
    )
    with op.batch_alter_table("activity_attendance") as batch:
        batch.create_index("ix_activity_attendance_referral_id", ["referral_id"], unique=False)


def downgrade() -> None:
    op.drop_table("activity_attendance")
    op.drop_table("activity_referrals")
    op.drop_table("activities")
