"""Community activities are ORUK services beside the providers' (issue 16, issue 20)."""

import json

from agency.directory import feed_version
from agency.oruk.service import activity_uuid, interest_term
from tests.activities.test_activities import world  # noqa: F401 - the activities fixture
from tests.factories import make_provider
from tests.oruk.conformance import Tally


def _names(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_json())
    return sorted(item["name"] for item in response.get_json()["contents"])


def test_an_activity_is_a_valid_service_in_the_list_and_by_id(client, session, world):  # noqa: F811
    make_provider(session, world["agency"], trading_name="Cuppa and Chat")
    session.commit()
    activity = world["publish"]()
    service_id = activity_uuid(activity["id"])
    tally = Tally()
    for url in (
        "/oruk/services",
        "/oruk/services?full=true",
        "/oruk/services?minimal=true",
        "/oruk/services?page=2&per_page=1",
        f"/oruk/services/{service_id}",
        f"/oruk/service_at_locations/{tally_sal(client, service_id)}",
        "/oruk/taxonomies",
        "/oruk/taxonomy_terms?per_page=100",
        f"/oruk/taxonomy_terms/{interest_term('food_lunch_club')['id']}",
    ):
        tally.check(client, url)
    assert tally.errors == [], tally.errors[:10]
    listing = client.get("/oruk/services").get_json()
    assert listing["total_items"] == 2
    assert [s["name"] for s in listing["contents"]] == ["Cuppa and Chat", "Lunch club"]
    page_two = client.get("/oruk/services?page=2&per_page=1").get_json()
    assert [s["id"] for s in page_two["contents"]] == [service_id]

    service = client.get(f"/oruk/services/{service_id}").get_json()
    assert service["organization"]["name"] == world["agency"].name
    # The agency's organisation: its activities, none of its providers.
    by_agency = f"/oruk/services?organization_id={service['organization_id']}"
    assert [s["id"] for s in client.get(by_agency).get_json()["contents"]] == [service_id]
    assert service["schedules"][0]["byday"] == "TU"
    assert (service["schedules"][0]["opens_at"], service["schedules"][0]["closes_at"]) == (
        "12:00",
        "14:00",
    )
    assert service["cost_options"][0]["amount"] == 3.5
    assert service["cost_options"][0]["currency"] == "GBP"
    assert service["service_at_locations"][0]["location"]["name"] == "Community hall"
    assert {a["taxonomy_term"]["code"] for a in service["attributes"]} == {
        "food_lunch_club",
        "conversation_cafe",
    }
    assert "capacity" not in service
    assert client.get(f"/oruk/services/{activity['id']}").get_json()["id"] == service_id


def tally_sal(client, service_id):
    service = client.get(f"/oruk/services/{service_id}").get_json()
    return service["service_at_locations"][0]["id"]


def test_filters_apply_to_activities(client, session, world):  # noqa: F811
    world["publish"]()
    world["publish"](
        name="Walking group",
        outcode="BS35",
        venue=None,
        schedule=[{"weekday": 5, "start": "10:00", "end": "12:00"}],
        interests=["walking_outdoors"],
    )
    everyone = ["Lunch club", "Walking group"]
    assert _names(client, "/oruk/services") == everyone
    expectations = {
        "search=lunch": ["Lunch club"],
        "text=windmill": everyone,  # the organiser
        "taxonomy_term_id=walking_outdoors": ["Walking group"],
        f"taxonomy_term_id={interest_term('food_lunch_club')['id']}": ["Lunch club"],
        "taxonomy_term_id=companionship": [],
        "taxonomy_id=introductory-agency-services": [],
        "taxonomy_id=introductory-agency-activity-interests": everyone,
        "postcode=BS3 4AB": ["Lunch club"],
        "postcode=BS3 4AB&proximity=3000": ["Lunch club"],
        "postcode=BS3 4AB&proximity=100000": everyone,
        "day=SA": ["Walking group"],
        "day=TU&start_time=12:00&end_time=13:00": ["Lunch club"],
        "day=TU&start_time=09:00&end_time=10:00": [],
        "modified_after=2999-01-01T00:00:00Z": [],
    }
    for query, names in expectations.items():
        assert _names(client, f"/oruk/services?{query}") == names, query
    assert client.get("/oruk/services?capacity=1").status_code == 422  # unsupported: never ignored
    assert client.get("/oruk/services?taxonomy_term_id=knitting").status_code == 422


def test_nothing_about_seekers_referrals_or_attendance(client, session, world):  # noqa: F811
    activity = world["publish"]()
    body = {"seeker_id": world["seeker"].id}
    referral = client.post(
        f"/activities/{activity['id']}/referrals", json=body, headers=world["manager"]
    )
    assert referral.status_code == 201, referral.get_json()
    service_id = activity_uuid(activity["id"])
    text = json.dumps(
        [
            client.get("/oruk/services?full=true").get_json(),
            client.get(f"/oruk/services/{service_id}").get_json(),
        ]
    ).lower()
    for secret in (world["seeker"].id, referral.get_json()["id"], "referral", "attend", "seeker"):
        assert secret.lower() not in text, secret
    assert "capacity" not in text  # nor places taken or left


def test_a_newly_published_activity_shows_through_the_page_cache(client, session, world):  # noqa: F811
    world["publish"]()
    assert _names(client, "/oruk/services") == ["Lunch club"]
    assert _names(client, "/oruk/services") == ["Lunch club"]  # served from the cache
    before = feed_version.current(session)
    world["publish"](name="Singing for the brain", interests=["music_singing"])
    assert feed_version.current(session) > before
    assert _names(client, "/oruk/services") == ["Lunch club", "Singing for the brain"]
