"""seekers: the pool generation each care request's ranking was checked against (issue 15)

A provider's change re-matches only the requests ranked before it, stalest first, in
chunks that let new requests' match jobs through (agency.introductions.match_jobs).

Revision ID: 0023rankedgen
Revises: 0022pooldelta
Create Date: 2026-12-02 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023rankedgen"
down_revision: str | None = "0022pooldelta"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("care_requests", sa.Column("ranked_generation", sa.BigInteger(), nullable=True))
    # Requests made before this column: ranked (if at all) against some earlier generation,
    # so the next re-match of their agency checks them (0 is below every changed pool's).
    op.execute("UPDATE care_requests SET ranked_generation = 0")


def downgrade() -> None:
    op.drop_column("care_requests", "ranked_generation")
