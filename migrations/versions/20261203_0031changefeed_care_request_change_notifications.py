"""introductions, seekers: a notification for every committed change to a care request or
its suggestions (PostgreSQL)

Statement triggers on ``suggestions`` (insert, update, delete) and ``care_requests``
(update, delete) send ``NOTIFY agency_care_request_changed, '<care request id>'``, one per
request a statement touched. PostgreSQL delivers a notification only when its transaction
commits, and folds repeats within one transaction. The web processes listen
(``agency.change_feed``) and forget what they kept of a request's suggestions page
as soon as one arrives, so a manager's reload reads nothing it does not need to, and
never a page older than the last commit it could have seen. SQLite has no notifications:
the embedded default reads every time.

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


def _function(name: str, column: str) -> str:
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM pg_notify('{CHANNEL}', r)
            FROM (SELECT DISTINCT {column} AS r FROM old_rows WHERE {column} IS NOT NULL) AS t;
        END IF;
        IF TG_OP = 'INSERT' THEN
            PERFORM pg_notify('{CHANNEL}', r)
            FROM (SELECT DISTINCT {column} AS r FROM new_rows WHERE {column} IS NOT NULL) AS t;
        END IF;
        RETURN NULL;
    END $$
    """


def _trigger(table: str, event: str, function: str) -> str:
    # A trigger with transition tables has one event each (PostgreSQL's rule); an update's
    # old rows name the same requests as its new ones.
    tables = "NEW TABLE AS new_rows" if event == "INSERT" else "OLD TABLE AS old_rows"
    return (
        f"CREATE TRIGGER {table}_notify_{event.lower()} AFTER {event} ON {table} "
        f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


TRIGGERS = [
    ("suggestions", "INSERT", "suggestions_notify"),
    ("suggestions", "UPDATE", "suggestions_notify"),
    ("suggestions", "DELETE", "suggestions_notify"),
    ("care_requests", "UPDATE", "care_requests_notify"),
    ("care_requests", "DELETE", "care_requests_notify"),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_function("suggestions_notify", "care_request_id"))
    op.execute(_function("care_requests_notify", "id"))
    for table, event, function in TRIGGERS:
        op.execute(_trigger(table, event, function))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, event, _ in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify_{event.lower()} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS care_requests_notify()")
    op.execute("DROP FUNCTION IF EXISTS suggestions_notify()")
