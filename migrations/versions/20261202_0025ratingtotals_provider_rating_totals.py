"""visits: seekers' ratings per provider and agency, kept by the database (issue 15)

Every match job scores providers by their seekers' ratings at the agency. It used to
group every rating the agency ever received (one per confirmed visit: hundreds of
thousands in a city's first year) on each job. ``provider_rating_totals`` holds each
(agency, provider)'s count and sum of seeker-side ratings, kept by triggers on
``visit_feedback`` in the writing transaction (PostgreSQL once per statement over its
transition tables, SQLite once per row), so a job reads one row per rated provider.
Filled from the feedback already there.

Revision ID: 0025ratingtotals
Revises: 0024ledgerbalance
Create Date: 2026-12-02 19:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025ratingtotals"
down_revision: str | None = "0024ledgerbalance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATED = "side = 'seeker' AND rating IS NOT NULL"

POSTGRES = [
    f"""
    CREATE FUNCTION rating_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE provider_rating_totals AS t
            SET ratings = t.ratings - o.n, rating_sum = t.rating_sum - o.total
            FROM (SELECT agency_id, provider_id, COUNT(*) AS n, SUM(rating) AS total
                  FROM old_feedback WHERE {RATED} GROUP BY agency_id, provider_id) AS o
            WHERE t.agency_id = o.agency_id AND t.provider_id = o.provider_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO provider_rating_totals (agency_id, provider_id, ratings, rating_sum)
            SELECT agency_id, provider_id, COUNT(*), SUM(rating)
            FROM new_feedback WHERE {RATED} GROUP BY agency_id, provider_id
            ON CONFLICT (agency_id, provider_id) DO UPDATE
            SET ratings = provider_rating_totals.ratings + EXCLUDED.ratings,
                rating_sum = provider_rating_totals.rating_sum + EXCLUDED.rating_sum;
        END IF;
        RETURN NULL;
    END $$
    """,
    # A trigger with transition tables has one event each (PostgreSQL's rule).
    """
    CREATE TRIGGER visit_feedback_rating_totals_insert AFTER INSERT ON visit_feedback
    REFERENCING NEW TABLE AS new_feedback
    FOR EACH STATEMENT EXECUTE FUNCTION rating_totals_keep()
    """,
    """
    CREATE TRIGGER visit_feedback_rating_totals_update AFTER UPDATE ON visit_feedback
    REFERENCING OLD TABLE AS old_feedback NEW TABLE AS new_feedback
    FOR EACH STATEMENT EXECUTE FUNCTION rating_totals_keep()
    """,
    """
    CREATE TRIGGER visit_feedback_rating_totals_delete AFTER DELETE ON visit_feedback
    REFERENCING OLD TABLE AS old_feedback
    FOR EACH STATEMENT EXECUTE FUNCTION rating_totals_keep()
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS visit_feedback_rating_totals_delete ON visit_feedback",
    "DROP TRIGGER IF EXISTS visit_feedback_rating_totals_update ON visit_feedback",
    "DROP TRIGGER IF EXISTS visit_feedback_rating_totals_insert ON visit_feedback",
    "DROP FUNCTION IF EXISTS rating_totals_keep()",
]
_SQLITE_ADD = """
        INSERT INTO provider_rating_totals (agency_id, provider_id, ratings, rating_sum)
        SELECT NEW.agency_id, NEW.provider_id, 1, NEW.rating
        WHERE NEW.side = 'seeker' AND NEW.rating IS NOT NULL
        ON CONFLICT (agency_id, provider_id) DO UPDATE
        SET ratings = ratings + 1, rating_sum = rating_sum + excluded.rating_sum;"""
_SQLITE_TAKE = """
        UPDATE provider_rating_totals SET ratings = ratings - 1, rating_sum = rating_sum - OLD.rating
        WHERE agency_id = OLD.agency_id AND provider_id = OLD.provider_id
        AND OLD.side = 'seeker' AND OLD.rating IS NOT NULL;"""
SQLITE = [
    f"CREATE TRIGGER visit_feedback_rating_totals_insert AFTER INSERT ON visit_feedback "
    f"BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER visit_feedback_rating_totals_update AFTER UPDATE ON visit_feedback "
    f"BEGIN {_SQLITE_TAKE} {_SQLITE_ADD} END",
    f"CREATE TRIGGER visit_feedback_rating_totals_delete AFTER DELETE ON visit_feedback "
    f"BEGIN {_SQLITE_TAKE} END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS visit_feedback_rating_totals_delete",
    "DROP TRIGGER IF EXISTS visit_feedback_rating_totals_update",
    "DROP TRIGGER IF EXISTS visit_feedback_rating_totals_insert",
]


def upgrade() -> None:
    op.create_table(
        "provider_rating_totals",
        sa.Column("agency_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_provider_rating_totals_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_provider_rating_totals_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("agency_id", "provider_id", name=op.f("pk_provider_rating_totals")),
    )
    op.execute(
        "INSERT INTO provider_rating_totals (agency_id, provider_id, ratings, rating_sum) "
        f"SELECT agency_id, provider_id, COUNT(*), SUM(rating) FROM visit_feedback WHERE {RATED} "
        "GROUP BY agency_id, provider_id"
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DOWN if postgres else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table("provider_rating_totals")
