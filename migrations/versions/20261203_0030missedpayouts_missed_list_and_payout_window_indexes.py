"""visits, isf: the missed list and reconciliation's payout window each read by an index

- ``ix_planned_visits_agency_missed_open``: (agency_id, starts_at) of the missed visits no
  manager has acknowledged (a partial index). The missed list (``GET /planned-visits?
  status=missed&unacknowledged=true`` and the console) read the agency's missed visits in
  ``starts_at`` order from ``ix_planned_visits_agency_status_starts_at`` and dropped the
  acknowledged ones as it went: the oldest are the ones acknowledged, so a page read the
  agency's whole acknowledged history before its first row. The list writes ``'missed'``
  into its SQL so that PostgreSQL sees the index's condition hold.
- ``ix_payouts_agency_created``: (agency_id, created_at). Reconciliation compares a window
  of days (35 by default) and read the agency's payouts by ``ix_payouts_agency_id``, every
  payout the agency ever made, to keep that window. It replaces the lone agency index,
  which it serves as well.

The missed list's plan: tests/continuity/test_planned_visit_indexes.py.

Revision ID: 0030missedpayouts
Revises: 0029jobsqueued
Create Date: 2026-12-03 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030missedpayouts"
down_revision: str | None = "0029jobsqueued"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MISSED_OPEN = sa.text("status = 'missed' AND acknowledged_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_planned_visits_agency_missed_open",
        "planned_visits",
        ["agency_id", "starts_at"],
        postgresql_where=MISSED_OPEN,
        sqlite_where=MISSED_OPEN,
    )
    op.create_index("ix_payouts_agency_created", "payouts", ["agency_id", "created_at"])
    op.drop_index("ix_payouts_agency_id", table_name="payouts")


def downgrade() -> None:
    op.create_index("ix_payouts_agency_id", "payouts", ["agency_id"])
    op.drop_index("ix_payouts_agency_created", table_name="payouts")
    op.drop_index("ix_planned_visits_agency_missed_open", table_name="planned_visits")
