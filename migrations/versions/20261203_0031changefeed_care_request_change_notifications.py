"""introductions, seekers: a notification for every committed change to a care request or
its suggestions (PostgreSQL)

Triggers on ``suggestions`` (insert, update, delete) and ``care_requests`` (a change of
owner: agency, council or partner; delete) send ``NOTIFY agency_care_request_changed,
'<care request id>'``. PostgreSQL delivers a notification only when its transaction
commits, and folds repeats within one transaction into one. The web processes listen
(``agency.change_feed``) and forget what they kept of a request's suggestions page
as soon as one arrives: a manager's reload reads nothing while nothing changed, and a
page older than a commit is served only for the moment its notification takes to arrive.
SQLite has no notifications: the embedded default reads every time.

Revision ID: 0031changefeed
Revises: 0030missedpayouts
Create Date: 2026-12-03 17:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031changefeed"
down_revision: str | None = "0030missedpayouts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "agency_care_request_changed"


POSTGRES = [
    f"""
    CREATE FUNCTION suggestions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM pg_notify('{CHANNEL}', OLD.care_request_id);
        ELSE
            PERFORM pg_notify('{CHANNEL}', NEW.care_request_id);
        END IF;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION care_requests_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{CHANNEL}', OLD.id);
        RETURN NULL;
    END $$
    """,
    # Row triggers: a statement trigger's transition tables cost a match job more than a
    # notification per row (PostgreSQL folds them per transaction).
    """
    CREATE TRIGGER suggestions_notify AFTER INSERT OR UPDATE OR DELETE ON suggestions
    FOR EACH ROW EXECUTE FUNCTION suggestions_notify()
    """,
    # Only who owns a request matters to a kept page (its status and notes do not).
    """
    CREATE TRIGGER care_requests_notify_owners AFTER UPDATE ON care_requests FOR EACH ROW
    WHEN (OLD.agency_id IS DISTINCT FROM NEW.agency_id
          OR OLD.council_id IS DISTINCT FROM NEW.council_id
          OR OLD.partner_client_id IS DISTINCT FROM NEW.partner_client_id)
    EXECUTE FUNCTION care_requests_notify()
    """,
    """
    CREATE TRIGGER care_requests_notify_delete AFTER DELETE ON care_requests
    FOR EACH ROW EXECUTE FUNCTION care_requests_notify()
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS care_requests_notify_delete ON care_requests",
    "DROP TRIGGER IF EXISTS care_requests_notify_owners ON care_requests",
    "DROP TRIGGER IF EXISTS suggestions_notify ON suggestions",
    "DROP FUNCTION IF EXISTS care_requests_notify()",
    "DROP FUNCTION IF EXISTS suggestions_notify()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
