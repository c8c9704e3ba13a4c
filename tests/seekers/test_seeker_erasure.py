"""Erasure on the person's request: personal data goes, ids and money records stay."""

from agency.seekers.models import CareRequest, CareSeeker, RequestStatus
from tests.factories import (
    api_key,
    bearer,
    make_auditor,
    make_care_request,
    make_manager,
    make_partner,
    make_seeker,
)
from tests.seekers.seekers_helpers import ask, consent_body, covered_agency


def test_erasure_clears_personal_data_and_withdraws_live_requests(client, session):
    partner, secret = make_partner(session)
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id, contact_preference="phone")
    live = make_care_request(session, seeker, agency, notes="Key safe code 1234")
    done = make_care_request(session, seeker, agency, status=RequestStatus.CLOSED)
    response = client.post(f"/care-seekers/{seeker.id}/erase", headers=api_key(secret))
    assert response.status_code == 200
    body = response.get_json()
    assert body["erased"] is True
    assert body["display_name"] is None
    assert body["contact_preference"] is None
    assert body["sector"] is None
    assert body["id"] == seeker.id
    session.expire_all()
    stored = session.get(CareSeeker, seeker.id)
    assert stored.erased_at is not None
    live_now = session.get(CareRequest, live.id)
    assert live_now.status is RequestStatus.WITHDRAWN
    assert live_now.status_reason == "erased"
    assert live_now.notes is None
    assert session.get(CareRequest, done.id).status is RequestStatus.CLOSED


def test_an_erased_seeker_reads_as_nulls_and_refuses_further_writes(client, session):
    partner, secret = make_partner(session)
    seeker = make_seeker(session, partner.id)
    request = make_care_request(session, seeker, covered_agency(session))
    client.post(f"/care-seekers/{seeker.id}/erase", headers=api_key(secret))
    read = client.get(f"/care-seekers/{seeker.id}", headers=api_key(secret))
    assert read.status_code == 200
    assert read.get_json()["erased"] is True
    assert read.get_json()["display_name"] is None
    writes = (
        client.patch(
            f"/care-seekers/{seeker.id}", json={"display_name": "X"}, headers=api_key(secret)
        ),
        client.post(
            f"/care-seekers/{seeker.id}/consents", json=consent_body(), headers=api_key(secret)
        ),
        client.post(
            f"/care-seekers/{seeker.id}/consents/withdraw", json={}, headers=api_key(secret)
        ),
        client.post(f"/care-seekers/{seeker.id}/erase", headers=api_key(secret)),
        ask(client, secret, seeker.id),
        client.patch(f"/care-requests/{request.id}", json={"notes": "x"}, headers=api_key(secret)),
    )
    for response in writes:
        assert response.status_code == 409
        assert response.get_json()["code"] == "seeker_erased"


def test_only_the_seekers_partner_may_erase(client, session):
    partner, _ = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id)
    make_care_request(session, seeker, agency)
    cases = (
        (api_key(other_secret), 404),
        (bearer(session, make_manager(session)), 404),
        (bearer(session, make_manager(session, agency)), 403),
        (bearer(session, make_auditor(session, agency.council)), 403),
    )
    for headers, status in cases:
        assert (
            client.post(f"/care-seekers/{seeker.id}/erase", headers=headers).status_code == status
        )
    session.expire_all()
    assert session.get(CareSeeker, seeker.id).erased_at is None
