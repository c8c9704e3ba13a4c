"""Introducing another agency's provider answers as why-not does: 404, the same as for a
provider that does not exist, never a 409 that describes the provider."""

from tests.factories import make_agency, make_provider
from tests.introductions.introductions_helpers import make_world


def _introduce(client, world, provider_id):  # type: ignore[no-untyped-def]
    return client.post(
        f"/care-requests/{world.care_request.id}/introductions",
        json={"provider_id": provider_id, "off_list_reason": "Known to the family"},
        headers=world.manager,
    )


def test_another_agencys_provider_is_hidden_like_a_missing_one(client, session):
    world = make_world(session)
    # Listed elsewhere and out of date on compliance: the old answer was 409 naming why.
    foreign = make_provider(session, make_agency(session), compliant_until=None)
    hidden = _introduce(client, world, foreign.id)
    missing = _introduce(client, world, "prv_doesnotexist")
    assert hidden.status_code == missing.status_code == 404
    assert "constraints" not in hidden.get_json()
    assert hidden.get_json()["code"] == missing.get_json()["code"] == "not_found"
    why_not = client.get(
        f"/care-requests/{world.care_request.id}/why-not/{foreign.id}", headers=world.manager
    )
    assert why_not.status_code == 404


def test_a_provider_of_the_requests_own_agency_is_still_introduced(client, session):
    world = make_world(session)
    mine = make_provider(session, world.agency)
    assert _introduce(client, world, mine.id).status_code == 201
