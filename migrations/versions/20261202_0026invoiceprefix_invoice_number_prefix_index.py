"""isf: an index that serves invoice numbering's prefix count (issue 15)

Approving a timesheet numbers its invoice ``INV-<agency>-<yyyymm>-<n>`` by counting the
agency's invoices of that month, ``number LIKE 'INV-X-202612-%'``. Under any collation
but C (postgres images default to en_US.utf8; C.UTF-8 counts as not C before PostgreSQL
17) the unique index on ``number`` cannot serve a LIKE, so each approval read every
invoice ever written (200,000 invoices: 37 ms per count; with this index 0.08 ms).

Revision ID: 0026invoiceprefix
Revises: 0025ratingtotals
Create Date: 2026-12-02 19:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026invoiceprefix"
down_revision: str | None = "0025ratingtotals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.create_index(
            "ix_invoices_number_prefix",
            ["number"],
            unique=False,
            postgresql_ops={"number": "varchar_pattern_ops"},
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_index("ix_invoices_number_prefix")
