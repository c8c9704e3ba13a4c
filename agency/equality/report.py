"""The equal-access report: who asks for care, who is matched, how fast, and who is better off.

Cells are the categories of each characteristic ("not_recorded" for a seeker who gave no
answer), over the care requests made in the period in scope, each counted under its
seeker's answer. Per cell: people, requests, the share matched, the median days from
request to match, unmet need (requests neither matched nor withdrawn) and the mean change
in life satisfaction (ONS4 pairs, as in the outcomes report); the whole population is the
same figures over every request in scope, for comparison.

Suppression, stated on the chart: a cell of 1 to 4 people shows no figures (primary); when a
characteristic then has exactly one such cell, the next smallest non-empty cell is withheld
too (secondary), so no cell can be found by subtracting the others from the population.
Inside a shown cell, a count from 1 to 4 (unmet requests, matched or unmatched requests)
hides the figure built on it; a median needs 5 matches, a mean change 5 pairs.
"""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.equality.models import CHARACTERISTICS, EqualityMonitoring
from agency.outcomes.report import THRESHOLD, arrangement_rows, suppress
from agency.reports.scope import ReportScope
from agency.seekers.models import CareRequest, RequestStatus

NOT_RECORDED = "not_recorded"
RULE = (
    f"Cells of 1-{THRESHOLD - 1} people are suppressed, and with them the next smallest cell "
    "of the same characteristic, so none can be derived by subtraction"
)


def _requests(session: Session, scope: ReportScope) -> list[dict[str, Any]]:
    stmt = (
        select(
            CareRequest.seeker_id,
            CareRequest.created_at,
            CareRequest.matched_at,
            CareRequest.status,
            *(getattr(EqualityMonitoring, name) for name in CHARACTERISTICS),
        )
        .outerjoin(EqualityMonitoring, EqualityMonitoring.seeker_id == CareRequest.seeker_id)
        .where(*scope.owned(CareRequest.agency_id, CareRequest.council_id))
        .where(*scope.during(CareRequest.created_at), *scope.for_requests(CareRequest))
    )
    rows = []
    for row in session.execute(stmt):
        answers = {
            name: (value.value if value is not None else NOT_RECORDED)
            for name, value in zip(CHARACTERISTICS, row[4:], strict=True)
        }
        rows.append(
            {
                "seeker_id": row.seeker_id,
                "created_at": row.created_at,
                "matched_at": row.matched_at,
                "status": row.status,
                **answers,
            }
        )
    return rows


def _life_changes(session: Session, scope: ReportScope) -> dict[str, list[int]]:
    """seeker id -> life satisfaction changes of their arrangements' pairs."""
    changes: dict[str, list[int]] = {}
    for row in arrangement_rows(session, scope).values():
        base, review = row["baseline"], row["review"]
        if base is None or review is None:
            continue
        if base.life_satisfaction is None or review.life_satisfaction is None:
            continue
        changes.setdefault(base.seeker_id, []).append(
            review.life_satisfaction - base.life_satisfaction
        )
    return changes


def _figures(rows: list[dict[str, Any]], changes: dict[str, list[int]]) -> dict[str, Any]:
    people = {r["seeker_id"] for r in rows}
    matched = [r for r in rows if r["matched_at"] is not None]
    unmatched = len(rows) - len(matched)
    unmet = sum(
        1 for r in rows if r["matched_at"] is None and r["status"] is not RequestStatus.WITHDRAWN
    )
    days = [(r["matched_at"] - r["created_at"]).total_seconds() / 86400 for r in matched]
    pairs = [c for seeker in people for c in changes.get(seeker, [])]
    share_hidden = suppress(len(matched)) is None or suppress(unmatched) is None
    return {
        "people": len(people),
        "requests": len(rows),
        "matched_share": None if share_hidden or not rows else round(len(matched) / len(rows), 4),
        "median_days_to_match": round(statistics.median(days), 1)
        if len(days) >= THRESHOLD
        else None,
        "unmet_need": suppress(unmet),
        "life_satisfaction_pairs": suppress(len(pairs)),
        "mean_life_satisfaction_change": round(statistics.fmean(pairs), 2)
        if len(pairs) >= THRESHOLD
        else None,
        "suppressed": False,
    }


WITHHELD = {
    "people": None,
    "requests": None,
    "matched_share": None,
    "median_days_to_match": None,
    "unmet_need": None,
    "life_satisfaction_pairs": None,
    "mean_life_satisfaction_change": None,
    "suppressed": True,
}


def suppress_cells(people: dict[str, int]) -> set[str]:
    """Categories to withhold: 1-4 people (primary), plus a complement if only one is."""
    primary = {k for k, n in people.items() if 0 < n < THRESHOLD}
    if len(primary) == 1:
        others = sorted((n, k) for k, n in people.items() if n > 0 and k not in primary)
        if others:
            primary.add(others[0][1])
    return primary


def equal_access(session: Session, scope: ReportScope) -> dict[str, Any]:
    """Per characteristic and category, the figures beside the whole population's."""
    rows = _requests(session, scope)
    changes = _life_changes(session, scope)
    population = _figures(rows, changes)
    if 0 < population["people"] < THRESHOLD:
        population = {**WITHHELD}
    characteristics = []
    for name, options in CHARACTERISTICS.items():
        categories = [member.value for member in options] + [NOT_RECORDED]
        by_category = {c: [r for r in rows if r[name] == c] for c in categories}
        people = {c: len({r["seeker_id"] for r in rs}) for c, rs in by_category.items()}
        withheld = suppress_cells(people)
        cells = [
            {"category": c, **(WITHHELD if c in withheld else _figures(by_category[c], changes))}
            for c in categories
        ]
        characteristics.append({"characteristic": name, "categories": cells})
    return {
        "scope": scope.as_dict(),
        "suppression_threshold": THRESHOLD,
        "suppression_rule": RULE,
        "population": population,
        "characteristics": characteristics,
    }


FIGURES = [
    "people",
    "requests",
    "matched_share",
    "median_days_to_match",
    "unmet_need",
    "life_satisfaction_pairs",
    "mean_life_satisfaction_change",
    "suppressed",
]


def csv_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["characteristic", "category", *FIGURES]
    rows = [["all", "whole population", *(report["population"][f] for f in FIGURES)]]
    for block in report["characteristics"]:
        for cell in block["categories"]:
            rows.append([block["characteristic"], cell["category"], *(cell[f] for f in FIGURES)])
    return header, rows
