"""Reading care requests: each principal sees its own slice; auditors see pseudonyms."""

import datetime as dt

from agency.accounts.models import User
from agency.privacy import pseudonym
from agency.seekers.models import Funding, RequestStatus, Urgency
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_auditor,
    make_care_request,
    make_manager,
    make_neighbourhood,
    make_partner,
    make_provider,
    make_seeker,
)
from tests.seekers.seekers_helpers import covered_agency


def _ids(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_json()
    return {r["id"] for r in response.get_json()}


def test_each_principal_lists_only_its_own_slice(client, session):
    partner, secret = make_partner(session)
    other, other_secret = make_partner(session, name="other")
    agency = covered_agency(session)
    neighbour = make_agency(session, agency.council)
    far_agency = make_agency(session)
    mine = make_care_request(session, make_seeker(session, partner.id), agency)
    theirs = make_care_request(session, make_seeker(session, other.id), neighbour)
    far = make_care_request(session, make_seeker(session, other.id), far_agency)
    uncovered = make_care_request(session, make_seeker(session, partner.id), None)
    assert _ids(client.get("/care-requests", headers=api_key(secret))) == {mine.id, uncovered.id}
    assert _ids(client.get("/care-requests", headers=api_key(other_secret))) == {theirs.id, far.id}
    manager = bearer(session, make_manager(session, agency))
    assert _ids(client.get("/care-requests", headers=manager)) == {mine.id}
    auditor = bearer(session, make_auditor(session, agency.council))
    assert _ids(client.get("/care-requests", headers=auditor)) == {mine.id, theirs.id}
    provider_user = session.get(User, make_provider(session, agency).user_id)
    assert client.get("/care-requests", headers=bearer(session, provider_user)).status_code == 403


def test_auditors_see_a_pseudonym_and_no_notes(client, session, settings):
    partner, secret = make_partner(session)
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id)
    request = make_care_request(session, seeker, agency, notes="Key under the mat")
    auditor = bearer(session, make_auditor(session, agency.council))
    for response in (
        client.get("/care-requests", headers=auditor),
        client.get(f"/care-requests/{request.id}", headers=auditor),
    ):
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert seeker.id not in text
        assert seeker.display_name not in text
        assert "Key under the mat" not in text
        assert pseudonym(settings.secret_key, seeker.id) in text
    manager = bearer(session, make_manager(session, agency))
    seen = client.get(f"/care-requests/{request.id}", headers=manager).get_json()
    assert seen["notes"] == "Key under the mat"
    assert seen["seeker_id"] == seeker.id
    assert seen["seeker_pseudonym"] is None
    assert client.get(f"/care-requests/{request.id}", headers=api_key(secret)).status_code == 200


def test_filters_narrow_the_list(client, session):
    partner, secret = make_partner(session)
    agency = covered_agency(session)
    hood = make_neighbourhood(session, agency, outcodes=("BS4",))
    seeker = make_seeker(session, partner.id)
    urgent = make_care_request(
        session, seeker, agency, urgency=Urgency.HOSPITAL_DISCHARGE, funding=Funding.ISF
    )
    garden = make_care_request(
        session, seeker, agency, services=["gardening_repairs"], neighbourhood_id=hood.id
    )
    closed = make_care_request(session, seeker, agency, status=RequestStatus.CLOSED)
    unrouted = make_care_request(session, seeker, None)
    headers = api_key(secret)
    assert _ids(client.get("/care-requests?status=closed", headers=headers)) == {closed.id}
    assert _ids(client.get("/care-requests?urgency=hospital_discharge", headers=headers)) == {
        urgent.id
    }
    assert _ids(client.get("/care-requests?funding=isf", headers=headers)) == {urgent.id}
    assert _ids(client.get("/care-requests?service=gardening_repairs", headers=headers)) == {
        garden.id
    }
    assert _ids(client.get("/care-requests?service=gardening", headers=headers)) == set()
    assert _ids(client.get(f"/care-requests?neighbourhood_id={hood.id}", headers=headers)) == {
        garden.id
    }
    assert _ids(client.get("/care-requests?unrouted=true", headers=headers)) == {unrouted.id}
    assert unrouted.id not in _ids(client.get("/care-requests?unrouted=false", headers=headers))


def test_lists_sort_and_paginate(client, session):
    partner, secret = make_partner(session)
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id)
    base = dt.date(2027, 1, 4)
    made = [
        make_care_request(
            session, seeker, agency, start_date=base + dt.timedelta(days=n), urgency=urgency
        )
        for n, urgency in enumerate((Urgency.SOON, Urgency.HOSPITAL_DISCHARGE, Urgency.ROUTINE))
    ]
    headers = api_key(secret)
    by_start = client.get("/care-requests?sort=start_date", headers=headers).get_json()
    assert [r["id"] for r in by_start] == [r.id for r in made]
    most_urgent = client.get("/care-requests?sort=-urgency", headers=headers).get_json()
    assert [r["urgency"] for r in most_urgent] == ["hospital_discharge", "soon", "routine"]
    page = client.get("/care-requests?sort=-start_date&page=2&page_size=2", headers=headers)
    assert [r["id"] for r in page.get_json()] == [made[0].id]
    assert '"total": 3' in page.headers["X-Pagination"]


def test_bad_list_parameters_are_422_naming_them(client, session):
    _, secret = make_partner(session)
    for query, field in (
        ("sort=name", "sort"),
        ("status=lost", "status"),
        ("urgency=now", "urgency"),
        ("unrouted=maybe", "unrouted"),
    ):
        response = client.get(f"/care-requests?{query}", headers=api_key(secret))
        assert response.status_code == 422, query
        assert field in response.get_json()["errors"]


def test_others_cannot_read_a_request(client, session):
    partner, _ = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    agency = covered_agency(session)
    request = make_care_request(session, make_seeker(session, partner.id), agency)
    provider_user = session.get(User, make_provider(session, agency).user_id)
    for headers in (
        api_key(other_secret),
        bearer(session, make_manager(session)),
        bearer(session, make_auditor(session)),
        bearer(session, provider_user),
    ):
        assert client.get(f"/care-requests/{request.id}", headers=headers).status_code == 404
    assert (
        client.get("/care-requests/req_missing", headers=api_key(other_secret)).status_code == 404
    )
