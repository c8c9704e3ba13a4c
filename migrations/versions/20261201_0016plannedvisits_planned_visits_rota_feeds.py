"""visits: planned visits from arrangements' schedules, providers' rota feeds

Revision ID: 0016plannedvisits
Revises: 0015poolstorage
Create Date: 2026-12-01 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agency.db

revision: str = "0016plannedvisits"
down_revision: str | None = "0015poolstorage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = agency.db.UTCDateTime(timezone=True)
FEEDBACK_INDEXED = (
    "agency_id",
    "arrangement_id",
    "council_id",
    "partner_client_id",
    "provider_id",
    "seeker_id",
    "visit_id",
)


def upgrade() -> None:
    op.create_table(
        "planned_visits",
        sa.Column("seeker_id", sa.String(length=40), nullable=False),
        sa.Column("terms_version", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("end_time", sa.String(length=5), nullable=False),
        sa.Column("starts_at", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "done",
                "missed",
                "cancelled",
                name="plannedstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("visit_id", sa.String(length=40), nullable=True),
        sa.Column("missed_at", UTC, nullable=True),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=40), nullable=True),
        sa.Column("cancelled_at", UTC, nullable=True),
        sa.Column("cancelled_by", sa.String(length=40), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("cover_provider_id", sa.String(length=40), nullable=True),
        sa.Column(
            "cover_status",
            sa.Enum(
                "offered", "accepted", "declined", name="coverstatus", native_enum=False, length=30
            ),
            nullable=True,
        ),
        sa.Column("cover_offered_by", sa.String(length=40), nullable=True),
        sa.Column("cover_answered_at", UTC, nullable=True),
        sa.Column("arrangement_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("agency_id", sa.String(length=40), nullable=False),
        sa.Column("council_id", sa.String(length=40), nullable=True),
        sa.Column("partner_client_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_planned_visits_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["arrangement_id"],
            ["arrangements.id"],
            name=op.f("fk_planned_visits_arrangement_id_arrangements"),
        ),
        sa.ForeignKeyConstraint(
            ["council_id"], ["councils.id"], name=op.f("fk_planned_visits_council_id_councils")
        ),
        sa.ForeignKeyConstraint(
            ["partner_client_id"],
            ["partner_clients.id"],
            name=op.f("fk_planned_visits_partner_client_id_partner_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_planned_visits_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["cover_provider_id"],
            ["providers.id"],
            name=op.f("fk_planned_visits_cover_provider_id_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["seeker_id"],
            ["care_seekers.id"],
            name=op.f("fk_planned_visits_seeker_id_care_seekers"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_planned_visits_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_visits")),
        sa.UniqueConstraint(
            "arrangement_id", "starts_at", name="uq_planned_visits_arrangement_start"
        ),
    )
    for column in ("agency_id", "arrangement_id", "council_id", "partner_client_id"):
        op.create_index(op.f(f"ix_planned_visits_{column}"), "planned_visits", [column])
    op.create_index(op.f("ix_planned_visits_provider_id"), "planned_visits", ["provider_id"])
    op.create_index(op.f("ix_planned_visits_seeker_id"), "planned_visits", ["seeker_id"])
    op.create_index(op.f("ix_planned_visits_visit_id"), "planned_visits", ["visit_id"])
    op.create_index(
        op.f("ix_planned_visits_cover_provider_id"), "planned_visits", ["cover_provider_id"]
    )
    op.create_index(
        "ix_planned_visits_provider_starts_at", "planned_visits", ["provider_id", "starts_at"]
    )
    op.create_index("ix_planned_visits_status_ends_at", "planned_visits", ["status", "ends_at"])
    op.create_table(
        "visit_feedback",
        sa.Column("visit_id", sa.String(length=40), nullable=False),
        sa.Column("seeker_id", sa.String(length=40), nullable=False),
        sa.Column(
            "side",
            sa.Enum("seeker", "provider", name="feedbackside", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column(
            "concern",
            sa.Enum(
                "safety", "access", "safeguarding", name="concern", native_enum=False, length=30
            ),
            nullable=True,
        ),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("arrangement_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("agency_id", sa.String(length=40), nullable=False),
        sa.Column("council_id", sa.String(length=40), nullable=True),
        sa.Column("partner_client_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_visit_feedback_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["arrangement_id"],
            ["arrangements.id"],
            name=op.f("fk_visit_feedback_arrangement_id_arrangements"),
        ),
        sa.ForeignKeyConstraint(
            ["council_id"], ["councils.id"], name=op.f("fk_visit_feedback_council_id_councils")
        ),
        sa.ForeignKeyConstraint(
            ["partner_client_id"],
            ["partner_clients.id"],
            name=op.f("fk_visit_feedback_partner_client_id_partner_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_visit_feedback_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["seeker_id"],
            ["care_seekers.id"],
            name=op.f("fk_visit_feedback_seeker_id_care_seekers"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_visit_feedback_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_feedback")),
        sa.UniqueConstraint("visit_id", "side", name="uq_visit_feedback_visit_side"),
    )
    for column in FEEDBACK_INDEXED:
        op.create_index(op.f(f"ix_visit_feedback_{column}"), "visit_feedback", [column])
    op.create_table(
        "backup_providers",
        sa.Column("seeker_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("set_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_backup_providers_provider_id_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["seeker_id"],
            ["care_seekers.id"],
            name=op.f("fk_backup_providers_seeker_id_care_seekers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_providers")),
        sa.UniqueConstraint("seeker_id", name=op.f("uq_backup_providers_seeker_id")),
    )
    op.create_index(op.f("ix_backup_providers_provider_id"), "backup_providers", ["provider_id"])
    op.create_table(
        "rota_feeds",
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_rota_feeds_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_feeds")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_rota_feeds_provider_id")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_rota_feeds_token_digest")),
    )


def downgrade() -> None:
    op.drop_table("rota_feeds")
    op.drop_index(op.f("ix_backup_providers_provider_id"), table_name="backup_providers")
    op.drop_table("backup_providers")
    for column in FEEDBACK_INDEXED:
        op.drop_index(op.f(f"ix_visit_feedback_{column}"), table_name="visit_feedback")
    op.drop_table("visit_feedback")
    op.drop_index("ix_planned_visits_status_ends_at", table_name="planned_visits")
    op.drop_index("ix_planned_visits_provider_starts_at", table_name="planned_visits")
    for column in (
        "cover_provider_id",
        "visit_id",
        "seeker_id",
        "provider_id",
        "partner_client_id",
        "council_id",
        "arrangement_id",
        "agency_id",
    ):
        op.drop_index(op.f(f"ix_planned_visits_{column}"), table_name="planned_visits")
    op.drop_table("planned_visits")
