"""The matcher's HTTP API: who may see suggestions, ask for a re-match, a why-not, a plan."""

import pytest
from rq import SimpleWorker

from agency.introductions.match_jobs import enqueue_match
from agency.providers.models import ListingStatus
from tests.factories import (
    api_key,
    bearer,
    make_admin,
    make_agency,
    make_auditor,
    make_care_request,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)


@pytest.fixture
def world(app, session):
    agency = make_agency(session)
    partner, secret = make_partner(session)
    seeker = make_seeker(session, partner.id)
    provider = make_provider(session, agency)
    unapproved = make_provider(session, agency, status=ListingStatus.APPLIED)
    care_request = make_care_request(session, seeker, agency)
    with app.app_context():
        enqueue_match(session, care_request)
        session.commit()
    if not app.extensions["agency"].settings.inline_jobs:
        queue = __import__("agency.jobs.queue", fromlist=["rq_queue"]).rq_queue(
            app.extensions["agency"].settings.redis_url,
            app.extensions["agency"].settings.queue_name,
        )
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    return {
        "agency": agency,
        "partner": secret,
        "seeker": seeker,
        "provider": provider,
        "unapproved": unapproved,
        "request": care_request,
        "manager": bearer(session, make_manager(session, agency)),
        "other_manager": bearer(session, make_manager(session)),
        "auditor": bearer(session, make_auditor(session, agency.council)),
        "other_auditor": bearer(session, make_auditor(session)),
        "other_partner": api_key(make_partner(session, name="other")[1]),
        "provider_user": bearer(session, _user_of(session, provider)),
    }


def _user_of(session, provider):
    from agency.accounts.models import User

    return session.get(User, provider.user_id)


@pytest.fixture(autouse=True)
def _needs_worker(request, settings):
    if settings.redis_url:
        request.getfixturevalue("rq_queue")


def test_a_manager_reads_explained_suggestions(client, world):
    response = client.get(
        f"/care-requests/{world['request'].id}/suggestions", headers=world["manager"]
    )
    assert response.status_code == 200
    [suggestion] = response.get_json()
    assert suggestion["provider_id"] == world["provider"].id
    assert suggestion["rank"] == 1
    assert suggestion["explanation"]["distance"]["weight"] > 0


def test_an_auditor_of_the_council_reads_suggestions_but_cannot_rematch(client, world):
    url = f"/care-requests/{world['request'].id}"
    assert client.get(f"{url}/suggestions", headers=world["auditor"]).status_code == 200
    assert client.post(f"{url}/rematch", headers=world["auditor"]).status_code == 403


def test_others_are_refused_suggestions(client, world):
    url = f"/care-requests/{world['request'].id}/suggestions"
    assert client.get(url, headers=world["other_manager"]).status_code == 404
    assert client.get(url, headers=world["other_auditor"]).status_code == 404
    assert client.get(url, headers=api_key(world["partner"])).status_code == 403
    assert client.get(url, headers=world["other_partner"]).status_code == 403
    assert client.get(url, headers=world["provider_user"]).status_code == 403
    assert client.get(url).status_code == 401


def test_a_manager_asks_for_a_rematch_and_gets_a_job_link(client, world):
    response = client.post(
        f"/care-requests/{world['request'].id}/rematch", headers=world["manager"]
    )
    assert response.status_code == 202
    job = response.get_json()
    assert job["status_url"] == f"/jobs/{job['id']}"
    assert client.get(job["status_url"], headers=world["manager"]).status_code == 200
    refused = client.post(
        f"/care-requests/{world['request'].id}/rematch", headers=world["other_manager"]
    )
    assert refused.status_code == 404


def test_why_not_names_the_failed_constraint(client, world):
    url = f"/care-requests/{world['request'].id}/why-not"
    response = client.get(f"{url}/{world['unapproved'].id}", headers=world["manager"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["eligible"] is False
    assert body["failed_constraints"] == ["not_approved_by_agency"]
    assert "approved" in body["descriptions"][0]
    eligible = client.get(f"{url}/{world['provider'].id}", headers=world["manager"]).get_json()
    assert eligible == {**eligible, "eligible": True, "failed_constraints": []}
    assert client.get(f"{url}/prv_nope", headers=world["manager"]).status_code == 404
    assert (
        client.get(f"{url}/{world['provider'].id}", headers=world["other_manager"]).status_code
        == 404
    )


def test_the_partner_follows_matching_without_seeing_internals(client, world):
    url = f"/care-requests/{world['request'].id}/matching"
    response = client.get(url, headers=api_key(world["partner"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["suggestions"] == 1 and body["routed"] is True
    assert body["request_status"] == "matching"
    assert body["last_job"]["status"] == "finished"
    assert "provider_id" not in str(body)
    assert client.get(url, headers=world["other_partner"]).status_code == 404


def test_a_manager_runs_a_batch_plan_and_reads_its_figures(client, world, app, settings):
    agency_id = world["agency"].id
    assert (
        client.get(
            f"/agencies/{agency_id}/match-plans/latest", headers=world["manager"]
        ).status_code
        == 404
    )
    response = client.post(f"/agencies/{agency_id}/match-plans", headers=world["manager"])
    assert response.status_code == 202
    if settings.redis_url:
        from agency.jobs.queue import rq_queue

        queue = rq_queue(settings.redis_url, settings.queue_name)
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    plan = client.get(f"/agencies/{agency_id}/match-plans/latest", headers=world["manager"])
    assert plan.status_code == 200
    body = plan.get_json()
    assert body["figures"]["hours_requested"] == 2.0
    assert body["figures"]["hours_placed"] == 2.0
    assert body["placements"] == [
        {"care_request_id": world["request"].id, "provider_id": world["provider"].id, "hours": 2.0}
    ]
    assert (
        client.get(
            f"/agencies/{agency_id}/match-plans/latest", headers=world["auditor"]
        ).status_code
        == 200
    )
    for other in ("other_manager", "other_auditor"):
        assert (
            client.get(
                f"/agencies/{agency_id}/match-plans/latest", headers=world[other]
            ).status_code
            == 404
        )
    assert (
        client.post(f"/agencies/{agency_id}/match-plans", headers=world["auditor"]).status_code
        == 403
    )
    assert (
        client.post(
            f"/agencies/{agency_id}/match-plans", headers=api_key(world["partner"])
        ).status_code
        == 403
    )


def test_an_admin_may_read_any_agencys_suggestions(client, session, world):
    admin = bearer(session, make_admin(session))
    assert (
        client.get(f"/care-requests/{world['request'].id}/suggestions", headers=admin).status_code
        == 200
    )
