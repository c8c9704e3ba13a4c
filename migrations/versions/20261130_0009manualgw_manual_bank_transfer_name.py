"""isf: the manual gateway is called "manual_bank_transfer" everywhere, as the API documents

Revision ID: 0009manualgw
Revises: 0008matchpool
Create Date: 2026-11-30 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009manualgw"
down_revision: str | None = "0008matchpool"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("payment_runs", "payouts", "payout_accounts")


def _rename(old: str, new: str) -> None:
    for table in TABLES:
        op.execute(
            sa.text(f"UPDATE {table} SET gateway = :new WHERE gateway = :old").bindparams(  # noqa: S608
                new=new, old=old
            )
        )


def upgrade() -> None:
    _rename("manual", "manual_bank_transfer")


def downgrade() -> None:
    _rename("manual_bank_transfer", "manual")
