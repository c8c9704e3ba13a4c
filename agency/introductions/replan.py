"""The hourly batch re-plan of one agency: proposals and figures, never actions.

What is already promised stays fixed: arrangements (active or paused) count as
committed hours in the pool, and a request with an introduction in flight
(awaiting the provider or the seeker) keeps that provider: it is not re-planned,
and its hours are committed to the provider for everyone else. The rest is
planned with the agency's own matching weights (as per-request suggestions
are), over the same number of candidates the benchmark reports, and with a
preference for the last plan's placements (``matching.assignment.prefer``), so
a manager does not see the list shuffle hourly; the figures say how many
requests' proposals changed since the last plan.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import matching
from agency.dates import london_today
from agency.directory.models import Agency
from agency.introductions.models import Introduction, IntroductionStatus, MatchPlan
from agency.introductions.pools import agency_weights, build_pool, request_spec
from agency.seekers.models import CareRequest, RequestStatus
from matching.assignment import candidate_pairs, prefer

REPLAN_CANDIDATES = 30  # candidates per request (bench/bench_assignment.py reports this k)
MATCHABLE = (RequestStatus.OPEN, RequestStatus.MATCHING)
IN_FLIGHT = (IntroductionStatus.AWAITING_PROVIDER, IntroductionStatus.AWAITING_SEEKER)


@dataclass(frozen=True)
class AgencyPlan:
    """A plan's figures and its placements (fixed ones first), ready to store."""

    figures: dict[str, Any]
    placements: list[dict[str, Any]]


def _previous(session: Session, agency_id: str) -> tuple[str | None, dict[str, set[str]]]:
    """(id, request id -> provider ids) of the agency's last plan."""
    plan = session.scalars(
        select(MatchPlan)
        .where(MatchPlan.agency_id == agency_id)
        .order_by(MatchPlan.created_at.desc(), MatchPlan.id.desc())
        .limit(1)
    ).first()
    placed: dict[str, set[str]] = defaultdict(set)
    for placement in plan.placements if plan else []:
        placed[str(placement["care_request_id"])].add(str(placement["provider_id"]))
    return (plan.id if plan else None), placed


def plan_agency(session: Session, agency: Agency) -> AgencyPlan:
    """Re-plan the agency's open requests (reads only; the caller stores the plan)."""
    requests = list(
        session.scalars(
            select(CareRequest)
            .where(CareRequest.agency_id == agency.id, CareRequest.status.in_(MATCHABLE))
            .order_by(CareRequest.created_at, CareRequest.id)
        )
    )
    in_flight = {
        care_request_id: provider_id
        for care_request_id, provider_id in session.execute(
            select(Introduction.care_request_id, Introduction.provider_id)
            .where(
                Introduction.agency_id == agency.id,
                Introduction.status.in_(IN_FLIGHT),
                Introduction.care_request_id.in_([r.id for r in requests]),
            )
            .order_by(Introduction.created_at, Introduction.id)
        )
    }
    fixed = [r for r in requests if r.id in in_flight]
    fixed_specs = [request_spec(r) for r in fixed]
    specs = [request_spec(r) for r in requests if r.id not in in_flight]
    promised: dict[str, float] = defaultdict(float)
    for spec in fixed_specs:
        promised[in_flight[spec.request_id]] += spec.hours_per_week
    pool = build_pool(session, agency.id, london_today()).with_commitments(promised)
    weights = agency_weights(agency)
    previous_id, previous = _previous(session, agency.id)
    result = greedy = None
    if specs:
        pairs = candidate_pairs(pool, specs, REPLAN_CANDIDATES, weights)
        before = {(rid, pid) for rid, pids in previous.items() for pid in pids}
        result = matching.assign_batch(pool, specs, prefer(pool, specs, pairs, before))
        greedy = matching.greedy_assign(pool, specs, pairs)
    placed: dict[str, set[str]] = defaultdict(set)
    for p in result.placements if result else []:
        placed[p.request_id].add(p.provider_id)
    compared = [s.request_id for s in specs if s.request_id in previous]
    changed = sum(placed.get(rid, set()) != previous[rid] for rid in compared)
    figures: dict[str, Any] = {
        "requests": len(specs),
        "fixed_in_flight": len(fixed),
        "providers": len(pool),
        "candidates_per_request": REPLAN_CANDIDATES,
        "weights": weights.as_array().tolist(),
        "hours_requested": result.hours_requested if result else 0.0,
        "hours_placed": result.hours_placed if result else 0.0,
        "greedy_hours_placed": greedy.hours_placed if greedy else 0.0,
        "weighted_hours": result.weighted_hours if result else 0.0,
        "objective": result.objective if result else 0.0,
        "bound": result.bound if result else None,
        "gap": result.gap if result else None,
        "solve_seconds": round(result.solve_seconds, 3) if result else 0.0,
        "status": result.status if result else "empty",
        "top10_share": result.top10_share if result else None,
        "gini": result.gini if result else None,
        "single_provider_share": result.single_provider_share if result else None,
        "previous_plan_id": previous_id,
        "compared_with_previous": len(compared),
        "changed_since_previous": changed,
    }
    placements = [
        {
            "care_request_id": s.request_id,
            "provider_id": in_flight[s.request_id],
            "hours": s.hours_per_week,
            "fixed": True,
        }
        for s in fixed_specs
    ] + [
        {"care_request_id": p.request_id, "provider_id": p.provider_id, "hours": p.hours}
        for p in (result.placements if result else [])
    ]
    return AgencyPlan(figures=figures, placements=placements)
