"""The hourly re-plan: the agency's own weights, in-flight introductions fixed, stable plans."""

import datetime as dt

from agency.ids import new_id
from agency.introductions.models import Introduction, IntroductionStatus, MatchPlan
from agency.introductions.replan import plan_agency
from tests.factories import (
    make_agency,
    make_care_request,
    make_partner,
    make_provider,
    make_seeker,
)

FAR = 0.03  # degrees of latitude north of BS3: about 3.3 km, inside the 5 km radius


def store(session, agency, planned):
    plan = MatchPlan(
        id=new_id("pln"),
        agency_id=agency.id,
        council_id=agency.council_id,
        figures=planned.figures,
        placements=planned.placements,
    )
    session.add(plan)
    session.commit()
    return plan


def providers_of(planned, care_request):
    return {p["provider_id"] for p in planned.placements if p["care_request_id"] == care_request.id}


def test_the_replan_uses_the_agencys_own_weights(session):
    agency = make_agency(session)
    seeker = make_seeker(session, make_partner(session)[0].id)
    near_dear = make_provider(session, agency, rates={"companionship": 2400})
    far_cheap = make_provider(session, agency, rates={"companionship": 1500})
    far_cheap.lat += FAR
    session.commit()
    request = make_care_request(session, seeker, agency)

    assert providers_of(plan_agency(session, agency), request) == {near_dear.id}
    zero = dict.fromkeys(
        ["distance", "window_coverage", "language", "gender", "continuity", "load"], 0.0
    )
    agency.matching_weights = {**zero, "rate": 1.0, "reliability": 0.0, "urgency": 0.0}
    session.commit()
    planned = plan_agency(session, agency)
    assert providers_of(planned, request) == {far_cheap.id}
    assert planned.figures["weights"][2] == 1.0  # rate


def test_a_request_with_an_introduction_in_flight_keeps_its_provider_and_its_hours(session):
    agency = make_agency(session)
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)
    chosen = make_provider(session, agency, capacity_hours_per_week=2.0)
    introduced = make_care_request(session, seeker, agency)  # 2 hours a week
    other = make_care_request(session, seeker, agency)
    session.add(
        Introduction(
            id=new_id("itr"),
            care_request_id=introduced.id,
            provider_id=chosen.id,
            agency_id=agency.id,
            council_id=agency.council_id,
            partner_client_id=partner.id,
            approved_by=chosen.user_id,
            status=IntroductionStatus.AWAITING_PROVIDER,
            respond_by=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        )
    )
    session.commit()

    planned = plan_agency(session, agency)

    fixed = [p for p in planned.placements if p.get("fixed")]
    assert fixed == [
        {"care_request_id": introduced.id, "provider_id": chosen.id, "hours": 2.0, "fixed": True}
    ]
    assert planned.figures["fixed_in_flight"] == 1
    assert planned.figures["requests"] == 1
    # The provider's two hours are promised: the other request cannot have them.
    assert providers_of(planned, other) == set()


def test_a_replan_on_the_same_data_changes_no_suggestion_and_says_so(session):
    agency = make_agency(session)
    seeker = make_seeker(session, make_partner(session)[0].id)
    for _ in range(3):
        make_provider(session, agency, capacity_hours_per_week=4.0)
    requests = [make_care_request(session, seeker, agency) for _ in range(5)]

    first = plan_agency(session, agency)
    assert first.figures["previous_plan_id"] is None
    assert first.figures["changed_since_previous"] == 0
    stored = store(session, agency, first)
    second = plan_agency(session, agency)

    assert second.figures["previous_plan_id"] == stored.id
    assert second.figures["compared_with_previous"] == len(
        {p["care_request_id"] for p in first.placements}
    )
    assert second.figures["changed_since_previous"] == 0
    assert [providers_of(second, r) for r in requests] == [providers_of(first, r) for r in requests]
