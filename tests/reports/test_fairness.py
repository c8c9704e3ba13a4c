"""Fairness of work: share of the top 10 % of providers, Gini, providers with work."""

from __future__ import annotations

import pytest

from agency.introductions.models import ArrangementStatus
from agency.providers.models import ListingStatus, ProviderListing
from agency.reports.fairness import fairness
from agency.reports.scope import resolve_scope
from tests.factories import (
    make_admin,
    make_agency,
    make_auditor,
    make_care_request,
    make_council,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
    principal_of,
)
from tests.reports.report_data import make_arrangement


@pytest.fixture
def world(session):
    council = make_council(session)
    a = make_agency(session, council, name="Agency A")
    b = make_agency(session, council, name="Agency B")
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)

    def work(agency, provider, minutes, **kw):
        request = make_care_request(session, seeker, agency)
        return make_arrangement(session, request, provider, minutes, **kw)

    make_provider(session, a)  # p1: no work
    p2 = make_provider(session, a)
    work(a, p2, 300, status=ArrangementStatus.ENDED)  # ended: no hours
    p3 = make_provider(session, a)
    work(a, p3, 120, services=["shopping_errands"])
    p4 = make_provider(session, a)
    work(a, p4, 240)
    p5 = make_provider(session, a)
    work(a, p5, 300)
    work(a, p5, 300, earlier_minutes=30)  # current terms count, not the first
    p6 = make_provider(session, a, status=ListingStatus.SUSPENDED)
    work(a, p6, 900)  # not an approved provider of the agency
    q1 = make_provider(session, b)
    work(b, q1, 60)
    session.add(
        ProviderListing(
            id="lst_p3_at_b",
            provider_id=p3.id,
            agency_id=b.id,
            council_id=council.id,
            status=ListingStatus.APPROVED,
        )
    )
    session.commit()
    work(b, p3, 60)
    return {"council": council, "a": a, "b": b}


def _report(session, user, **filters):
    return fairness(session, resolve_scope(session, principal_of(session, user), **filters))


def _figures(block):
    return (
        block["providers"],
        block["providers_with_work"],
        block["hours_per_week"],
        block["top_decile_providers"],
        block["top_decile_share"],
        block["gini"],
    )


def test_a_manager_sees_how_their_agencys_hours_spread(session, world):
    report = _report(session, make_manager(session, world["a"]))
    # Minutes [0, 0, 120, 240, 600]: Gini = 2*4320/(5*960) - 6/5 = 0.6; top 1 of 5 has 600/960.
    assert _figures(report["total"]) == (5, 3, 16.0, 1, 0.625, 0.6)
    assert [d["hours_per_week"] for d in report["total"]["deciles"]] == [0, 0, 2, 4, 10]
    (agency,) = report["agencies"]
    assert _figures(agency) == _figures(report["total"])


def test_the_total_counts_a_provider_of_two_agencies_once(session, world):
    report = _report(session, make_auditor(session, world["council"]))
    # Minutes [0, 0, 60, 180, 240, 600]: Gini = 2*5700/(6*1080) - 7/6 = 0.5926.
    assert _figures(report["total"]) == (6, 4, 18.0, 1, 0.5556, 0.5926)
    per_agency = {a["agency_name"]: _figures(a) for a in report["agencies"]}
    assert per_agency == {
        "Agency A": (5, 3, 16.0, 1, 0.625, 0.6),
        "Agency B": (2, 2, 2.0, 1, 0.5, 0.0),
    }


def test_the_service_filter_keeps_providers_offering_it_and_their_matching_work(session, world):
    report = _report(session, make_admin(session), service="shopping_errands")
    # Every provider offers shopping (factory default); only p3's first arrangement is for it.
    assert _figures(report["total"]) == (6, 1, 2.0, 1, 1.0, 0.8333)
