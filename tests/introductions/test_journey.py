"""The issue's "done when": the whole journey through the HTTP API on PostgreSQL with a real
RQ worker, while a local receiver gets the partner's signed webhooks and verifies them.

partner registers seeker and request -> the match job stores suggestions -> manager
approves -> provider accepts -> partner confirms -> arrangement; the audit chain holds.
"""

import datetime as dt

import pytest
from rq import SimpleWorker
from sqlalchemy import select, update

from agency.audit.service import verify_chain
from agency.introductions.models import Introduction
from agency.jobs.models import JobRecord
from agency.webhooks.delivery import deliver_one
from agency.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.factories import api_key, make_partner, make_provider
from tests.introductions.introductions_helpers import provider_headers
from tests.seekers.seekers_helpers import ask, covered_agency, register
from tests.webhooks.webhook_receiver import verify

ALL_EVENTS = [
    "introduction.approved",
    "introduction.accepted",
    "introduction.declined",
    "introduction.expired",
    "arrangement.started",
    "arrangement.changed",
    "arrangement.ended",
    "care_request.matched",
]


def _work(queue):
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _journey_setup(client, session, receiver, rq_queue, monkeypatch):
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")  # the worker reads its settings
    agency = covered_agency(session)
    provider = make_provider(session, agency)
    from tests.factories import bearer, make_manager

    manager = bearer(session, make_manager(session, agency))
    _, secret = make_partner(session)
    partner = api_key(secret)
    endpoint = client.post(
        "/webhook-endpoints", json={"url": receiver.url, "events": ALL_EVENTS}, headers=partner
    ).get_json()
    seeker = register(client, secret)
    response = ask(
        client,
        secret,
        seeker["id"],
        services=["companionship"],
        hours_per_week=2,
        windows=[{"weekday": 1, "start": "10:00", "end": "12:00"}],
        funding="self_funded",
        max_rate_pence=2500,
        preferences={},
    )
    assert response.status_code == 201, response.get_json()
    care_request = response.get_json()
    _work(rq_queue)  # the match job
    suggestions = client.get(
        f"/care-requests/{care_request['id']}/suggestions", headers=manager
    ).get_json()
    assert [s["provider_id"] for s in suggestions] == [provider.id], suggestions
    return provider, manager, partner, endpoint, care_request, suggestions[0]


@pytest.mark.redis
@pytest.mark.postgres
def test_the_whole_journey_with_signed_webhooks(client, session, receiver, rq_queue, monkeypatch):
    provider, manager, partner, endpoint, care_request, suggestion = _journey_setup(
        client, session, receiver, rq_queue, monkeypatch
    )
    providers_auth = provider_headers(session, provider)

    approved = client.post(
        f"/care-requests/{care_request['id']}/introductions",
        json={"suggestion_id": suggestion["id"], "note": "Met at the hub"},
        headers=manager,
    )
    assert approved.status_code == 201, approved.get_json()
    introduction_id = approved.get_json()["id"]
    assert receiver.received == []  # queued on RQ, not sent in the request
    _work(rq_queue)
    assert [r.json["type"] for r in receiver.received] == ["introduction.approved"]

    # Everyone else is refused at each step.
    assert (
        client.post(f"/introductions/{introduction_id}/accept", headers=manager).status_code == 403
    )
    assert (
        client.post(f"/introductions/{introduction_id}/accept", headers=partner).status_code == 403
    )
    accepted = client.post(f"/introductions/{introduction_id}/accept", headers=providers_auth)
    assert accepted.status_code == 200
    assert accepted.get_json()["status"] == "awaiting_seeker"
    confirm_url = f"/introductions/{introduction_id}/confirm"
    assert client.post(confirm_url, json={}, headers=providers_auth).status_code == 403
    assert client.post(confirm_url, json={}, headers=manager).status_code == 403
    _, stranger = make_partner(session)
    assert client.post(confirm_url, json={}, headers=api_key(stranger)).status_code == 404
    confirmed = client.post(confirm_url, json={}, headers=partner)
    assert confirmed.status_code == 200, confirmed.get_json()
    arrangement_id = confirmed.get_json()["arrangement_id"]
    # An illegal move names the current state.
    again = client.post(f"/introductions/{introduction_id}/accept", headers=providers_auth)
    assert again.status_code == 409
    assert again.get_json()["current_status"] == "confirmed"
    _work(rq_queue)

    types = [r.json["type"] for r in receiver.received]
    assert types == [
        "introduction.approved",
        "introduction.accepted",
        "arrangement.started",
        "care_request.matched",
    ]
    for received in receiver.received:
        payload = verify(endpoint["secret"], received.headers, received.body)
        assert set(payload["data"]) <= {
            "introduction_id",
            "care_request_id",
            "provider_id",
            "status",
            "arrangement_id",
            "version",
        }
    started = receiver.of_type("arrangement.started")[0].json["data"]
    assert started["arrangement_id"] == arrangement_id
    assert receiver.of_type("care_request.matched")[0].json["data"]["status"] == "matched"

    arrangement = client.get(f"/arrangements/{arrangement_id}", headers=partner).get_json()
    assert arrangement["terms"]["rates_pence"] == {"companionship": 1800}
    assert arrangement["terms"]["minutes_per_week"] == 120
    request_now = client.get(f"/care-requests/{care_request['id']}", headers=partner).get_json()
    assert request_now["status"] == "matched"
    log = client.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", headers=partner).get_json()
    assert {d["status"] for d in log} == {"succeeded"}
    assert verify_chain(session).ok


@pytest.mark.redis
@pytest.mark.postgres
def test_expiry_and_failed_deliveries_on_the_worker(
    app, client, session, receiver, rq_queue, monkeypatch
):
    provider, manager, partner, endpoint, care_request, suggestion = _journey_setup(
        client, session, receiver, rq_queue, monkeypatch
    )
    introduction_id = client.post(
        f"/care-requests/{care_request['id']}/introductions",
        json={"suggestion_id": suggestion["id"]},
        headers=manager,
    ).get_json()["id"]
    receiver.status = 500  # the partner is down for a while
    _work(rq_queue)
    delivery = session.scalar(select(WebhookDelivery))
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
    # The retry is scheduled on RQ too (run by `rq worker --with-scheduler`).
    [scheduled] = rq_queue.scheduled_job_registry.get_job_ids()
    retry = rq_queue.fetch_job(scheduled)
    assert retry.func_name == "agency.webhooks.delivery.deliver_one"
    assert retry.args == (delivery.id,)
    session.execute(
        update(Introduction)
        .where(Introduction.id == introduction_id)
        .values(respond_by=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    session.commit()
    runner = app.extensions["agency"].jobs
    runner.enqueue(session, "expire_introductions", {})
    session.commit()
    receiver.status = 200
    _work(rq_queue)  # expires it, and delivers introduction.expired from the worker
    session.expire_all()
    assert session.get(Introduction, introduction_id).status.value == "expired"
    assert [r.json["type"] for r in receiver.received][-1] == "introduction.expired"
    # When the failed approval's retry is due, the scheduled RQ call sends it...
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(next_attempt_at=dt.datetime.now(dt.UTC))
    )
    session.commit()
    deliver_one(delivery.id)
    session.expire_all()
    assert session.get(WebhookDelivery, delivery.id).status is DeliveryStatus.SUCCEEDED
    # ...and the sweeper job, run by the scheduler, finds nothing left to send.
    sweep = runner.enqueue(session, "deliver_due_webhooks", {})
    session.commit()
    _work(rq_queue)
    session.expire_all()
    assert session.get(JobRecord, sweep.id).result == {"attempted": 0}
    for received in receiver.received:
        verify(endpoint["secret"], received.headers, received.body)
    late = client.post(
        f"/introductions/{introduction_id}/accept", headers=provider_headers(session, provider)
    )
    assert late.status_code == 409
    assert late.get_json()["current_status"] == "expired"
