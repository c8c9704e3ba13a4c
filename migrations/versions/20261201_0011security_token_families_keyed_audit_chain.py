"""accounts: refresh-token families; audit: where the keyed (HMAC) chain starts

Revision ID: 0011security
Revises: 0010orukids
Create Date: 2026-12-01 00:40:00

Existing sign-ins become families of one (``family_id = id``). Existing audit entries
keep their plain SHA-256 hashes (re-chaining them would need the key here, and the
append-only trigger forbids rewriting them): the keyed chain starts at the next entry,
recorded in ``audit_chain_keying``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011security"
down_revision: str | None = "0010orukids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_id", sa.String(length=40), nullable=True))
    op.execute("UPDATE auth_tokens SET family_id = id")
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.alter_column("family_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_index(batch_op.f("ix_auth_tokens_family_id"), ["family_id"], unique=False)

    keying = op.create_table(
        "audit_chain_keying",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("keyed_from_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_keying")),
    )
    last = op.get_bind().execute(sa.text("SELECT MAX(sequence) FROM audit_entries")).scalar()
    if last:
        op.bulk_insert(keying, [{"id": 1, "keyed_from_sequence": int(last) + 1}])


def downgrade() -> None:
    op.drop_table("audit_chain_keying")
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_tokens_family_id"))
        batch_op.drop_column("family_id")
