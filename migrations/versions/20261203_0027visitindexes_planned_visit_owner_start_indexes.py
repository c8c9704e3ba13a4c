"""visits: planned visits indexed by each owner and starts_at (issue 19)

The agency's planned-visit lists (``GET /planned-visits`` for a manager, the console's
missed list and cancelled visits needing cover), the funnel's cover counts, a seeker's
upcoming visits and a cover provider's offers each read one owner's planned visits from a
date (or in a range) in ``starts_at`` order, but the owner columns were indexed alone and
``date`` not at all, so each read the owner's whole history and sorted it. The queries now
bound ``starts_at`` as well as ``date`` (``agency.visits.continuity.on_or_after``), and
these indexes serve the range and the order:

- ``(agency_id, starts_at)``: an agency's visits, any status, in a date range or paged;
- ``(agency_id, status, starts_at)``: an agency's missed (or cancelled, ...) visits;
- ``(cover_provider_id, starts_at)``: cover offers and the cover half of ``_busy``;
- ``(seeker_id, starts_at)``: a seeker's upcoming visits.

Each replaces the single-column index it starts with (agency_id, cover_provider_id,
seeker_id), which it serves as well; so do the existing (provider_id, starts_at) index and
the unique (arrangement_id, starts_at) constraint for provider_id and arrangement_id, whose
lone indexes go too (with a lone provider_id index, PostgreSQL ANDed its bitmap of the
provider's whole history into the affected-visits query instead of reading the provider's
starts_at range). Plans: tests/continuity/test_planned_visit_indexes.py; figures:
bench/bench_planned_visits.py.

Revision ID: 0027visitindexes
Revises: 0026invoiceprefix
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027visitindexes"
down_revision: str | None = "0026invoiceprefix"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_planned_visits_agency_starts_at": ["agency_id", "starts_at"],
    "ix_planned_visits_agency_status_starts_at": ["agency_id", "status", "starts_at"],
    "ix_planned_visits_cover_provider_starts_at": ["cover_provider_id", "starts_at"],
    "ix_planned_visits_seeker_starts_at": ["seeker_id", "starts_at"],
}
REPLACED = ["agency_id", "cover_provider_id", "seeker_id", "provider_id", "arrangement_id"]


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "planned_visits", columns)
    for column in REPLACED:
        op.drop_index(op.f(f"ix_planned_visits_{column}"), table_name="planned_visits")


def downgrade() -> None:
    for column in REPLACED:
        op.create_index(op.f(f"ix_planned_visits_{column}"), "planned_visits", [column])
    for name in INDEXES:
        op.drop_index(name, table_name="planned_visits")
