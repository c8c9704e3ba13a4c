"""Synthetic but realistic Bristol population of micro-providers and care requests.

Providers and requests sit on real Bristol outcode centroids (from the shipped
GeoNames table, with the BS3 correction) plus a jitter of about 1 km. Service
mixes follow what introductory agencies report: companionship, shopping, meals
and domestic help are common; personal care is rarer and only some of the
providers offering it are CQC-registered. Everything is seeded.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matching.availability import mask_from_windows  # noqa: E402
from matching.candidates import CareRequestSpec  # noqa: E402
from matching.geo import outcode_table  # noqa: E402
from matching.pool import ProviderPool, ProviderRecord  # noqa: E402

OUTCODES = [f"BS{i}" for i in range(1, 17) if i != 12] + ["BS30", "BS32", "BS34", "BS41"]
SERVICES = [
    "companionship",
    "shopping",
    "meal_preparation",
    "domestic_help",
    "accompanying",
    "personal_care",
]
OFFER_PROBABILITY = [0.7, 0.55, 0.5, 0.5, 0.35, 0.2]
REGULATED = frozenset({"personal_care"})
AGENCIES = ["southmead-development-trust", "wellspring-settlement", "bs3-community"]
LANGUAGES = [("somali", 0.08), ("urdu", 0.06), ("polish", 0.05), ("arabic", 0.04)]
START = date(2025, 6, 2)
WEEKDAYS = range(5)
SHAPES = [  # (days, start, end): typical micro-provider working patterns
    [(d, "08:00", "13:00") for d in WEEKDAYS],
    [(d, "12:00", "18:00") for d in WEEKDAYS],
    [(d, "08:00", "18:00") for d in WEEKDAYS],
    [(d, "09:00", "15:00") for d in WEEKDAYS] + [(d, "17:00", "21:00") for d in range(7)],
    [(d, "09:00", "17:00") for d in (5, 6)] + [(d, "08:00", "12:00") for d in (0, 2, 4)],
    [(d, "07:00", "21:00") for d in range(7)],
]


def _place(
    rng: np.random.Generator, n: int, national: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Points around outcode centroids: Bristol's, or (national) every outcode in GB."""
    table = outcode_table()
    rows = (
        np.arange(len(table.outcodes))
        if national
        else np.array([table.row(code) for code in OUTCODES])
    )
    pick = rng.choice(rows, size=n)
    return (table.lat[pick] + rng.normal(0, 0.008, n), table.lon[pick] + rng.normal(0, 0.012, n))


def providers(n: int, seed: int = 1, national: bool = False) -> list[ProviderRecord]:
    """``n`` synthetic micro-providers (in Bristol, or spread over GB's outcodes)."""
    rng = np.random.default_rng(seed)
    lat, lon = _place(rng, n, national)
    shapes = [mask_from_windows(s) for s in SHAPES]
    records = []
    for i in range(n):
        offered = [s for s, p in zip(SERVICES, OFFER_PROBABILITY, strict=True) if rng.random() < p]
        offered = offered or ["companionship"]
        base = int(rng.integers(1500, 2500))
        rates = {s: min(2800, base + (300 if s in REGULATED else 0)) for s in offered}
        capacity = float(rng.choice([10, 15, 20, 25, 30, 40]))
        compliance = rng.random()
        records.append(
            ProviderRecord(
                provider_id=f"prv_{i:06d}",
                lat=float(lat[i]),
                lon=float(lon[i]),
                travel_radius_km=float(rng.uniform(2, 10)),
                rates_pence=rates,
                availability=shapes[int(rng.integers(len(shapes)))],
                cqc_registered="personal_care" in offered and rng.random() < 0.7,
                approved_agencies=frozenset(a for a in AGENCIES if rng.random() < 0.8),
                suspended=rng.random() < 0.02,
                compliance_valid_until=None
                if compliance < 0.05
                else START + timedelta(days=int(rng.integers(-60, 700))),
                isf_approved_councils=frozenset(
                    c
                    for c, p in (("bristol", 0.7), ("south_gloucestershire", 0.3))
                    if rng.random() < p
                ),
                capacity_hours_per_week=capacity,
                committed_hours=float(np.floor(capacity * rng.uniform(0, 0.5))),
                gender=str(rng.choice(["female", "male", "unstated"], p=[0.7, 0.25, 0.05])),
                languages=frozenset({"english"} | {x for x, p in LANGUAGES if rng.random() < p}),
                reliability=None if rng.random() < 0.2 else float(rng.beta(8, 2)),
            )
        )
    return records


def requests(n: int, seed: int = 2, national: bool = False) -> list[CareRequestSpec]:
    """``n`` synthetic care requests (weekly visits in 1-3 hour windows)."""
    rng = np.random.default_rng(seed)
    lat, lon = _place(rng, n, national)
    result = []
    for i in range(n):
        wanted = list(rng.choice(SERVICES[:5], size=int(rng.integers(1, 3)), replace=False))
        if rng.random() < 0.12:
            wanted.append("personal_care")
        days = sorted(
            rng.choice(7 if rng.random() < 0.2 else 5, size=int(rng.integers(1, 4)), replace=False)
        )
        visit = int(rng.integers(1, 3))
        start = int(rng.integers(8, 18 - visit))
        windows = [(int(d), f"{start:02d}:00", f"{start + visit:02d}:00") for d in days]
        urgency = str(rng.choice(["routine", "soon", "hospital_discharge"], p=[0.75, 0.18, 0.07]))
        result.append(
            CareRequestSpec(
                request_id=f"req_{i:06d}",
                services=tuple(str(s) for s in wanted),
                hours_per_week=float(visit * len(days)),
                lat=float(lat[i]),
                lon=float(lon[i]),
                agency=AGENCIES[int(rng.integers(len(AGENCIES)))],
                start_date=START,
                windows=mask_from_windows(windows),
                min_window_share=1.0 if rng.random() < 0.7 else 0.5,
                council="bristol",
                isf_funded=bool(rng.random() < 0.4),
                max_rate_pence=None if rng.random() < 0.3 else int(rng.integers(2200, 2801)),
                required_gender="female" if rng.random() < 0.1 else None,
                preferred_gender="female" if rng.random() < 0.2 else None,
                required_languages=frozenset({"somali"}) if rng.random() < 0.02 else frozenset(),
                preferred_languages=frozenset({"urdu"}) if rng.random() < 0.05 else frozenset(),
                urgency=urgency,  # type: ignore[arg-type]
            )
        )
    return result


def pool(n: int, seed: int = 1) -> ProviderPool:
    """A built pool of ``n`` synthetic providers."""
    return ProviderPool.build(providers(n, seed), regulated_services=REGULATED, services=SERVICES)
