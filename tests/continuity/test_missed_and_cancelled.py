"""Missed visits (the periodic job, the manager's list, the partner's signed webhook) and
visits the provider cancels in advance."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from agency.audit.models import AuditEntry
from agency.jobs.models import JobRecord, JobStatus
from agency.visits.continuity import mark_missed
from agency.visits.planned_models import PlannedStatus
from agency.webhooks.models import WebhookEvent
from tests.continuity.continuity_helpers import future, others, planned, planned_world, subscribe
from tests.visits.visit_helpers import log
from tests.webhooks.webhook_receiver import verify

BIN = Path(sys.executable).parent


def _overdue(session, world):  # type: ignore[no-untyped-def]
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=120)
    return [p for p in planned(session, world) if p.ends_at <= cutoff]


def test_unlogged_visits_become_missed_and_the_partner_gets_visit_missed(client, session, receiver):
    # Four days back, not three: planned from this time of day three days ago, the plan
    # has only two overdue 10:00 visits when the test runs between 10:00 and 13:00 UTC
    # (the first day's visit came before the plan began, today's ended under 2 h ago).
    world = planned_world(session, days_back=4)
    endpoint = subscribe(client, world, receiver, ["visit.missed"])
    logged = log(client, world, day=2, start="10:05", end="11:00")
    assert logged.status_code == 201
    overdue = _overdue(session, world)
    assert len(overdue) >= 3
    count = mark_missed(session, 120)
    assert count == len(overdue) - 1  # the one logged is done
    statuses = {p.id: p.status for p in planned(session, world)}
    assert sorted(statuses[p.id].value for p in overdue).count("missed") == count
    assert {s for p, s in statuses.items() if p not in {o.id for o in overdue}} == {
        PlannedStatus.PLANNED
    }
    assert len(receiver.received) == count
    payload = verify(endpoint["secret"], receiver.received[0].headers, receiver.received[0].body)
    assert payload["type"] == "visit.missed"
    assert payload["data"]["status"] == "missed"
    assert payload["data"]["arrangement_id"] == world.arrangement.id
    assert world.seeker.display_name not in receiver.received[0].body.decode()
    assert mark_missed(session, 120) == 0  # once only


def test_the_manager_works_through_the_missed_list(client, session):
    world = planned_world(session, days_back=3)
    mark_missed(session, 120)
    url = "/planned-visits?status=missed&unacknowledged=true"
    missed = client.get(url, headers=world.manager_headers).json
    assert len(missed) >= 2 and {m["status"] for m in missed} == {"missed"}
    first = missed[0]["id"]
    done = client.post(f"/planned-visits/{first}/acknowledge", headers=world.manager_headers)
    assert done.status_code == 200 and done.json["acknowledged_at"]
    again = client.post(f"/planned-visits/{first}/acknowledge", headers=world.manager_headers)
    assert again.status_code == 409 and again.json["code"] == "not_missed"
    assert first not in {m["id"] for m in client.get(url, headers=world.manager_headers).json}
    record = client.get(
        f"/providers/{world.provider.id}/visit-record", headers=world.manager_headers
    )
    assert record.status_code == 200, record.json
    assert record.json["counts"]["missed"] >= 2 and record.json["repeated_misses"] is True
    refused = others(session, world)
    for who, headers in refused.items():
        ack = client.post(f"/planned-visits/{missed[1]['id']}/acknowledge", headers=headers)
        assert ack.status_code in (403, 404), who
        view = client.get(f"/providers/{world.provider.id}/visit-record", headers=headers)
        assert view.status_code in (403, 404), who
    assert (
        client.get(
            f"/providers/{world.provider.id}/visit-record",
            headers=refused["another agency's manager"],
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/planned-visits/{missed[1]['id']}/acknowledge", headers=world.provider_headers
        ).status_code
        == 403
    )


def test_a_late_log_turns_a_missed_visit_done(client, session):
    world = planned_world(session, days_back=3)
    mark_missed(session, 120)
    logged = log(client, world, day=2, start="10:00", end="11:00")
    assert logged.status_code == 201 and "unplanned" not in logged.json["flags"]
    [that_day] = [p for p in planned(session, world) if p.visit_id == logged.json["id"]]
    assert that_day.status is PlannedStatus.DONE


def test_a_provider_cancels_a_visit_in_advance_and_the_partner_is_told(client, session, receiver):
    world = planned_world(session)
    endpoint = subscribe(client, world, receiver, ["visit.cancelled"])
    target = future(session, world)[2]
    url = f"/planned-visits/{target.id}/cancel"
    response = client.post(url, json={"reason": "Ill"}, headers=world.provider_headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled" and response.json["cancel_reason"] == "Ill"
    [received] = receiver.received
    payload = verify(endpoint["secret"], received.headers, received.body)
    assert payload["type"] == "visit.cancelled"
    assert payload["data"]["planned_visit_id"] == target.id
    assert "Ill" not in received.body.decode()  # the reason is read with the visit
    seen = client.get(f"/planned-visits/{target.id}", headers=world.partner_headers)
    assert seen.json["cancel_reason"] == "Ill"
    again = client.post(url, json={"reason": "Ill"}, headers=world.provider_headers)
    assert again.status_code == 409 and again.json["code"] == "visit_not_cancellable"
    entry = session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_id == target.id, AuditEntry.action == "planned_visit.cancelled"
        )
    )
    assert entry is not None and "Ill" not in str(entry.after)


def test_cancelling_is_validated_and_refused_to_everyone_but_the_provider(client, session):
    world = planned_world(session, days_back=2)
    target = future(session, world)[0]
    url = f"/planned-visits/{target.id}/cancel"
    assert client.post(url, json={}, headers=world.provider_headers).status_code == 422
    blank = client.post(url, json={"reason": ""}, headers=world.provider_headers)
    assert blank.status_code == 422 and "reason" in blank.json["errors"]
    assert client.post(url, json={"reason": "x"}).status_code == 401
    for headers in (world.manager_headers, world.partner_headers):
        assert client.post(url, json={"reason": "x"}, headers=headers).status_code == 403
    refused = others(session, world)
    other_provider = client.post(url, json={"reason": "x"}, headers=refused["another provider"])
    assert other_provider.status_code == 404
    for who in ("another partner", "another agency's manager", "the council's auditor"):
        assert client.post(url, json={"reason": "x"}, headers=refused[who]).status_code == 403
    past = [p for p in planned(session, world) if p.starts_at < dt.datetime.now(dt.UTC)][0]
    started = client.post(
        f"/planned-visits/{past.id}/cancel", json={"reason": "x"}, headers=world.provider_headers
    )
    assert started.status_code == 409


@pytest.mark.redis
@pytest.mark.committed  # the worker process and the receiver read what the test wrote
def test_the_missed_job_runs_on_a_real_worker_and_the_partner_receives_it_signed(
    app, client, session, settings, rq_queue, receiver
):
    world = planned_world(session, days_back=2)
    endpoint = subscribe(client, world, receiver, ["visit.missed"])
    record = app.extensions["agency"].jobs.enqueue(session, "visits.mark_missed", {})
    session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "RQ_QUEUE": settings.queue_name,
        "RQ_SINGLE_QUEUE": "1",
        "REDIS_URL": settings.redis_url,
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [BIN / "rq", "worker", "--burst", "--url", settings.redis_url, settings.queue_name],
        env=env,
        capture_output=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    session.expire_all()
    job = session.get(JobRecord, record.id)
    assert job.status is JobStatus.FINISHED, (result.stdout + result.stderr).decode()[-3000:]
    assert job.result["missed"] >= 1
    assert {p.status for p in planned(session, world) if p.missed_at} == {PlannedStatus.MISSED}
    events = session.scalars(select(WebhookEvent).where(WebhookEvent.type == "visit.missed")).all()
    assert len(events) == job.result["missed"]
    assert len(receiver.received) == job.result["missed"]
    payload = verify(endpoint["secret"], receiver.received[0].headers, receiver.received[0].body)
    assert payload["type"] == "visit.missed"
