"""A care request's ranking: computed from the agency's pool, stored as suggestions, and the
request marked ranked. What the match jobs share (``match_jobs``: one request, a re-match;
``match_batch``: the requests of several queued match jobs in one transaction).

Nothing here commits: the job that calls it owns the transaction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sqlalchemy import Table, delete, select, tuple_, union, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

import matching
from agency.db import insert_now
from agency.ids import new_id
from agency.introductions.models import (
    Introduction,
    IntroductionStatus,
    Suggestion,
    SuggestionStatus,
)
from agency.introductions.pools import agency_weights_of, request_spec
from agency.seekers.models import CareRequest, RequestStatus

SUGGESTIONS_KEPT = 20
MATCHABLE = (RequestStatus.OPEN, RequestStatus.MATCHING)
LIVE_INTRODUCTIONS = (IntroductionStatus.AWAITING_PROVIDER, IntroductionStatus.AWAITING_SEEKER)

Ranking = list[tuple[str, float, dict[str, dict[str, float | None]]]]


def excluded_providers(session: Session, request_ids: list[str]) -> dict[str, set[str]]:
    """Each request's providers a manager set aside or already introduced: one round trip."""
    rows = session.execute(
        union(
            select(Suggestion.care_request_id, Suggestion.provider_id).where(
                Suggestion.care_request_id.in_(request_ids),
                Suggestion.status == SuggestionStatus.REJECTED,
            ),
            select(Introduction.care_request_id, Introduction.provider_id).where(
                Introduction.care_request_id.in_(request_ids),
                Introduction.status.in_(LIVE_INTRODUCTIONS),
            ),
        )
    )
    excluded: dict[str, set[str]] = {request_id: set() for request_id in request_ids}
    for request_id, provider_id in rows:
        excluded[request_id].add(provider_id)
    return excluded


def rank_request(
    session: Session,
    care_request: CareRequest,
    pool: matching.ProviderPool,
    excluded: Mapping[str, set[str]],
    weights: matching.Weights | None = None,
) -> Ranking:
    """The request's ranking as it would be stored: (provider id, score, explanation).

    ``weights``: the agency's (read from it when not given).
    """
    if weights is None:
        weights = agency_weights_of(session, care_request.agency_id)
    out = excluded.get(care_request.id, set())
    ranked = matching.top_k(
        pool, request_spec(care_request), k=SUGGESTIONS_KEPT + len(out), weights=weights
    )
    return [
        (
            suggestion.provider_id,
            round(float(suggestion.score), 6),
            {name: _explained(part) for name, part in suggestion.explanation.items()},
        )
        for suggestion in ranked
        if suggestion.provider_id not in out
    ][:SUGGESTIONS_KEPT]


def _explained(part: matching.FeatureExplanation) -> dict[str, float | None]:
    """One feature's part as stored (``dataclasses.asdict`` deep-copied each float: it was
    most of a re-match's time)."""
    return {
        "raw": _json_number(part.raw),
        "normalised": _json_number(part.normalised),
        "weight": _json_number(part.weight),
        "contribution": _json_number(part.contribution),
    }


def _json_number(value: float) -> float | None:
    """JSON (and PostgreSQL) has no NaN: a feature with no data (no reliability history) is null."""
    return round(float(value), 6) if math.isfinite(value) else None


def store_ranking(
    session: Session,
    care_request: CareRequest,
    ranking: Ranking,
    job_id: str | None,
) -> list[Suggestion]:
    """Replace the request's active suggestions with ``ranking`` (no commit).

    The request's status is the caller's to move: an open request with a ranking becomes
    ``matching`` (:func:`mark_ranked_and_matching`, or the re-match's own assignment).
    """
    set_aside_earlier_ranking(session, care_request)
    stored = suggestion_rows(care_request, ranking, job_id)
    if stored:
        insert_now(session, *stored)  # one INSERT of the rows, not the ORM's flush of 20
    return stored


def set_aside_earlier_ranking(session: Session, care_request: CareRequest) -> None:
    if care_request.ranked_generation is not None:
        # Ranked before: set that ranking aside. A request never ranked has no suggestion
        # (every ranking is stored with its generation, in one transaction; the migration
        # that added the column gave every older request one), so its first job skips this.
        retire_suggestions(session, care_request.id)


def suggestion_rows(
    care_request: CareRequest, ranking: Ranking, job_id: str | None
) -> list[Suggestion]:
    """The request's new suggestions, not yet written (:func:`agency.db.insert_now` does)."""
    return [
        Suggestion(
            id=new_id("sug"),
            care_request_id=care_request.id,
            provider_id=provider_id,
            agency_id=care_request.agency_id,
            council_id=care_request.council_id,
            partner_client_id=care_request.partner_client_id,
            rank=rank,
            score=score,
            explanation=explanation,
            distance_km=explanation.get("distance", {}).get("raw"),
            job_id=job_id,
        )
        for rank, (provider_id, score, explanation) in enumerate(ranking, start=1)
    ]


def retire_suggestions(session: Session, care_request_id: str) -> None:
    """Set the request's active ranking aside before a new one is stored.

    The active suggestions become superseded; superseded ones that nobody acted on
    (no introduction points at them) are deleted, so the table holds the live ranking
    and what managers acted on, not every ranking ever made. The request's first
    suggestion stays: the funnel measures the time to it.
    """
    session.execute(
        update(Suggestion)
        .where(
            Suggestion.care_request_id == care_request_id,
            Suggestion.status == SuggestionStatus.ACTIVE,
        )
        .values(status=SuggestionStatus.SUPERSEDED)
        .execution_options(synchronize_session=False)
    )
    first = (
        select(Suggestion.id)
        .where(Suggestion.care_request_id == care_request_id)
        .order_by(Suggestion.created_at, Suggestion.id)
        .limit(1)
        .scalar_subquery()
    )
    acted_on = select(Introduction.suggestion_id).where(
        Introduction.care_request_id == care_request_id,
        Introduction.suggestion_id.is_not(None),
    )
    session.execute(
        delete(Suggestion)
        .where(
            Suggestion.care_request_id == care_request_id,
            Suggestion.status == SuggestionStatus.SUPERSEDED,
            Suggestion.id != first,
            Suggestion.id.not_in(acted_on),
        )
        .execution_options(synchronize_session=False)
    )


_REQUESTS: Table = CareRequest.__table__  # type: ignore[assignment]


def mark_first_rankings(session: Session, versions: Mapping[str, int], generation: int) -> set[str]:
    """Open requests' first rankings: ``matching`` and ranked at ``generation``, in one
    UPDATE checked against the version each was read at, as the ORM's flush of the status
    would have been. Returns the requests it moved; one missing changed meanwhile (its
    change wins: the caller must not store that ranking)."""
    if not versions:
        return set()
    moved = session.execute(
        update(_REQUESTS)
        .where(tuple_(_REQUESTS.c.id, _REQUESTS.c.version).in_(list(versions.items())))
        .values(
            status=RequestStatus.MATCHING,
            version=_REQUESTS.c.version + 1,
            ranked_generation=generation,
        )
        .returning(_REQUESTS.c.id)
    )
    return set(moved.scalars())


def mark_ranked_and_matching(session: Session, care_request: CareRequest, generation: int) -> None:
    """One request's first ranking (:func:`mark_first_rankings`); a change made meanwhile
    fails the job, and RQ's retry ranks the request anew."""
    if not mark_first_rankings(session, {care_request.id: care_request.version}, generation):
        raise StaleDataError(f"care request {care_request.id} changed while it was ranked")


def mark_ranked(session: Session, request_ids: list[str], generation: int) -> None:
    """Record the pool generation the requests' rankings now reflect (a Core UPDATE: it is
    bookkeeping, not a change of the request, so its ``version`` stays)."""
    if request_ids:
        session.execute(
            update(_REQUESTS)
            .where(_REQUESTS.c.id.in_(request_ids))
            .values(ranked_generation=generation)
        )
