"""A 404 never tells a hidden object from a missing one: same status, code and message."""

from tests.factories import (
    api_key,
    bearer,
    make_care_request,
    make_manager,
    make_partner,
    make_seeker,
)
from tests.seekers.seekers_helpers import covered_agency


def test_a_hidden_care_request_and_a_missing_one_get_the_same_404(client, session):
    partner, _ = make_partner(session)
    _, other_secret = make_partner(session, name="other")
    agency = covered_agency(session)
    hidden = make_care_request(session, make_seeker(session, partner.id), agency)
    missing_id = "req_" + "0" * 24
    for headers in (api_key(other_secret), bearer(session, make_manager(session))):
        seen = client.get(f"/care-requests/{hidden.id}", headers=headers).get_json()
        absent = client.get(f"/care-requests/{missing_id}", headers=headers).get_json()
        assert seen["code"] == absent["code"] == "not_found"
        assert seen["message"] == absent["message"].replace(missing_id, hidden.id)
        assert seen["message"] == f"No care request with id {hidden.id}."
