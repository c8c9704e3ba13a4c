"""Postcodes, outcode table, distances, council areas and locality circles."""

from __future__ import annotations

import numpy as np
import pytest

from matching.geo import (
    InvalidPostcode,
    PostcodeParts,
    UnknownOutcode,
    council_area_of,
    haversine_km,
    locality_circle,
    locate_postcode,
    neighbourhood_for_outcode,
    outcode_table,
    parse_postcode,
)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("bs3 4ab", PostcodeParts("BS3", "BS3 4")),
        ("BS34AB", PostcodeParts("BS3", "BS3 4")),
        ("  bs34  ", PostcodeParts("BS34", None)),
        ("EC1A 1BB", PostcodeParts("EC1A", "EC1A 1")),
        ("W1A 0AX", PostcodeParts("W1A", "W1A 0")),
        ("gir 0aa", PostcodeParts("GIR", "GIR 0")),
    ],
)
def test_postcodes_normalise_to_outcode_and_sector(text: str, parts: PostcodeParts) -> None:
    assert parse_postcode(text) == parts


@pytest.mark.parametrize("text", ["", "BS", "12345", "BS3 4CI", "QS1 1AA", "BS3 4AB X"])
def test_malformed_postcodes_are_refused(text: str) -> None:
    with pytest.raises(InvalidPostcode):
        parse_postcode(text)


def test_unknown_outcodes_are_refused() -> None:
    with pytest.raises(UnknownOutcode):
        locate_postcode("YY9 9AA")


def test_bs3_uses_the_corrected_centroid_south_of_the_centre() -> None:
    bs1, bs3 = outcode_table().latlon("BS1"), locate_postcode("BS3 4AB")
    assert bs3 == (51.441, -2.601)
    assert 1.0 < float(haversine_km(*bs1, *bs3)) < 2.5


def test_haversine_is_vectorised_and_sane() -> None:
    lats = np.array([51.4552, 51.5, 51.4552])
    lons = np.array([-2.5966, -2.5966, -2.5966])
    d = haversine_km(51.4552, -2.5966, lats, lons)
    assert d.shape == (3,)
    assert d[0] == 0.0
    assert d[1] == pytest.approx(4.98, abs=0.02)  # 0.0448 degrees of latitude


@pytest.mark.parametrize(
    ("outcode", "area"),
    [
        ("BS3", "bristol"),
        ("BS10", "bristol"),
        ("BS15", "south_gloucestershire"),
        ("BA1", "bath_and_north_east_somerset"),
        ("BS21", "north_somerset"),
        ("EX1", None),
    ],
)
def test_outcode_centroids_fall_in_their_council_area(outcode: str, area: str | None) -> None:
    assert council_area_of(*locate_postcode(outcode)) == area


@pytest.mark.parametrize(
    ("outcode", "circle"),
    [
        ("BS5", "council_area"),
        ("BS15", "combined_authority"),
        ("BA2", "combined_authority"),
        ("BS21", "region"),
        ("EX1", "region"),
        ("TR1", "region"),
        ("SW1A", "national"),
        ("CF10", "national"),
    ],
)
def test_locality_circles_from_bristol(outcode: str, circle: str) -> None:
    assert locality_circle(*locate_postcode(outcode), "bristol") == circle


def test_north_somerset_is_not_in_the_combined_authority() -> None:
    bristol = locate_postcode("BS5")
    assert locality_circle(*bristol, "north_somerset") == "region"


def test_neighbourhoods_resolve_by_outcode_first_match() -> None:
    southmead = neighbourhood_for_outcode("bs10")
    assert southmead is not None and southmead.slug == "southmead"
    bs3 = neighbourhood_for_outcode("BS3")
    assert bs3 is not None and bs3.anchor == "bs3-community"
    assert neighbourhood_for_outcode("EX1") is None
