"""Creating a care request: validation, routing to an agency, a match job, who may."""

import datetime as dt

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from agency.accounts.models import User
from agency.jobs.models import JobRecord
from agency.seekers.models import CareRequest, RequestStatus
from agency.seekers.request_schemas import london_today
from tests.factories import (
    api_key,
    bearer,
    make_auditor,
    make_care_request,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)
from tests.seekers.seekers_helpers import ask, covered_agency, register, request_body


def test_a_covered_request_is_routed_stored_and_queued_for_matching(client, session):
    agency = covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    response = ask(client, secret, seeker["id"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/care-requests/{body['id']}"
    assert body["agency_id"] == agency.id
    assert body["routed"] is True
    assert body["outcode"] == "BS3"
    assert body["neighbourhood_id"] is not None
    assert body["hours_per_week"] == 3
    assert body["services"] == ["companionship", "shopping_errands"]
    assert body["notes"] == "Has a friendly cat."
    assert body["preferences"]["gender"] == "female"
    assert body["preferences"]["known_provider_ids"] == []
    assert body["version"] >= 1
    assert body["job"]["status_url"] == f"/jobs/{body['job']['id']}"
    stored = session.get(CareRequest, body["id"])
    assert stored.minutes_per_week == 180
    assert stored.council_id == agency.council_id
    assert stored.sector == "BS3 4"
    assert stored.last_match_job_id == body["job"]["id"]
    job = session.get(JobRecord, body["job"]["id"])
    assert job.arguments == {"care_request_id": body["id"]}
    status = client.get(body["job"]["status_url"], headers=api_key(secret))
    assert status.status_code == 200


def test_an_uncovered_request_is_kept_as_unmet_need_without_a_job(client, session):
    covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    for postcode in ("BS16 1AA", "EH1 1AA"):
        response = ask(client, secret, seeker["id"], postcode=postcode)
        assert response.status_code == 201
        body = response.get_json()
        assert body["agency_id"] is None
        assert body["routed"] is False
        assert body["status"] == "open"
        assert body["job"] is None
    assert session.scalars(select(JobRecord)).all() == []


def test_the_seekers_outcode_is_used_when_no_postcode_is_given(client, session):
    agency = covered_agency(session, outcodes=("BS4",))
    _, secret = make_partner(session)
    seeker = register(client, secret, postcode="BS4 2AB")
    body = ask(client, secret, seeker["id"]).get_json()
    assert body["outcode"] == "BS4"
    assert body["agency_id"] == agency.id


def test_the_bodys_postcode_routes_over_the_seekers_outcode(client, session):
    # Both are read with the seeker in one statement: the body's outcode decides.
    covered_agency(session, outcodes=("BS4",))
    body_agency = covered_agency(session, outcodes=("BS5",))
    _, secret = make_partner(session)
    seeker = register(client, secret, postcode="BS4 2AB")
    body = ask(client, secret, seeker["id"], postcode="BS5 6XX").get_json()
    assert (body["outcode"], body["agency_id"]) == ("BS5", body_agency.id)
    assert session.get(CareRequest, body["id"]).council_id == body_agency.council_id


def test_a_partners_request_reads_its_seeker_with_the_api_key(client, session):
    # No postcode: the seeker (consent, routing) rides in the key's statement; with one,
    # the seeker is read in the request's transaction with the body's outcode.
    covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        assert ask(client, secret, seeker["id"]).status_code == 201
        reading_seeker = [s for s in statements if "FROM care_seekers" in s]
        assert len(reading_seeker) == 1 and "api_keys" in reading_seeker[0]
        statements.clear()
        assert ask(client, secret, seeker["id"], postcode="BS3 1AA").status_code == 201
        reading_seeker = [s for s in statements if "FROM care_seekers" in s]
        assert len(reading_seeker) == 1 and "api_keys" not in reading_seeker[0]
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


def test_another_partners_seeker_is_404_before_a_bad_postcode_is_422(client, session):
    _, secret = make_partner(session)
    _, other_secret = make_partner(session)
    seeker = register(client, other_secret)
    response = ask(client, secret, seeker["id"], postcode="ZZ9 9ZZ")
    assert response.status_code == 404


def test_bad_postcodes_are_422_naming_postcode(client, session):
    _, secret = make_partner(session)
    seeker = register(client, secret)
    for postcode in ("ZZ9 9ZZ", "not a postcode"):
        response = ask(client, secret, seeker["id"], postcode=postcode)
        assert response.status_code == 422
        assert "postcode" in response.get_json()["errors"]


def test_each_invalid_field_is_422_naming_it(client, session):
    covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    yesterday = (london_today() - dt.timedelta(days=1)).isoformat()
    cases = {
        "services": [
            {"services": ["astrology"]},
            {"services": []},
            {"services": ["companionship", "companionship"]},
        ],
        "hours_per_week": [
            {"hours_per_week": 1.25},
            {"hours_per_week": 0},
            {"hours_per_week": 61},
            {"hours_per_week": 5},  # more than the 4 hours of windows
        ],
        "windows": [
            {"windows": [{"weekday": 1, "start": "10:15", "end": "12:00"}]},
            {"windows": [{"weekday": 7, "start": "10:00", "end": "12:00"}]},
            {"windows": [{"weekday": 1, "start": "12:00", "end": "10:00"}]},
            {"windows": []},
        ],
        "start_date": [{"start_date": yesterday}],
        "urgency": [{"urgency": "whenever"}],
        "funding": [{"funding": "lottery"}],
        "max_rate_pence": [{"max_rate_pence": 12.5}],
        "notes": [{"notes": "x" * 1001}],
        "preferences": [
            {"preferences": {"known_provider_ids": ["prv_missing"]}},
            {"preferences": {"gender_required": "sometimes"}},
        ],
        "allow_split": [{"allow_split": "perhaps"}],
    }
    for field, bodies in cases.items():
        for overrides in bodies:
            response = ask(client, secret, seeker["id"], **overrides)
            assert response.status_code == 422, overrides
            assert field in response.get_json()["errors"], (overrides, response.get_json())
    assert session.scalars(select(CareRequest)).all() == []


def test_hours_may_fill_the_windows_exactly(client, session):
    covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    response = ask(client, secret, seeker["id"], hours_per_week=4, allow_split=True)
    assert response.status_code == 201
    assert response.get_json()["allow_split"] is True


def test_known_providers_are_kept_for_continuity(client, session):
    agency = covered_agency(session)
    provider = make_provider(session, agency)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    preferences = {"known_provider_ids": [provider.id], "language_required": True}
    body = ask(client, secret, seeker["id"], preferences=preferences).get_json()
    assert body["preferences"]["known_provider_ids"] == [provider.id]
    assert body["preferences"]["language_required"] is True


def test_only_the_seekers_partner_asks_for_care(client, session):
    partner, _ = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id)
    make_care_request(session, seeker, agency)
    provider_user = session.get(User, make_provider(session, agency).user_id)
    cases = (
        (api_key(other_secret), 404),
        (bearer(session, make_manager(session)), 404),
        (bearer(session, make_manager(session, agency)), 403),
        (bearer(session, make_auditor(session, agency.council)), 403),
        (bearer(session, provider_user), 404),
    )
    for headers, status in cases:
        response = client.post(
            f"/care-seekers/{seeker.id}/care-requests", json=request_body(), headers=headers
        )
        assert response.status_code == status
    assert len(session.scalars(select(CareRequest)).all()) == 1
    assert session.scalars(select(CareRequest)).one().status is RequestStatus.OPEN


def test_an_unknown_service_is_refused_beside_keys_already_accepted(client, session):
    # Known keys are remembered per process (reference data); an unknown one is still read
    # from the taxonomy and refused.
    covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    assert ask(client, secret, seeker["id"]).status_code == 201
    known = request_body()["services"]
    response = ask(client, secret, seeker["id"], services=[*known, "astrology"])
    assert response.status_code == 422
    assert response.get_json()["errors"]["services"] == ["Unknown service types: astrology."]
