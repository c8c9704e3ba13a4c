"""The care request lifecycle: one table of allowed moves, withdraw and close."""

import pytest

from agency.seekers.lifecycle import transition_request
from agency.seekers.models import CareRequest, RequestStatus
from tests.factories import (
    api_key,
    bearer,
    make_auditor,
    make_care_request,
    make_manager,
    make_partner,
    make_seeker,
)
from tests.seekers.seekers_helpers import covered_agency

OPEN, MATCHING, MATCHED = RequestStatus.OPEN, RequestStatus.MATCHING, RequestStatus.MATCHED
CLOSED, WITHDRAWN = RequestStatus.CLOSED, RequestStatus.WITHDRAWN


def test_the_happy_path_moves_open_to_closed_and_stamps_times(session):
    partner, _ = make_partner(session)
    request = make_care_request(session, make_seeker(session, partner.id), covered_agency(session))
    for status in (MATCHING, MATCHED, CLOSED):
        transition_request(session, request, status, f"now {status.value}")
    session.commit()
    assert request.status is CLOSED
    assert request.status_reason == "now closed"
    assert request.matched_at is not None
    assert request.closed_at is not None


# What a partner and a manager see, written out here rather than read from ALLOWED_MOVES:
# a partner withdraws a request until it is closed; a manager closes only a matched one.
WITHDRAWABLE = {OPEN: True, MATCHING: True, MATCHED: True, CLOSED: False, WITHDRAWN: False}
CLOSABLE = {OPEN: False, MATCHING: False, MATCHED: True, CLOSED: False, WITHDRAWN: False}


@pytest.mark.parametrize("start", list(RequestStatus))
def test_withdraw_and_close_through_the_api_from_every_status(client, session, start):
    partner, secret = make_partner(session)
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id)
    manager = bearer(session, make_manager(session, agency))
    for action, headers, allowed, end in (
        ("withdraw", api_key(secret), WITHDRAWABLE[start], "withdrawn"),
        ("close", manager, CLOSABLE[start], "closed"),
    ):
        request = make_care_request(session, seeker, agency, status=start)
        response = client.post(
            f"/care-requests/{request.id}/{action}", json={"reason": "x"}, headers=headers
        )
        body = response.get_json()
        if allowed:
            assert response.status_code == 200, (action, start)
            assert body["status"] == end
        else:
            assert response.status_code == 409, (action, start)
            assert body["code"] == "illegal_transition"
            assert start.value in body["message"]
        shown = client.get(f"/care-requests/{request.id}", headers=api_key(secret)).get_json()
        assert shown["status"] == (end if allowed else start.value)


def test_a_partner_withdraws_a_request_once(client, session):
    partner, secret = make_partner(session)
    request = make_care_request(session, make_seeker(session, partner.id), covered_agency(session))
    url = f"/care-requests/{request.id}/withdraw"
    response = client.post(url, json={"reason": "Family helping now"}, headers=api_key(secret))
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"
    assert response.get_json()["status_reason"] == "Family helping now"
    again = client.post(url, json={"reason": "again"}, headers=api_key(secret))
    assert again.status_code == 409
    assert again.get_json()["code"] == "illegal_transition"
    assert "withdrawn" in again.get_json()["message"]


def test_a_manager_closes_a_matched_request_but_not_an_open_one(client, session):
    partner, _ = make_partner(session)
    agency = covered_agency(session)
    seeker = make_seeker(session, partner.id)
    matched = make_care_request(session, seeker, agency, status=MATCHED)
    still_open = make_care_request(session, seeker, agency)
    manager = bearer(session, make_manager(session, agency))
    closed = client.post(
        f"/care-requests/{matched.id}/close", json={"reason": "Support under way"}, headers=manager
    )
    assert closed.status_code == 200
    assert closed.get_json()["status"] == "closed"
    refused = client.post(
        f"/care-requests/{still_open.id}/close", json={"reason": "x"}, headers=manager
    )
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "illegal_transition"
    assert "open" in refused.get_json()["message"]


def test_a_reason_is_required(client, session):
    partner, secret = make_partner(session)
    agency = covered_agency(session)
    request = make_care_request(session, make_seeker(session, partner.id), agency, status=MATCHED)
    for url, headers in (
        (f"/care-requests/{request.id}/withdraw", api_key(secret)),
        (f"/care-requests/{request.id}/close", bearer(session, make_manager(session, agency))),
    ):
        response = client.post(url, json={"reason": ""}, headers=headers)
        assert response.status_code == 422
        assert "reason" in response.get_json()["errors"]


def test_withdraw_is_for_the_partner_and_close_for_the_agencys_manager(client, session):
    partner, secret = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    agency = covered_agency(session)
    request = make_care_request(session, make_seeker(session, partner.id), agency, status=MATCHED)
    own_manager = bearer(session, make_manager(session, agency))
    refusals = {
        "withdraw": (
            (api_key(other_secret), 404),
            (bearer(session, make_manager(session)), 404),
            (own_manager, 403),
            (bearer(session, make_auditor(session, agency.council)), 403),
        ),
        "close": (
            (api_key(secret), 403),
            (api_key(other_secret), 404),
            (bearer(session, make_manager(session)), 404),
            (bearer(session, make_auditor(session, agency.council)), 403),
        ),
    }
    for action, cases in refusals.items():
        for headers, status in cases:
            response = client.post(
                f"/care-requests/{request.id}/{action}", json={"reason": "x"}, headers=headers
            )
            assert response.status_code == status, (action, status)
    session.expire_all()
    assert session.get(CareRequest, request.id).status is MATCHED
