"""jobs: queued jobs indexed by agency, name and age (a match job claims its agency's)

A match job on a worker takes the other queued match jobs of its agency with it
(``agency.introductions.match_batch``): ``agency.jobs.queue.claim_queued`` reads
``WHERE status = 'queued' AND agency_id = :a AND name = :n ORDER BY created_at LIMIT 16
FOR UPDATE SKIP LOCKED`` once per job it runs. The jobs table keeps every job ever run and
had single-column indexes on name, status and agency_id: the status index finds the queued
rows of every agency and name (all of a backlog) to filter and sort them; the other two
find the agency's, or every, match job in history. This index holds only queued rows (a
row leaves it when it starts: the UPDATE's new version does not satisfy the predicate), so
it stays as small as the backlog however long the history, costs one entry per job
inserted, and answers the claim in order, reading no more than the rows it takes. The
status column is indexed already, so its updates were never HOT: no write gets dearer but
the INSERT. The claim writes ``'queued'`` into its SQL rather than binding it: PostgreSQL
uses a partial index only where it can see the query's condition implies the index's.

Plans (PostgreSQL 15, ``EXPLAIN ANALYZE`` of the claim's read): at 1,000,000 jobs with a
backlog of the newest 20,000 queued (a third webhook deliveries, the rest match jobs of 20
agencies), 3.6 ms before (a BitmapAnd of ix_jobs_status's 20,000 queued rows and
ix_jobs_agency_id's 33,333 of the agency's history, then a sort of its 667 queued match
jobs), 0.11 ms with this index (an Index Scan reading the 16 rows it locks, no sort). With
no backlog to speak of (400 queued of 200,000) the planner keeps the status index and a
sort of 20 rows, 0.1 ms either way. tests/matchmaking/test_match_batches.py checks the plan.

Revision ID: 0029jobsqueued
Revises: 0028publicwindows
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029jobsqueued"
down_revision: str | None = "0028publicwindows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_jobs_queued_agency_name_created"
QUEUED = sa.text("status = 'queued'")


def upgrade() -> None:
    op.create_index(
        NAME,
        "jobs",
        ["agency_id", "name", "created_at"],
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="jobs")
