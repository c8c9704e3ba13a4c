"""The outcomes report: ONS4 change from baseline to the latest review, per measure.

A pair is one arrangement in scope with a baseline and a review whose date falls in the
period (the latest such review), both answering the measure. Per group (all, each service
mix, each funding route): how many arrangements have a baseline (up to the period's end) and
how many a follow-up, then per measure the number of pairs, the mean change (follow-up minus
baseline) with its 95 % confidence interval from Student's t-distribution (n - 1 degrees of
freedom), and the share improving (a rise; for anxiety, a fall). Small numbers are suppressed:
any count from 1 to 4 is shown as None, and a measure with fewer than 5 pairs shows no figures.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from agency.introductions.models import Arrangement, ArrangementVersion
from agency.outcomes.models import LOWER_IS_BETTER, MEASURES, Occasion, WellbeingAssessment
from agency.reports.scope import ReportScope
from agency.seekers.models import CareRequest

THRESHOLD = 5


def suppress(count: int) -> int | None:
    """A count from 1 to THRESHOLD - 1 is withheld (None); 0 and larger counts are shown."""
    return None if 0 < count < THRESHOLD else count


def measure_change(measure: str, changes: list[int]) -> dict[str, Any]:
    """n, mean change, 95 % t interval and share improving; nothing when under the threshold."""
    n = len(changes)
    if n < THRESHOLD:
        return {
            "measure": measure,
            "pairs": suppress(n),
            "mean_change": None,
            "ci_low": None,
            "ci_high": None,
            "share_improving": None,
            "suppressed": n > 0,
        }
    values = np.asarray(changes, dtype=float)
    mean = float(values.mean())
    half = float(stats.t.ppf(0.975, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    improving = values < 0 if measure in LOWER_IS_BETTER else values > 0
    return {
        "measure": measure,
        "pairs": n,
        "mean_change": round(mean, 2),
        "ci_low": round(mean - half, 2),
        "ci_high": round(mean + half, 2),
        "share_improving": round(float(improving.mean()), 4),
        "suppressed": False,
    }


def arrangement_rows(session: Session, scope: ReportScope) -> dict[str, dict[str, Any]]:
    """arrangement id -> funding, service mix, baseline and latest in-period review.

    The baseline and review are rows of the assessment's columns the reports read (not ORM
    objects: a council's year is ~10,000 assessments, and loading them as objects was most of
    the outcomes and equal-access reports' time in ``bench/bench_reports.py``).
    """
    stmt = (
        select(
            WellbeingAssessment.arrangement_id,
            WellbeingAssessment.seeker_id,
            WellbeingAssessment.occasion,
            WellbeingAssessment.assessed_on,
            *(getattr(WellbeingAssessment, measure) for measure in MEASURES),
            Arrangement.funding,
            ArrangementVersion.services,
        )
        .join(Arrangement, Arrangement.id == WellbeingAssessment.arrangement_id)
        .join(
            ArrangementVersion,
            and_(
                ArrangementVersion.arrangement_id == Arrangement.id,
                ArrangementVersion.version == Arrangement.current_version,
            ),
        )
        .where(*scope.owned(WellbeingAssessment.agency_id, WellbeingAssessment.council_id))
        .where(WellbeingAssessment.assessed_on <= scope.period_end)
        .order_by(WellbeingAssessment.assessed_on, WellbeingAssessment.created_at)
    )
    conditions = scope.for_requests(CareRequest)
    if conditions:
        stmt = stmt.join(CareRequest, CareRequest.id == Arrangement.care_request_id).where(
            *conditions
        )
    arrangements: dict[str, dict[str, Any]] = {}
    for assessment in session.execute(stmt):
        row = arrangements.setdefault(
            assessment.arrangement_id,
            {
                "funding": assessment.funding,
                "mix": " + ".join(sorted(assessment.services)),
                "baseline": None,
                "review": None,
            },
        )
        if assessment.occasion is Occasion.BASELINE:
            row["baseline"] = assessment
        elif assessment.assessed_on >= scope.period_start:
            row["review"] = assessment  # ordered by date: the latest wins
    return arrangements


def _group(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    with_baseline = [r for r in rows if r["baseline"] is not None]
    paired = [r for r in with_baseline if r["review"] is not None]
    measures = []
    for measure in MEASURES:
        changes = [
            getattr(r["review"], measure) - getattr(r["baseline"], measure)
            for r in paired
            if getattr(r["review"], measure) is not None
            and getattr(r["baseline"], measure) is not None
        ]
        measures.append(measure_change(measure, changes))
    return {
        "group": name,
        "with_baseline": suppress(len(with_baseline)),
        "with_follow_up": suppress(len(paired)),
        "measures": measures,
    }


def outcomes(session: Session, scope: ReportScope) -> dict[str, Any]:
    """ONS4 change per measure: all arrangements in scope, by service mix, by funding."""
    rows = list(arrangement_rows(session, scope).values())

    def split(key: str) -> list[dict[str, Any]]:
        keys = sorted({r[key] for r in rows})
        return [_group(k, [r for r in rows if r[key] == k]) for k in keys]

    return {
        "scope": scope.as_dict(),
        "suppression_threshold": THRESHOLD,
        "total": _group("all", rows),
        "by_service_mix": split("mix"),
        "by_funding": split("funding"),
    }


def csv_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["breakdown", "group", "with_baseline", "with_follow_up", "measure", "pairs"]
    header += ["mean_change", "ci_low", "ci_high", "share_improving", "suppressed"]
    blocks = [("all", report["total"])]
    blocks += [("service_mix", g) for g in report["by_service_mix"]]
    blocks += [("funding", g) for g in report["by_funding"]]
    rows = []
    for breakdown, group in blocks:
        for m in group["measures"]:
            rows.append(
                [breakdown, group["group"], group["with_baseline"], group["with_follow_up"]]
                + [m[h] for h in header[4:]]
            )
    return header, rows
