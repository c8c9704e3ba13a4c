"""One test per hard constraint, and the fast paths agree with why_not."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from factories import make_provider, make_request

from matching.availability import mask_from_windows
from matching.candidates import CONSTRAINT_CODES, eligible, why_not
from matching.pool import ProviderPool

REGULATED = {"personal_care"}


def reasons(provider: dict[str, Any], request: dict[str, Any]) -> list[str]:
    pool = ProviderPool.build([make_provider(**provider)], regulated_services=REGULATED)
    found = why_not(pool, make_request(**request), "prv_a")
    mask, first = eligible(pool, make_request(**request))
    assert bool(mask[0]) == (not found)
    assert first[0] == (CONSTRAINT_CODES.index(found[0]) if found else -1)
    return found


def test_a_well_matched_provider_passes_every_constraint() -> None:
    assert reasons({}, {}) == []


@pytest.mark.parametrize(
    ("provider", "request_", "code"),
    [
        ({"rates_pence": {"shopping": 1800}}, {}, "service_not_offered"),
        ({}, {"services": ("unknown_service",)}, "service_not_offered"),
        ({"approved_agencies": frozenset({"wss"})}, {}, "not_approved_by_agency"),
        ({"suspended": True}, {}, "suspended"),
        ({"compliance_valid_until": None}, {}, "compliance_expired"),
        ({"compliance_valid_until": date(2025, 6, 1)}, {}, "compliance_expired"),
        ({"lat": 51.52}, {}, "too_far"),
        ({"availability": mask_from_windows([(0, "13:00", "17:00")])}, {}, "availability"),
        ({"committed_hours": 18.0}, {}, "no_capacity"),
        ({}, {"max_rate_pence": 1900}, "rate_above_cap"),
        ({"gender": "male"}, {"required_gender": "female"}, "required_gender"),
        ({"gender": None}, {"required_gender": "female"}, "required_gender"),
        ({}, {"required_languages": frozenset({"urdu"})}, "required_language"),
    ],
)
def test_each_constraint_fails_with_its_code(
    provider: dict[str, Any], request_: dict[str, Any], code: str
) -> None:
    assert reasons(provider, request_) == [code]


def test_personal_care_needs_a_cqc_registered_provider() -> None:
    personal_care = {"services": ("personal_care",)}
    assert reasons({"cqc_registered": False}, personal_care) == ["regulated_without_cqc"]
    assert reasons({"cqc_registered": True}, personal_care) == []
    # Companionship is not regulated, so an unregistered provider may offer it.
    assert reasons({"cqc_registered": False}, {}) == []


def test_a_request_may_mark_extra_services_as_regulated() -> None:
    request = {"regulated_services": frozenset({"companionship"})}
    assert reasons({"cqc_registered": False}, request) == ["regulated_without_cqc"]


def test_an_isf_funded_request_needs_a_provider_on_that_councils_isf_list() -> None:
    isf = {"isf_funded": True, "council": "bristol"}
    assert reasons({}, isf) == []
    assert reasons({"isf_approved_councils": frozenset({"south_glos"})}, isf) == [
        "not_isf_approved"
    ]
    assert reasons({}, {"isf_funded": True, "council": None}) == ["not_isf_approved"]
    # Self-funded requests do not care about the ISF list.
    assert reasons({"isf_approved_councils": frozenset()}, {"isf_funded": False}) == []


def test_a_splittable_request_accepts_partial_cover_and_capacity() -> None:
    morning_only = mask_from_windows([(0, "10:00", "12:00")])
    partial = {"availability": morning_only, "committed_hours": 18.0}
    assert reasons(partial, {}) == ["availability", "no_capacity"]
    assert reasons(partial, {"min_window_share": 0.5, "hours_per_week": 4.0}) == []


def test_why_not_lists_all_failures_in_the_documented_order() -> None:
    found = reasons(
        {"suspended": True, "lat": 51.6, "gender": "male"}, {"required_gender": "female"}
    )
    assert found == ["suspended", "too_far", "required_gender"]


def test_why_not_rejects_an_unknown_provider() -> None:
    pool = ProviderPool.build([make_provider()])
    with pytest.raises(KeyError):
        why_not(pool, make_request(), "prv_missing")
