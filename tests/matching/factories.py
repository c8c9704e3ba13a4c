"""Small factories with sensible defaults for the matching tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from matching.availability import mask_from_windows
from matching.candidates import CareRequestSpec
from matching.pool import ProviderRecord

START = date(2025, 6, 2)
WEEKDAYS_9_TO_5 = mask_from_windows([(d, "09:00", "17:00") for d in range(5)])


def make_provider(**overrides: Any) -> ProviderRecord:
    base = ProviderRecord(
        provider_id="prv_a",
        lat=51.4552,
        lon=-2.5966,
        travel_radius_km=5.0,
        rates_pence={"companionship": 2000, "personal_care": 2400},
        availability=WEEKDAYS_9_TO_5,
        cqc_registered=True,
        approved_agencies=frozenset({"sdt"}),
        compliance_valid_until=date(2026, 1, 1),
        isf_approved_councils=frozenset({"bristol"}),
        capacity_hours_per_week=20.0,
        gender="female",
        languages=frozenset({"english", "somali"}),
        reliability=0.9,
        rating=4.2,
    )
    return replace(base, **overrides)


def make_request(**overrides: Any) -> CareRequestSpec:
    base = CareRequestSpec(
        request_id="req_a",
        services=("companionship",),
        hours_per_week=4.0,
        lat=51.4600,
        lon=-2.5900,
        agency="sdt",
        start_date=START,
        windows=mask_from_windows([(0, "10:00", "12:00"), (2, "10:00", "12:00")]),
        council="bristol",
    )
    return replace(base, **overrides)
