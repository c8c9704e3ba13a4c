"""providers: a stable ORUK UUID per provider, and an index on (lat, lon) for distance filters

Revision ID: 0010orukids
Revises: 0009manualgw
Create Date: 2026-12-01 00:15:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010orukids"
down_revision: str | None = "0009manualgw"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The namespace of agency.providers.models.ORUK_NAMESPACE (copied: migrations never import
# application code, which moves on while a migration must keep meaning what it did).
ORUK_NAMESPACE = uuid.UUID("6f1c1c56-6a43-4c0e-9a55-7f0e0ad1b1a7")


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch_op:
        batch_op.add_column(sa.Column("oruk_id", sa.String(length=36), nullable=True))
    bind = op.get_bind()
    providers = sa.table("providers", sa.column("id", sa.String), sa.column("oruk_id", sa.String))
    ids = [row.id for row in bind.execute(sa.select(providers.c.id))]
    for start in range(0, len(ids), 1000):
        bind.execute(
            providers.update()
            .where(providers.c.id == sa.bindparam("pid"))
            .values(oruk_id=sa.bindparam("uid")),
            [
                {"pid": pid, "uid": str(uuid.uuid5(ORUK_NAMESPACE, f"service/{pid}"))}
                for pid in ids[start : start + 1000]
            ],
        )
    with op.batch_alter_table("providers") as batch_op:
        batch_op.alter_column("oruk_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.create_index("ix_providers_oruk_id", ["oruk_id"], unique=True)
        batch_op.create_index("ix_providers_lat_lon", ["lat", "lon"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch_op:
        batch_op.drop_index("ix_providers_lat_lon")
        batch_op.drop_index("ix_providers_oruk_id")
        batch_op.drop_column("oruk_id")
