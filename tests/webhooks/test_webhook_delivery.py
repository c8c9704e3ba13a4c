"""Events are stored with the state change, delivered signed, retried, logged and re-sent."""

import datetime as dt

from sqlalchemy import select, update

from agency.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from tests.introductions.introductions_helpers import approve, approved, make_world
from tests.webhooks.webhook_receiver import verify

EVENTS = ["introduction.approved", "introduction.accepted", "introduction.declined"]


def _subscribe(client, world, receiver, events=EVENTS):
    response = client.post(
        "/webhook-endpoints",
        json={"url": receiver.url, "events": events},
        headers=world.partner_auth,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_approval_is_delivered_signed_with_ids_and_status_only(client, session, receiver):
    world = make_world(session)
    endpoint = _subscribe(client, world, receiver)
    introduction_id = approved(client, world)
    [received] = receiver.received
    payload = verify(endpoint["secret"], received.headers, received.body)
    assert payload["type"] == "introduction.approved"
    assert payload["data"] == {
        "introduction_id": introduction_id,
        "care_request_id": world.care_request.id,
        "provider_id": world.provider.id,
        "status": "awaiting_provider",
    }
    assert world.seeker.display_name not in received.body.decode()
    assert received.headers["webhook-id"].startswith("msg_")
    log = client.get(
        f"/webhook-endpoints/{endpoint['id']}/deliveries", headers=world.partner_auth
    ).get_json()
    assert log[0]["status"] == "succeeded"
    assert log[0]["log"][0]["status_code"] == 200


def test_a_refused_change_sends_nothing(client, session, receiver):
    world = make_world(session, max_rate_pence=100)
    _subscribe(client, world, receiver)
    assert approve(client, world).status_code == 409
    assert receiver.received == []
    assert session.scalar(select(WebhookEvent.id)) is None


def test_only_subscribed_events_are_sent(client, session, receiver):
    world = make_world(session)
    _subscribe(client, world, receiver, events=["introduction.accepted"])
    introduction_id = approved(client, world)
    assert receiver.received == []
    client.post(f"/introductions/{introduction_id}/accept", headers=world.provider_auth)
    assert [r.json["type"] for r in receiver.received] == ["introduction.accepted"]


def test_a_failing_receiver_is_retried_with_back_off_until_it_answers(
    app, client, session, receiver
):
    world = make_world(session)
    endpoint = _subscribe(client, world, receiver)
    receiver.status = 500
    approved(client, world)
    delivery = session.scalar(select(WebhookDelivery))
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    wait = delivery.next_attempt_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(seconds=0) < wait <= dt.timedelta(seconds=5)
    runner = app.test_cli_runner()
    assert "attempted 0" in runner.invoke(args=["deliver-due-webhooks"]).output  # not due yet
    _make_due(session)
    assert "attempted 1" in runner.invoke(args=["deliver-due-webhooks"]).output
    session.expire_all()
    delivery = session.get(WebhookDelivery, delivery.id)
    assert delivery.attempts == 2
    assert delivery.next_attempt_at - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=4)
    receiver.status = 204
    _make_due(session)
    runner.invoke(args=["deliver-due-webhooks"])
    session.expire_all()
    delivery = session.get(WebhookDelivery, delivery.id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert len(receiver.received) == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # same message id
    for received in receiver.received:
        verify(endpoint["secret"], received.headers, received.body)


def _make_due(session):
    session.execute(
        update(WebhookDelivery).values(
            next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        )
    )
    session.commit()


def test_after_the_last_retry_a_delivery_fails_and_can_be_redelivered(
    app, client, session, receiver
):
    from agency.webhooks.delivery import RETRY_DELAYS

    world = make_world(session)
    endpoint = _subscribe(client, world, receiver)
    receiver.status = 503
    approved(client, world)
    runner = app.test_cli_runner()
    for _ in RETRY_DELAYS:
        _make_due(session)
        runner.invoke(args=["deliver-due-webhooks"])
    session.expire_all()
    delivery = session.scalar(select(WebhookDelivery))
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == len(RETRY_DELAYS) + 1
    receiver.status = 200
    response = client.post(f"/webhook-deliveries/{delivery.id}/redeliver", headers=world.manager)
    assert response.status_code == 403
    response = client.post(
        f"/webhook-deliveries/{delivery.id}/redeliver", headers=world.partner_auth
    )
    assert response.status_code == 202
    assert response.get_json()["status"] == "pending"  # queued; inline jobs send it at once
    session.expire_all()
    assert session.get(WebhookDelivery, delivery.id).status is DeliveryStatus.SUCCEEDED
    assert receiver.received[-1].headers["webhook-id"] == delivery.event_id
    log = client.get(
        f"/webhook-endpoints/{endpoint['id']}/deliveries", headers=world.partner_auth
    ).get_json()
    assert len(log[0]["log"]) == len(RETRY_DELAYS) + 2


def test_redirects_are_not_followed(client, session, receiver):
    world = make_world(session)
    _subscribe(client, world, receiver)
    receiver.status = 302
    approved(client, world)
    assert [r.path for r in receiver.received] == ["/hooks"]  # /hooks/moved never requested
    delivery = session.scalar(select(WebhookDelivery))
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.last_status_code == 302


def test_no_event_is_lost_when_the_worker_dies_before_sending(
    app, client, session, receiver, monkeypatch
):
    world = make_world(session)
    endpoint = _subscribe(client, world, receiver)
    runner = app.extensions["agency"].jobs
    monkeypatch.setattr(type(runner), "dispatch", lambda self, *job: None)  # the job is lost
    approved(client, world)
    assert receiver.received == []
    monkeypatch.undo()
    output = app.test_cli_runner().invoke(args=["deliver-due-webhooks"]).output
    assert "attempted 1" in output
    [received] = receiver.received
    verify(endpoint["secret"], received.headers, received.body)


def test_after_rotation_both_secrets_sign_for_a_grace_period(client, session, receiver):
    world = make_world(session)
    old = _subscribe(client, world, receiver)
    new = client.post(
        f"/webhook-endpoints/{old['id']}/rotate-secret", headers=world.partner_auth
    ).get_json()
    approved(client, world)
    [received] = receiver.received
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    verify(new["secret"], received.headers, received.body)
    verify(old["secret"], received.headers, received.body)


def test_a_deleted_endpoint_receives_nothing(client, session, receiver):
    world = make_world(session)
    endpoint = _subscribe(client, world, receiver)
    client.delete(f"/webhook-endpoints/{endpoint['id']}", headers=world.partner_auth)
    approved(client, world)
    assert receiver.received == []


def test_another_partner_cannot_read_the_delivery_log_or_redeliver(client, session, receiver):
    from tests.factories import api_key, make_partner

    world = make_world(session)
    endpoint = _subscribe(client, world, receiver)
    approved(client, world)
    _, other = make_partner(session)
    delivery = session.scalar(select(WebhookDelivery))
    url = f"/webhook-endpoints/{endpoint['id']}/deliveries"
    assert client.get(url, headers=api_key(other)).status_code == 404
    redeliver = f"/webhook-deliveries/{delivery.id}/redeliver"
    assert client.post(redeliver, headers=api_key(other)).status_code == 404


def test_pending_deliveries_to_a_deleted_endpoint_are_dropped(app, client, session, receiver):
    world = make_world(session)
    endpoint = _subscribe(client, world, receiver)
    receiver.status = 500
    approved(client, world)
    client.delete(f"/webhook-endpoints/{endpoint['id']}", headers=world.partner_auth)
    _make_due(session)
    app.test_cli_runner().invoke(args=["deliver-due-webhooks"])
    session.expire_all()
    delivery = session.scalar(select(WebhookDelivery))
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_error == "endpoint_deleted"
    assert len(receiver.received) == 1
