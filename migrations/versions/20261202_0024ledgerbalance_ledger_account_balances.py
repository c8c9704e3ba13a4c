"""isf: each ledger account's balance kept beside its postings by the database (issue 15)

A balance check used to sum every posting the account ever had: the agency's clearing
account gains two postings per payout, so each payout and each settlement cost more
with every one before it (a Stripe webhook took 15 ms at 1,000 payouts and 28 ms at
10,000). ``ledger_accounts.balance_pence`` is now kept by a trigger on ``postings``
in the inserting transaction (postings are append-only, so an INSERT is the only change
to follow): PostgreSQL once per statement over its new rows, SQLite once per row. The
column is filled from the postings already there.

Revision ID: 0024ledgerbalance
Revises: 0023rankedgen
Create Date: 2026-12-02 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024ledgerbalance"
down_revision: str | None = "0023rankedgen"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES = [
    """
    CREATE FUNCTION ledger_keep_balances() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE ledger_accounts AS a SET balance_pence = a.balance_pence + n.total
        FROM (SELECT account_id, SUM(amount_pence) AS total FROM new_postings
              GROUP BY account_id) AS n
        WHERE a.id = n.account_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER postings_keep_balances AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_keep_balances()
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS postings_keep_balances ON postings",
    "DROP FUNCTION IF EXISTS ledger_keep_balances()",
]
SQLITE = [
    """
    CREATE TRIGGER postings_keep_balances AFTER INSERT ON postings
    BEGIN
        UPDATE ledger_accounts SET balance_pence = balance_pence + NEW.amount_pence
        WHERE id = NEW.account_id;
    END
    """,
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS postings_keep_balances"]


def upgrade() -> None:
    with op.batch_alter_table("ledger_accounts") as batch_op:
        batch_op.add_column(
            sa.Column("balance_pence", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE ledger_accounts SET balance_pence = COALESCE((SELECT SUM(p.amount_pence) "
        "FROM postings AS p WHERE p.account_id = ledger_accounts.id), 0)"
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DOWN if postgres else SQLITE_DOWN:
        op.execute(statement)
    with op.batch_alter_table("ledger_accounts") as batch_op:
        batch_op.drop_column("balance_pence")
