"""Property tests: the vectorised engine agrees with the plain-Python reference."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_reference import failures, ranking

from matching.availability import mask_from_slots
from matching.candidates import CONSTRAINT_CODES, CareRequestSpec, eligible, eligible_rows, why_not
from matching.pool import ProviderPool, ProviderRecord
from matching.scoring import Weights, top_k

SERVICES = ["companionship", "shopping", "meals", "personal_care"]
REGULATED = frozenset({"personal_care"})
START = date(2025, 6, 2)
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def masks(draw: st.DrawFn, max_windows: int = 3) -> np.ndarray:
    slots: set[int] = set()
    for _ in range(draw(st.integers(0, max_windows))):
        day = draw(st.integers(0, 6))
        first = draw(st.integers(0, 40))
        slots |= {day * 48 + s for s in range(first, first + draw(st.integers(1, 8)))}
    return mask_from_slots(slots)


def subset(items: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items))


@st.composite
def providers(draw: st.DrawFn, index: int) -> ProviderRecord:
    offered = draw(st.lists(st.sampled_from(SERVICES), unique=True, max_size=4))
    return ProviderRecord(
        provider_id=f"prv{(index * 7919) % 1000:03d}",
        lat=draw(st.floats(51.42, 51.50)),
        lon=draw(st.floats(-2.66, -2.54)),
        travel_radius_km=draw(st.sampled_from([1.0, 3.0, 5.0, 8.0])),
        rates_pence={s: draw(st.sampled_from([1500, 1800, 2000, 2400, 2800])) for s in offered},
        availability=draw(st.one_of(masks(), st.just(mask_from_slots(range(336))))),
        cqc_registered=draw(st.booleans()),
        approved_agencies=draw(subset(["sdt", "wss"])),
        suspended=draw(st.sampled_from([False, False, False, True])),
        compliance_valid_until=draw(
            st.one_of(st.none(), st.integers(-30, 400).map(lambda d: START + timedelta(days=d)))
        ),
        isf_approved_councils=draw(subset(["bristol", "south_glos"])),
        capacity_hours_per_week=draw(st.sampled_from([0.0, 5.0, 10.0, 20.0])),
        committed_hours=draw(st.sampled_from([0.0, 2.0, 5.0, 12.0])),
        gender=draw(st.sampled_from([None, "female", "male"])),
        languages=draw(subset(["english", "somali", "urdu"])),
        current_load_hours=draw(st.one_of(st.none(), st.sampled_from([0.0, 4.0, 30.0]))),
        reliability=draw(st.one_of(st.none(), st.floats(0.0, 1.0))),
        rating=draw(st.one_of(st.none(), st.floats(1.0, 5.0))),
    )


@st.composite
def pools(draw: st.DrawFn) -> list[ProviderRecord]:
    n = draw(st.integers(1, 25))
    return [draw(providers(i)) for i in range(n)]


@st.composite
def requests(draw: st.DrawFn) -> CareRequestSpec:
    return CareRequestSpec(
        request_id="req",
        services=tuple(
            draw(
                st.lists(
                    st.sampled_from(SERVICES + ["unknown"]), unique=True, min_size=1, max_size=2
                )
            )
        ),
        hours_per_week=draw(st.sampled_from([1.0, 2.0, 4.0, 8.0])),
        lat=draw(st.floats(51.42, 51.50)),
        lon=draw(st.floats(-2.66, -2.54)),
        agency=draw(st.sampled_from(["sdt", "wss", "other"])),
        start_date=START,
        windows=draw(masks(max_windows=2)),
        min_window_share=draw(st.sampled_from([1.0, 0.5, 0.25])),
        council=draw(st.sampled_from([None, "bristol", "south_glos"])),
        isf_funded=draw(st.booleans()),
        max_rate_pence=draw(st.sampled_from([None, 1800, 2400])),
        required_gender=draw(st.sampled_from([None, None, "female", "other"])),
        required_languages=draw(st.sampled_from([frozenset(), frozenset({"somali"})])),
        preferred_gender=draw(st.sampled_from([None, "female", "male"])),
        preferred_languages=draw(subset(["somali", "urdu", "welsh"])),
        known_provider_ids=draw(subset(["prv000", "prv919", "prv838"])),
        urgency=draw(st.sampled_from(["routine", "soon", "hospital_discharge"])),
    )


weights_strategy = st.builds(
    Weights, **{name: st.floats(0.0, 1.0) for name in Weights.__dataclass_fields__}
)


@SETTINGS
@given(records=pools(), request=requests())
def test_eligibility_agrees_with_the_reference(
    records: list[ProviderRecord], request: CareRequestSpec
) -> None:
    pool = ProviderPool.build(records, regulated_services=REGULATED)
    mask, first = eligible(pool, request)
    fast_rows = set(eligible_rows(pool, request).tolist())
    for row, record in enumerate(records):
        expected = failures(record, request, REGULATED)
        assert bool(mask[row]) == (not expected)
        assert (row in fast_rows) == (not expected)
        assert first[row] == (CONSTRAINT_CODES.index(expected[0]) if expected else -1)
        assert why_not(pool, request, record.provider_id) == expected


def assert_same_ranking(fast: list[tuple[str, float]], slow: list[tuple[str, float]]) -> None:
    """Same scores position by position; ids may differ only within a float tie."""
    assert len(fast) == len(slow)
    for (fast_id, fast_score), (slow_id, slow_score) in zip(fast, slow, strict=True):
        assert abs(fast_score - slow_score) <= 1e-9
        if fast_id != slow_id:
            tied = [pid for pid, s in slow if abs(s - slow_score) <= 1e-9]
            assert fast_id in tied or abs(fast_score - slow[-1][1]) <= 1e-9


@SETTINGS
@given(records=pools(), request=requests(), weights=weights_strategy, k=st.integers(1, 30))
def test_top_k_agrees_with_the_reference(
    records: list[ProviderRecord], request: CareRequestSpec, weights: Weights, k: int
) -> None:
    pool = ProviderPool.build(records, regulated_services=REGULATED)
    fast = top_k(pool, request, k, weights)
    assert [s.rank for s in fast] == list(range(1, len(fast) + 1))
    for suggestion in fast:
        parts = suggestion.explanation.values()
        assert abs(sum(p.contribution for p in parts) - suggestion.score) <= 1e-9
        assert all(0.0 <= p.normalised <= 1.0 for p in parts)
    slow = ranking(records, request, REGULATED, weights, k)
    assert_same_ranking([(s.provider_id, s.score) for s in fast], slow)
