"""accounts: a notification for every committed change to who a credential stands for
(PostgreSQL)

Row triggers on ``users``, ``partner_clients``, ``api_keys`` and ``auth_tokens`` send
``NOTIFY agency_credentials_changed`` when a row that a request's principal is read from
changes what it says (revoked, disabled, another role, agency or council, another digest
or expiry) or is deleted; a key's ``last_used_at`` or a user's last sign-in does not.
The web processes listen (``agency.change_feed``) and forget every credential they kept
(``agency.accounts.credential_cache``) when one arrives: a revocation counts in every
process, not only the one that made it, a moment after its commit.

Revision ID: 0032credentialfeed
Revises: 0031changefeed
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032credentialfeed"
down_revision: str | None = "0031changefeed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "agency_credentials_changed"
# What each table's principal is read from (agency.accounts: the key's and token's reads).
WATCHED = {
    "users": ("active", "role", "agency_id", "council_id"),
    "partner_clients": ("active",),
    "api_keys": ("revoked_at", "key_digest", "partner_client_id"),
    "auth_tokens": ("revoked_at", "access_digest", "access_expires_at", "user_id"),
}


def _changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION credentials_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END $$
        """
    )
    for table, columns in WATCHED.items():
        op.execute(
            f"CREATE TRIGGER {table}_credentials_update AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({_changed(columns)}) EXECUTE FUNCTION credentials_notify()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_credentials_delete AFTER DELETE ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION credentials_notify()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in reversed(WATCHED):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_credentials_delete ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_credentials_update ON {table}")
    op.execute("DROP FUNCTION IF EXISTS credentials_notify()")
