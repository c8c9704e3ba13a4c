"""directory: the days each provider may be shown publicly, kept per provider (issue 15)

The public directory and the ORUK feed evaluated "approved somewhere, offering a
service, compliant on the day" for every provider on every page with no cached copy:
four semi-joins over all providers' listings, services and compliance items, ~70 ms of
PostgreSQL at 10k providers. Those inputs change only when a provider's listings,
services or compliance items do; the day enters only through the items' dates. So the
days each provider is public are kept as windows (``agency.directory.public_windows``),
computed again whenever those inputs change, and a page asks for the providers with a
window around the day. Pages are in trading name order; an index on (trading_name, id)
lets a page read its 20 rows in that order instead of sorting every public provider.

The existing providers' windows are computed here, with the module's own rule.

Revision ID: 0028publicwindows
Revises: 0027visitindexes
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028publicwindows"
down_revision: str | None = "0027visitindexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_public_windows",
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("provider_id", "starts_on"),
    )
    op.create_index("ix_providers_trading_name_id", "providers", ["trading_name", "id"])
    from agency.directory.public_windows import rebuild

    connection = op.get_bind()
    rebuild(connection)
    if connection.dialect.name == "postgresql":
        op.execute("ANALYZE provider_public_windows")


def downgrade() -> None:
    op.drop_index("ix_providers_trading_name_id", table_name="providers")
    op.drop_table("provider_public_windows")
