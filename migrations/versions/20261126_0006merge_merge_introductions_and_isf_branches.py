"""merge introductions and isf branches

Revision ID: 0006merge
Revises: 0004introductions, 0005visits
Create Date: 2026-11-26 13:39:20.309480
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agency.db

revision: str = '0006merge'
down_revision: str | None = ('0004introductions', '0005visits')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
