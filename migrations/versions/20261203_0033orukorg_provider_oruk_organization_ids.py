"""providers: the stored ORUK UUID of the organisation each provider is published under

The feed's ``organization_id`` filter (``/oruk/services``, ``/oruk/service_at_locations``)
looks a provider up by it, as ``oruk_id`` does for ``/oruk/services/{id}``.

Revision ID: 0033orukorg
Revises: 0032credentialfeed
Create Date: 2026-12-03 21:40:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033orukorg"
down_revision: str | None = "0032credentialfeed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The namespace of agency.providers.models.ORUK_NAMESPACE (copied: migrations never import
# application code, which moves on while a migration must keep meaning what it did).
ORUK_NAMESPACE = uuid.UUID("6f1c1c56-6a43-4c0e-9a55-7f0e0ad1b1a7")


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch_op:
        batch_op.add_column(sa.Column("oruk_organization_id", sa.String(length=36), nullable=True))
    bind = op.get_bind()
    providers = sa.table(
        "providers", sa.column("id", sa.String), sa.column("oruk_organization_id", sa.String)
    )
    ids = [row.id for row in bind.execute(sa.select(providers.c.id))]
    for start in range(0, len(ids), 1000):
        bind.execute(
            providers.update()
            .where(providers.c.id == sa.bindparam("pid"))
            .values(oruk_organization_id=sa.bindparam("uid")),
            [
                {"pid": pid, "uid": str(uuid.uuid5(ORUK_NAMESPACE, f"organization/{pid}"))}
                for pid in ids[start : start + 1000]
            ],
        )
    with op.batch_alter_table("providers") as batch_op:
        batch_op.alter_column(
            "oruk_organization_id", existing_type=sa.String(length=36), nullable=False
        )
        batch_op.create_index(
            "ix_providers_oruk_organization_id", ["oruk_organization_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch_op:
        batch_op.drop_index("ix_providers_oruk_organization_id")
        batch_op.drop_column("oruk_organization_id")
