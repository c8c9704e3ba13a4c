"""The matching funnel: requests made in the period and how far each got.

Steps: requests → suggested (at least one suggestion, ever) → introduced (at least one
introduction) → accepted (an introduction the provider accepted: it reached awaiting_seeker,
so it is awaiting_seeker, confirmed, seeker_declined, or withdrawn after the provider had
answered) → arrangements. Median hours from a request's creation to its first suggestion,
first introduction and first arrangement; the ten most given decline reasons per side.

Cover (issue 19) is not a new match: a visit another provider covers while the
arrangement's provider is away makes no request, suggestion, introduction or arrangement,
so it is counted apart, in ``cover``: planned visits in the period whose cover was
offered, accepted, declined (still), and accepted cover whose visit was logged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from agency.introductions.models import Arrangement, Introduction, IntroductionStatus, Suggestion
from agency.reports.portable import _figures, grouped_percentiles, hours_between
from agency.reports.scope import ReportScope
from agency.seekers.models import CareRequest
from agency.visits.planned_models import CoverStatus, PlannedVisit

I = IntroductionStatus  # noqa: E741
DECLINES = (I.PROVIDER_DECLINED, I.SEEKER_DECLINED)
NO_REASON = "(no reason given)"
TOP_REASONS = 10


def requests_in_scope(scope: ReportScope) -> list[Any]:
    return [
        *scope.during(CareRequest.created_at),
        *scope.owned(CareRequest.agency_id, CareRequest.council_id),
        *scope.for_requests(CareRequest),
    ]


def _has(model: Any, *conditions: Any) -> Any:
    """The request has at least one ``model`` row (meeting ``conditions``)."""
    return (
        select(model.id)
        .where(model.care_request_id == CareRequest.id, *conditions)
        .correlate(CareRequest)
        .exists()
    )


def _accepted(introduction: Any) -> Any:
    return or_(
        introduction.status.in_([I.AWAITING_SEEKER, I.CONFIRMED, I.SEEKER_DECLINED]),
        and_(introduction.status == I.WITHDRAWN, introduction.provider_responded_at.is_not(None)),
    )


# Suggestions (20 per match run, a million within a year or two) are probed per request on
# their (care_request_id, ...) index; introductions and arrangements, a few per request,
# are hashed once (IN), which is cheaper than one probe per request for tables that small.
REACHED = {
    "suggested": lambda: _has(Suggestion),
    "introduced": lambda: CareRequest.id.in_(select(Introduction.care_request_id)),
    "accepted": lambda: CareRequest.id.in_(
        select(Introduction.care_request_id).where(_accepted(Introduction))
    ),
    "arrangements": lambda: CareRequest.id.in_(select(Arrangement.care_request_id)),
}


def counts_statement(scope: ReportScope) -> Any:
    """Requests in scope, and how many of them reached each step (one row)."""
    return select(
        func.count(), *(func.sum(case((reached(), 1), else_=0)) for reached in REACHED.values())
    ).where(*requests_in_scope(scope))


def summary_statement(scope: ReportScope) -> Any:
    """PostgreSQL: the counts and the median hours to a first suggestion in one pass.

    Each request in scope probes the suggestions' ``(care_request_id, created_at)`` index
    once, for its first suggestion: whether it has one is the "suggested" step, and how
    long it took feeds the median (``percentile_cont`` skips requests without one).
    """
    first = (
        select(func.min(Suggestion.created_at))
        .where(Suggestion.care_request_id == CareRequest.id)
        .correlate(CareRequest)
        .scalar_subquery()
    )
    steps = [name for name in REACHED if name != "suggested"]
    per_request = (
        select(
            first.label("first_suggestion"),
            CareRequest.created_at.label("created"),
            *(case((REACHED[name](), 1), else_=0).label(name) for name in steps),
        )
        .where(*requests_in_scope(scope))
        # OFFSET 0 keeps the subquery whole: flattened, PostgreSQL would repeat the probe
        # for each aggregate that reads the first suggestion (five probes, not one).
        .offset(0)
        .subquery()
    )
    hours = cast(
        func.extract("epoch", per_request.c.first_suggestion - per_request.c.created) / 3600.0,
        Float,
    )
    return select(
        func.count(),
        func.count(per_request.c.first_suggestion),
        *(func.sum(per_request.c[name]) for name in steps),
        func.percentile_cont(0.5).within_group(hours),
        func.percentile_cont(0.9).within_group(hours),
        func.max(hours),
        func.count(hours),
    )


def funnel(session: Session, scope: ReportScope) -> dict[str, Any]:
    """Counts and conversion per step, median times to each step, decline reasons."""
    # Suggestions by EXISTS on their index: the cost follows the requests in scope. IN
    # (subquery) made PostgreSQL hash the whole suggestions table per report ("hashed
    # SubPlan"), and past work_mem rescan it per request (minutes at 1M rows).
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(summary_statement(scope)).one()
        counts = [int(n or 0) for n in row[: 1 + len(REACHED)]]
        figures = row[1 + len(REACHED) :]
        to_first_suggestion = _figures(*figures)["median"] if figures[-1] else None
    else:
        counts = [int(n or 0) for n in session.execute(counts_statement(scope)).one()]
        to_first_suggestion = _median_hours(session, scope, Suggestion)
    steps = []
    for position, name in enumerate(["requests", *REACHED]):
        previous = counts[position - 1] if position else counts[0]
        steps.append(
            {
                "step": name,
                "count": counts[position],
                "conversion_from_previous": _ratio(counts[position], previous),
                "conversion_from_requests": _ratio(counts[position], counts[0]),
            }
        )
    return {
        "scope": scope.as_dict(),
        "steps": steps,
        "median_hours": {
            "to_first_suggestion": to_first_suggestion,
            "to_first_introduction": _median_hours(session, scope, Introduction),
            "to_arrangement": _median_hours(session, scope, Arrangement),
        },
        "decline_reasons": {status.value: _reasons(session, scope, status) for status in DECLINES},
        "cover": cover_counts(session, scope),
    }


def cover_counts(session: Session, scope: ReportScope) -> dict[str, int]:
    """Planned visits of the period (in scope) by cover status: cover, not new matches."""

    accepted = PlannedVisit.cover_status == CoverStatus.ACCEPTED
    stmt = (
        select(
            func.count(),
            func.sum(case((accepted, 1), else_=0)),
            func.sum(case((PlannedVisit.cover_status == CoverStatus.DECLINED, 1), else_=0)),
            func.sum(case((and_(accepted, PlannedVisit.visit_id.is_not(None)), 1), else_=0)),
        )
        .join(Arrangement, Arrangement.id == PlannedVisit.arrangement_id)
        .join(CareRequest, CareRequest.id == Arrangement.care_request_id)
        .where(
            PlannedVisit.cover_status.is_not(None),
            *scope.during(PlannedVisit.starts_at),
            *scope.owned(PlannedVisit.agency_id, PlannedVisit.council_id),
            *scope.for_requests(CareRequest),
        )
    )
    offered, accepted_n, declined, made = (int(n or 0) for n in session.execute(stmt).one())
    return {
        "offered": offered,
        "accepted": accepted_n,
        "declined": declined,
        "visits_made": made,
    }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _median_hours(session: Session, scope: ReportScope, model: Any) -> float | None:
    # One row per request in scope: hours from its creation to its first ``model`` row.
    if model is Suggestion:
        # One probe of the (care_request_id, created_at) index per request (null, and so
        # left out, when it has none), not a read of every suggestion of the period.
        first = (
            select(func.min(model.created_at))
            .where(model.care_request_id == CareRequest.id)
            .correlate(CareRequest)
            .scalar_subquery()
        )
        rows = select(hours_between(session, first, CareRequest.created_at).label("value")).where(
            *requests_in_scope(scope)
        )
    else:
        rows = (
            select(
                hours_between(session, func.min(model.created_at), CareRequest.created_at).label(
                    "value"
                )
            )
            .select_from(model)
            .join(CareRequest, CareRequest.id == model.care_request_id)
            .where(*requests_in_scope(scope))
            .group_by(CareRequest.id, CareRequest.created_at)
        )
    figures = grouped_percentiles(session, rows, [])
    return figures[()]["median"] if () in figures else None  # type: ignore[return-value]


def _reasons(session: Session, scope: ReportScope, status: IntroductionStatus) -> list[dict]:  # type: ignore[type-arg]
    reason = func.coalesce(Introduction.decline_reason, NO_REASON)
    stmt = (
        select(reason.label("reason"), func.count().label("n"))
        .join(CareRequest, CareRequest.id == Introduction.care_request_id)
        .where(Introduction.status == status, *requests_in_scope(scope))
        .group_by(reason)
        .order_by(func.count().desc(), reason)
        .limit(TOP_REASONS)
    )
    return [{"reason": r, "count": int(n)} for r, n in session.execute(stmt)]


def csv_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["step", "count", "conversion_from_previous", "conversion_from_requests"]
    return header, [[step[h] for h in header] for step in report["steps"]]
