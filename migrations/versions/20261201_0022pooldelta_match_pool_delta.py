"""introductions: the stored match pool keeps changed providers' rows beside its arrays (issue 15)

Revision ID: 0022pooldelta
Revises: 0021poolchanges
Create Date: 2026-12-01 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022pooldelta"
down_revision: str | None = "0021poolchanges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The rows of the providers changed since match_pool_cache.payload was built (a few
    # kilobytes), so a job after one provider's change does not rewrite megabytes of arrays.
    op.add_column("match_pool_cache", sa.Column("delta", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("match_pool_cache", "delta")
