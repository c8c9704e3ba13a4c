"""introductions: index suggestions on (care_request_id, created_at) for the funnel report

Revision ID: 0014suggestionidx
Revises: 0013registrations
Create Date: 2026-12-01 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014suggestionidx"
down_revision: str | None = "0013registrations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_suggestions_request_created", ["care_request_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestions_request_created")
