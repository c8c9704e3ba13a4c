"""Local-spend circles come from the provider's outcode, not from its own point."""

import matching
from agency.directory.models import Locality
from agency.directory.places import locality_of


def test_every_demo_neighbourhood_outcode_is_inside_bristol():
    outcodes = {code for hood in matching.neighbourhoods() for code in hood.outcodes}
    assert outcodes  # the shipped demo neighbourhoods
    for outcode in sorted(outcodes):
        locality, basis = locality_of(outcode, "bristol")
        assert locality is Locality.COUNCIL_AREA, outcode
        assert outcode in basis


def test_a_bs10_base_is_council_area_wherever_the_provider_stands_in_it():
    # BS10's centroid is in Bristol, although points jittered around it can fall
    # in South Gloucestershire; the circle must not depend on the point.
    assert locality_of("BS10", "bristol")[0] is Locality.COUNCIL_AREA
    assert locality_of("BS10", "south_gloucestershire")[0] is Locality.COMBINED_AUTHORITY


def test_no_council_area_means_national():
    assert locality_of("BS3", None) == (Locality.NATIONAL, "no council area configured")
