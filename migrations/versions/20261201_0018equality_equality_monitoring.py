"""equality: equality monitoring answers, apart from the care record

Revision ID: 0018equality
Revises: 0017outcomes
Create Date: 2026-12-01 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agency.db

revision: str = "0018equality"
down_revision: str | None = "0017outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = agency.db.UTCDateTime(timezone=True)
PNTS = "prefer_not_to_say"


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, PNTS, name=name, native_enum=False, length=30)


def upgrade() -> None:
    op.create_table(
        "equality_monitoring",
        sa.Column("seeker_id", sa.String(length=40), nullable=False),
        sa.Column("partner_client_id", sa.String(length=40), nullable=False),
        sa.Column(
            "age_band",
            _enum(
                "ageband", "18_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_84", "85_plus"
            ),
            nullable=True,
        ),
        sa.Column("sex", _enum("sex", "female", "male"), nullable=True),
        sa.Column(
            "gender_identity",
            _enum("genderidentity", "same_as_registered", "different_from_registered"),
            nullable=True,
        ),
        sa.Column(
            "ethnic_group",
            _enum("ethnicgroup", "asian", "black", "mixed", "white", "other_ethnic_group"),
            nullable=True,
        ),
        sa.Column("disability", _enum("disability", "disabled", "not_disabled"), nullable=True),
        sa.Column(
            "religion",
            _enum(
                "religion",
                "no_religion",
                "christian",
                "buddhist",
                "hindu",
                "jewish",
                "muslim",
                "sikh",
                "other_religion",
            ),
            nullable=True,
        ),
        sa.Column(
            "sexual_orientation",
            _enum(
                "sexualorientation",
                "heterosexual",
                "gay_or_lesbian",
                "bisexual",
                "other_orientation",
            ),
            nullable=True,
        ),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["partner_client_id"], ["partner_clients.id"]),
        sa.ForeignKeyConstraint(["seeker_id"], ["care_seekers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seeker_id"),
    )


def downgrade() -> None:
    op.drop_table("equality_monitoring")
