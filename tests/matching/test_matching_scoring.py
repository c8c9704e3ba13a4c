"""Scoring features, explanations and the deterministic tie-break."""

from __future__ import annotations

from dataclasses import replace

import pytest
from factories import make_provider, make_request

from matching.pool import ProviderPool
from matching.scoring import FEATURES, Weights, top_k


def only(feature: str) -> Weights:
    zero = {name: 0.0 for name in FEATURES}
    return Weights(**{**zero, feature: 1.0})


def ranked(providers: list, feature: str, **request: object) -> list[str]:
    pool = ProviderPool.build(providers)
    return [s.provider_id for s in top_k(pool, make_request(**request), 10, only(feature))]


def test_nearer_providers_rank_higher_on_distance() -> None:
    near = make_provider(provider_id="prv_near", lat=51.4600, lon=-2.5900)
    far = make_provider(provider_id="prv_far", lat=51.4700, lon=-2.5900)
    assert ranked([far, near], "distance") == ["prv_near", "prv_far"]


def test_cheaper_providers_rank_higher_on_rate() -> None:
    cheap = make_provider(provider_id="prv_cheap", rates_pence={"companionship": 1600})
    dear = make_provider(provider_id="prv_dear", rates_pence={"companionship": 2600})
    assert ranked([dear, cheap], "rate") == ["prv_cheap", "prv_dear"]


def test_known_providers_rank_higher_on_continuity() -> None:
    a, b = make_provider(provider_id="prv_a"), make_provider(provider_id="prv_b")
    assert ranked([a, b], "continuity", known_provider_ids=frozenset({"prv_b"})) == [
        "prv_b",
        "prv_a",
    ]


def test_preferred_language_and_gender_are_soft() -> None:
    somali = make_provider(provider_id="prv_so")
    english = make_provider(provider_id="prv_en", languages=frozenset({"english"}), gender="male")
    assert ranked([english, somali], "language", preferred_languages=frozenset({"somali"})) == [
        "prv_so",
        "prv_en",
    ]
    assert ranked([somali, english], "gender", preferred_gender="male") == ["prv_en", "prv_so"]


def test_less_loaded_providers_rank_higher_on_load() -> None:
    busy = make_provider(provider_id="prv_busy", current_load_hours=15.0)
    idle = make_provider(provider_id="prv_idle", current_load_hours=0.0)
    assert ranked([busy, idle], "load") == ["prv_idle", "prv_busy"]


def test_urgency_favours_slack_only_for_urgent_requests() -> None:
    tight = make_provider(provider_id="prv_a", committed_hours=14.0)
    slack = make_provider(provider_id="prv_b", committed_hours=0.0)
    pool = ProviderPool.build([tight, slack])
    urgent = top_k(pool, make_request(urgency="hospital_discharge"), 2, only("urgency"))
    assert [s.provider_id for s in urgent] == ["prv_b", "prv_a"]
    routine = top_k(pool, make_request(), 2, only("urgency"))
    assert [s.score for s in routine] == [0.0, 0.0]


def test_ties_break_by_provider_id() -> None:
    twins = [make_provider(provider_id=pid) for pid in ("prv_c", "prv_a", "prv_b")]
    pool = ProviderPool.build(twins)
    assert [s.provider_id for s in top_k(pool, make_request(), 2)] == ["prv_a", "prv_b"]


def test_the_explanation_adds_up_to_the_score() -> None:
    pool = ProviderPool.build([make_provider(reliability=None)])
    (suggestion,) = top_k(pool, make_request(), 5)
    parts = suggestion.explanation
    assert set(parts) == set(FEATURES)
    assert sum(p.contribution for p in parts.values()) == pytest.approx(suggestion.score)
    assert parts["reliability"].normalised == 0.5  # no history: neutral
    assert parts["window_coverage"].raw == 1.0
    assert suggestion.as_dict()["provider_id"] == "prv_a"


def test_ineligible_providers_are_never_suggested() -> None:
    pool = ProviderPool.build(
        [make_provider(), replace(make_provider(), provider_id="prv_s", suspended=True)]
    )
    assert [s.provider_id for s in top_k(pool, make_request(), 5)] == ["prv_a"]
