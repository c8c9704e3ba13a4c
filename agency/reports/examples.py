"""The example charts in docs/img, drawn from a small made-up report of each kind.

``.venv/bin/python -m agency.reports.examples docs/img`` rewrites them; the figures are
invented (no real agency's data) but have the shape the services return.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from agency.reports import charts

SCOPE = {
    "period_start": dt.date(2025, 4, 1),
    "period_end": dt.date(2026, 3, 31),
    "description": "agencies of Bristol City Council (example data)",
}


def _spend() -> dict[str, Any]:
    def items(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
        total = sum(p for _, p in pairs)
        return [{"category": c, "amount_pence": p, "share": p / total} for c, p in pairs]

    return {
        "scope": SCOPE,
        "total": {
            "amount_pence": 184_250_00,
            "vcse_share": 0.38,
            "micro_share": 0.71,
            "by_locality": items(
                [
                    ("council_area", 131_900_00),
                    ("combined_authority", 31_400_00),
                    ("region", 13_150_00),
                    ("national", 7_800_00),
                ]  # fmt: skip
            ),
            "by_size": items(
                [
                    ("sole_trader", 98_300_00),
                    ("micro", 32_500_00),
                    ("small", 38_250_00),
                    ("larger", 15_200_00),
                ]  # fmt: skip
            ),
            "by_sector": items(
                [("vcse", 70_000_00), ("social_enterprise", 41_250_00), ("private", 73_000_00)]
            ),
        },
    }


def _unmet() -> dict[str, Any]:
    areas = [
        ("Southmead", 14, 31.5, 12.0), ("Lawrence Hill", 11, 24.0, 9.5),
        ("Bedminster", 8, 17.5, 6.0), ("Hartcliffe & Withywood", 6, 13.0, 15.5),
        ("not covered by any agency (BS35)", 4, 9.0, 28.0), ("Knowle", 3, 5.5, 4.0),
    ]  # fmt: skip
    shortest = [
        ("Southmead", "personal_care", 12.0, 1.5), ("Lawrence Hill", "personal_care", 9.0, 2.0),
        ("Hartcliffe & Withywood", "getting_out", 6.5, 2.5),
        ("Southmead", "meal_preparation", 8.0, 4.0), ("Bedminster", "domestic_help", 5.0, 3.5),
    ]  # fmt: skip
    return {
        "scope": SCOPE,
        "requests": sum(a[1] for a in areas),
        "hours_per_week": sum(a[2] for a in areas),
        "areas": [
            {"label": label, "requests": n, "hours_per_week": h, "median_wait_days": w}
            for label, n, h, w in areas
        ],
        "shortest": [
            {"neighbourhood_name": hood, "service": s, "requested_hours": r, "available_hours": a}
            for hood, s, r, a in shortest
        ],
    }


def _funnel() -> dict[str, Any]:
    counts = [("requests", 420), ("suggested", 388), ("introduced", 301), ("accepted", 244),
              ("arrangements", 219)]  # fmt: skip
    return {
        "scope": SCOPE,
        "steps": [
            {"step": s, "count": n, "conversion_from_previous": n / (counts[i - 1][1] if i else n)}
            for i, (s, n) in enumerate(counts)
        ],
        "median_hours": {
            "to_first_suggestion": 0.2,
            "to_first_introduction": 26.5,
            "to_arrangement": 118.0,
        },
        "decline_reasons": {
            "provider_declined": [
                {"reason": "No capacity that week", "count": 31},
                {"reason": "Too far to travel", "count": 17},
                {"reason": "Times do not suit", "count": 9},
            ],
            "seeker_declined": [
                {"reason": "Prefers a woman carer", "count": 12},
                {"reason": "Found someone else", "count": 8},
            ],
        },
        "cover": {"offered": 37, "accepted": 33, "declined": 3, "visits_made": 30},
    }


def _payment() -> dict[str, Any]:
    months = [("2025-04", 3, 9, 21), ("2025-05", 3, 8, 17), ("2025-06", 4, 11, 26),
              ("2025-07", 3, 7, 15), ("2025-08", 5, 13, 31), ("2025-09", 3, 8, 19),
              ("2025-10", 2, 6, 14), ("2025-11", 3, 7, 16), ("2025-12", 4, 12, 24),
              ("2026-01", 3, 8, 18), ("2026-02", 2, 6, 12), ("2026-03", 2, 5, 11)]  # fmt: skip
    return {
        "scope": SCOPE,
        "threshold_days": 14,
        "total": {"invoices": 2_310, "median_days": 3.0},
        "overdue": {"invoices": 4},
        "months": [
            {"month": m, "median_days": a, "p90_days": b, "worst_days": c} for m, a, b, c in months
        ],
    }


def _fairness() -> dict[str, Any]:
    hours = [0, 6, 14, 22, 30, 41, 52, 66, 83, 126]
    return {
        "scope": SCOPE,
        "total": {
            "providers": 120,
            "providers_with_work": 104,
            "hours_per_week": sum(hours),
            "top_decile_share": 126 / sum(hours),
            "gini": 0.41,
            "deciles": [
                {"decile": i + 1, "providers": 12, "hours_per_week": h} for i, h in enumerate(hours)
            ],
        },
    }


EXAMPLES = {
    "local-spend": _spend,
    "unmet-need": _unmet,
    "funnel": _funnel,
    "prompt-payment": _payment,
    "fairness": _fairness,
}


def main(folder: str) -> None:
    for name, example in EXAMPLES.items():
        path = Path(folder) / f"report-{name}.png"
        path.write_bytes(charts.render(charts.CHARTS[name](example()), "png"))
        print(path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/img")
