"""Consent is versioned and append-only; without current consent no new care request."""

from agency.seekers.models import Consent, RequestStatus
from tests.factories import (
    api_key,
    bearer,
    make_auditor,
    make_care_request,
    make_manager,
    make_partner,
    make_seeker,
)
from tests.seekers.seekers_helpers import ask, consent_body, covered_agency, register


def test_a_new_consent_version_is_appended_and_becomes_current(client, session):
    _, secret = make_partner(session)
    seeker = register(client, secret)
    response = client.post(
        f"/care-seekers/{seeker['id']}/consents",
        json=consent_body(terms_version="2026-06", purposes=["introductions"]),
        headers=api_key(secret),
    )
    assert response.status_code == 201
    assert response.get_json()["terms_version"] == "2026-06"
    read = client.get(f"/care-seekers/{seeker['id']}", headers=api_key(secret)).get_json()
    assert read["consent"]["terms_version"] == "2026-06"
    versions = session.query(Consent).filter_by(seeker_id=seeker["id"]).all()
    assert sorted(c.terms_version for c in versions) == ["2026-01", "2026-06"]


def test_a_consent_body_is_validated(client, session):
    _, secret = make_partner(session)
    seeker = register(client, secret)
    response = client.post(
        f"/care-seekers/{seeker['id']}/consents",
        json=consent_body(purposes=["introductions", "introductions"], terms_version=""),
        headers=api_key(secret),
    )
    assert response.status_code == 422
    assert {"purposes", "terms_version"} <= set(response.get_json()["errors"])


def test_withdrawing_consent_stops_new_care_requests_until_consent_is_given_again(client, session):
    covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    # No body at all: withdrawing needs none (the document says the body is optional).
    withdrawn = client.post(
        f"/care-seekers/{seeker['id']}/consents/withdraw", headers=api_key(secret)
    )
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["has_consent"] is False
    assert withdrawn.get_json()["consent"] is None
    refused = ask(client, secret, seeker["id"])
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "consent_required"
    client.post(
        f"/care-seekers/{seeker['id']}/consents", json=consent_body(), headers=api_key(secret)
    )
    assert ask(client, secret, seeker["id"]).status_code == 201


def test_consent_without_the_introductions_purpose_does_not_allow_a_request(client, session):
    covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret, consent=consent_body(purposes=["isf_administration"]))
    refused = ask(client, secret, seeker["id"])
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "consent_required"


def test_withdrawing_consent_keeps_existing_requests(client, session):
    partner, secret = make_partner(session)
    seeker = make_seeker(session, partner.id)
    request = make_care_request(session, seeker, covered_agency(session))
    client.post(f"/care-seekers/{seeker.id}/consents/withdraw", json={}, headers=api_key(secret))
    session.refresh(request)
    assert request.status is RequestStatus.OPEN


def test_a_withdrawal_time_in_the_future_is_422(client, session):
    _, secret = make_partner(session)
    seeker = register(client, secret)
    response = client.post(
        f"/care-seekers/{seeker['id']}/consents/withdraw",
        json={"withdrawn_at": "2999-01-01T00:00:00Z"},
        headers=api_key(secret),
    )
    assert response.status_code == 422
    assert "withdrawn_at" in response.get_json()["errors"]


def test_only_the_seekers_partner_records_or_withdraws_consent(client, session):
    partner, _ = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id)
    make_care_request(session, seeker, agency)
    own_manager = bearer(session, make_manager(session, agency))
    cases = (
        (api_key(other_secret), 404),
        (bearer(session, make_manager(session)), 404),
        (own_manager, 403),
        (bearer(session, make_auditor(session, agency.council)), 403),
        (bearer(session, make_auditor(session)), 404),
    )
    for headers, status in cases:
        for path, body in (("consents", consent_body()), ("consents/withdraw", {})):
            response = client.post(f"/care-seekers/{seeker.id}/{path}", json=body, headers=headers)
            assert response.status_code == status, (path, status)
    assert len(session.query(Consent).filter_by(seeker_id=seeker.id).all()) == 1
