"""The Bristol journey over real processes, started with the documented commands.

A scratch PostgreSQL database is migrated and seeded with the CLI (`flask --app
wsgi db-upgrade`, `seed-demo`); gunicorn runs with the Dockerfile's command line,
the worker and RQ's cron with the Makefile's (`make worker`, `make cron`), each in
a fresh shell's environment. The test then speaks HTTP only, as each role with the
credentials the README gives, and verifies every webhook it receives with the
independent `standardwebhooks` library. Each step's wall time is printed.

Continuity (issue 19): one missed visit (the mark-missed job sent to the real worker
with `flask mark-missed-visits --queue`, the partner's signed `visit.missed`) and one
week of cover, paid. Two things go to the database directly: a planned visit is moved
to yesterday or today (the journey cannot wait for a visit's time to come), and the
cover provider's README e-mail is read by their id (not found by signing in as each).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import create_engine, text
from standardwebhooks.webhooks import Webhook

from tests.conftest import DATABASE_URL, REDIS_URL, _normalised
from tests.processes import (
    BIN,
    ROOT,
    STEP_TIMES,
    dockerfile_command,
    free_port,
    fresh_env,
    http_status,
    make_command,
    start,
    stop,
    wait_for,
)
from tests.webhooks.webhook_receiver import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

README_PASSWORDS = {
    "manager@southmead.example": "demo-password-southmead",
    "auditor@bristol.example": "demo-password-auditor",
    "admin@agency.example": "demo-password-admin",
}
PROVIDER_PASSWORD = "demo-password-provider"


@contextmanager
def step(name: str):
    started = time.monotonic()
    yield
    STEP_TIMES.append((name, time.monotonic() - started))


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """A scratch database, migrated and seeded with the CLI; gunicorn, worker and cron up."""
    if not (DATABASE_URL and REDIS_URL):
        pytest.skip("needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")
    logs = tmp_path_factory.mktemp("acceptance")
    base = _normalised(DATABASE_URL)
    name = f"agency_accept_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    port = free_port()
    env = fresh_env(
        DATABASE_URL=url,
        REDIS_URL=REDIS_URL,
        RQ_QUEUE=f"agency-accept-{uuid.uuid4().hex[:8]}",  # this run's own queues
        WEBHOOK_ALLOW_PRIVATE="true",  # the documented development setting: loopback receiver
        LOG_LEVEL="INFO",
    )
    processes = []
    try:
        with step("migrate with the CLI (flask --app wsgi db-upgrade)"):
            cli = [str(BIN / "flask"), "--app", "wsgi"]
            done = subprocess.run([*cli, "db-upgrade"], cwd=ROOT, env=env, capture_output=True)
            assert done.returncode == 0, done.stderr.decode()[-3000:]
        with step("seed the demo with the CLI (flask --app wsgi seed-demo)"):
            done = subprocess.run([*cli, "seed-demo"], cwd=ROOT, env=env, capture_output=True)
            assert done.returncode == 0, done.stderr.decode()[-3000:]
            seeded = done.stdout.decode()
            api_key = re.search(r"\b(iak_\S+)", seeded).group(1)
        with step("start gunicorn (Dockerfile), worker (make worker), cron (make cron)"):
            processes.append(start(dockerfile_command(port), env, logs / "web.log"))
            processes.append(start(make_command("worker"), env, logs / "worker.log"))
            processes.append(start(make_command("cron"), env, logs / "cron.log"))
            base_url = f"http://127.0.0.1:{port}"

            def ready():
                for process in processes:
                    assert process.poll() is None, _tails(logs)
                return http_status(f"{base_url}/health/ready") == 200

            wait_for(ready, 90, interval=0.5, what="/health/ready 200")
        yield {"url": base_url, "api_key": api_key, "seeded": seeded, "logs": logs, "env": env}
    finally:
        for process in processes:
            stop(process)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tails(logs) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(logs.glob("*.log")))


class Api:
    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base, self.headers = base, headers

    def call(self, method: str, path: str, expect: int | tuple[int, ...] = 200, **kwargs):
        response = requests.request(
            method, self.base + path, headers=self.headers, timeout=30, **kwargs
        )
        expected = (expect,) if isinstance(expect, int) else expect
        assert response.status_code in expected, (
            method,
            path,
            response.status_code,
            response.text[:2000],
        )
        return response

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs).json()

    def post(self, path: str, json=None, expect=(200, 201), **kwargs):  # noqa: A002
        return self.call("POST", path, json=json, expect=expect, **kwargs).json()


def sign_in(base: str, email: str, password: str) -> Api:
    response = requests.post(
        base + "/auth/token", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 201, response.text
    return Api(base, {"Authorization": f"Bearer {response.json()['access_token']}"})


def poll_job(api: Api, job_id: str, timeout: float = 120) -> dict:
    def done():
        job = api.get(f"/jobs/{job_id}")
        return job if job["status"] in ("finished", "failed") else None

    job = wait_for(done, timeout, interval=0.2, what=f"job {job_id}")
    assert job["status"] == "finished", job
    return job


def test_the_bristol_journey_over_the_deployed_processes(system):
    base = system["url"]
    partner = Api(base, {"X-API-Key": system["api_key"]})
    receiver = Receiver().start()
    try:
        _journey(system, base, partner, receiver)
    finally:
        receiver.stop()


def _journey(system, base, partner, receiver):
    with step("partner registers a webhook endpoint (loopback receiver)"):
        endpoint = partner.post(
            "/webhook-endpoints",
            json={
                "url": receiver.url,
                "events": [
                    "introduction.approved",
                    "introduction.accepted",
                    "arrangement.started",
                    "care_request.matched",
                    "visit.missed",
                ],
            },
        )
        signer = Webhook(endpoint["secret"])

    with step("partner registers a seeker in BS10 with consent"):
        seeker = partner.post(
            "/care-seekers",
            json={
                "reference": "accept-0001",
                "display_name": "Maggie",
                "contact_preference": "via_partner",
                "postcode": "BS10 5NB",
                "consent": {
                    "terms_version": "2026-01",
                    "purposes": ["introductions", "share_with_providers"],
                    "given_at": "2026-01-05T10:00:00Z",
                },
            },
        )

    today = dt.datetime.now(ZoneInfo("Europe/London")).date()
    with step("partner posts an ISF-funded care request"):
        care_request = partner.post(
            f"/care-seekers/{seeker['id']}/care-requests",
            json={
                "services": ["companionship"],
                "hours_per_week": 2,
                "windows": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(0, 5)],
                "allow_split": False,
                "start_date": today.isoformat(),
                "urgency": "soon",
                "funding": "isf",
                "max_rate_pence": 3000,
                "preferences": {},
            },
        )

    manager = sign_in(
        base, "manager@southmead.example", README_PASSWORDS["manager@southmead.example"]
    )
    with step("poll the match job until the worker has ranked suggestions"):
        poll_job(partner, care_request["job"]["id"])
        suggestions = manager.get(f"/care-requests/{care_request['id']}/suggestions")
        assert suggestions, "no suggestions from the worker"

    with step("manager reads the ranked, explained suggestions and asks why-not"):
        top = suggestions[0]
        assert top["score"] >= suggestions[-1]["score"]
        assert top.get("explanation") or top.get("breakdown") or top.get("features"), top
        listed = manager.get("/agencies/" + _agency_id(manager) + "/providers")
        others = [
            p for p in _items(listed) if p["id"] not in {s["provider_id"] for s in suggestions}
        ]
        if others:
            why = manager.get(f"/care-requests/{care_request['id']}/why-not/{others[0]['id']}")
            assert why

    with step("manager approves an introduction"):
        introduction = manager.post(
            f"/care-requests/{care_request['id']}/introductions",
            json={"suggestion_id": top["id"], "note": "Acceptance journey"},
        )

    with step("the provider signs in (README credentials) and accepts"):
        provider = _provider_session(base, top["provider_id"])
        provider.post(f"/introductions/{introduction['id']}/accept", expect=200)

    with step("the partner confirms: an arrangement starts"):
        confirmed = partner.post(
            f"/introductions/{introduction['id']}/confirm", json={}, expect=200
        )
        arrangement_id = confirmed["arrangement_id"]

    with step("manager opens the seeker's ISF after the confirmation; the arrangement links it"):
        isf = manager.post(
            "/isf-accounts",
            json={
                "seeker_id": seeker["id"],
                "council_reference": "BCC-ISF-ACCEPT",
                "plan_start": (today - dt.timedelta(days=30)).isoformat(),
                "plan_end": (today + dt.timedelta(days=330)).isoformat(),
            },
        )
        manager.post(
            f"/isf-accounts/{isf['id']}/allocations",
            json={
                "amount_pence": 52_000,
                "period_start": (today - dt.timedelta(days=30)).isoformat(),
                "period_end": (today + dt.timedelta(days=30)).isoformat(),
                "idempotency_key": "accept-alloc-1",
            },
        )
        balance_before = manager.get(f"/isf-accounts/{isf['id']}")["balance_pence"]
        assert balance_before == 52_000
        linked = manager.get(f"/arrangements/{arrangement_id}")
        assert linked["isf_account_id"] == isf["id"], linked

    with step("webhooks arrive and verify with standardwebhooks"):
        wanted = {"introduction.approved", "introduction.accepted", "arrangement.started"}
        wait_for(lambda: wanted <= {r.json["type"] for r in receiver.received}, 60, what="webhooks")
        for received in receiver.received:
            payload = signer.verify(received.body, received.headers)
            assert payload["type"] in wanted | {"care_request.matched", "visit.missed"}

    system["journey"] = {
        "partner": partner,
        "manager": manager,
        "provider": provider,
        "arrangement_id": arrangement_id,
        "isf_id": isf["id"],
        "seeker_id": seeker["id"],
        "today": today,
    }
    with step("the provider logs a visit; the partner confirms it"):
        visit = provider.post(
            f"/arrangements/{arrangement_id}/visits",
            json={
                "date": today.isoformat(),
                "start": "10:00",
                "end": "11:00",
                "services": ["companionship"],
            },
        )
        partner.post(f"/visits/{visit['id']}/confirm", expect=200)

    with step("the provider submits a timesheet; the manager approves it (invoice)"):
        timesheet = provider.post(
            f"/arrangements/{arrangement_id}/timesheets",
            json={"period_start": today.isoformat(), "period_end": today.isoformat()},
        )
        approved = manager.post(f"/timesheets/{timesheet['id']}/approve", expect=200)
        invoice = manager.get(f"/invoices/{approved['invoice_id']}")
        invoiced = invoice["total_pence"]
        assert invoiced > 0
        after_invoice = manager.get(f"/isf-accounts/{isf['id']}")["balance_pence"]
        assert after_invoice == balance_before - invoiced

    with step("payment run through the manual gateway, on the worker"):
        run = manager.post("/payment-runs", expect=(201, 202))
        poll_job(manager, run["job_id"])
        payouts = _items(manager.get(f"/payment-runs/{run['id']}/payouts"))
        ours = [p for p in payouts if p.get("invoice_id") == invoice["id"]]
        assert [p["amount_pence"] for p in ours] == [invoiced], payouts
        assert manager.get(f"/isf-accounts/{isf['id']}")["balance_pence"] == after_invoice

    with step("a second payment run pays nothing"):
        again = manager.call("POST", "/payment-runs", expect=(201, 202, 409))
        if again.status_code != 409:
            second = again.json()
            poll_job(manager, second["job_id"])
            paid = _items(manager.get(f"/payment-runs/{second['id']}/payouts"))
            assert [p for p in paid if p.get("invoice_id") == invoice["id"]] == []

    _missed_visit(system, base, partner, manager, receiver, signer, arrangement_id)
    _a_week_of_cover(system, base, partner, manager, provider, arrangement_id, isf["id"])

    auditor = sign_in(base, "auditor@bristol.example", README_PASSWORDS["auditor@bristol.example"])
    with step("the auditor reads the ISF register (JSON and CSV), the audit log and reports"):
        register = auditor.get("/isf-approved-providers")
        assert _items(register)
        csv = auditor.call("GET", "/isf-accounts.csv")
        assert csv.headers["Content-Type"].startswith("text/csv") and csv.text.count("\n") > 1
        assert _items(auditor.get("/audit-log"))
        for report in ("local-spend", "unmet-need", "funnel", "fairness", "prompt-payment"):
            auditor.get(f"/reports/{report}")
            chart = auditor.call("GET", f"/reports/{report}.png")
            assert chart.content.startswith(b"\x89PNG"), report

    with step("every webhook received verifies with standardwebhooks"):
        assert receiver.received
        for received in receiver.received:
            signer.verify(received.body, received.headers)


LONDON = ZoneInfo("Europe/London")


def _move_planned_visit(system, planned_id: str, day: dt.date, start: str, end: str) -> None:
    """Move one planned visit to ``day`` (start-end, London wall time) in the database: the
    journey cannot wait for a visit's time to pass, so the visit's time comes to it."""

    def instant(wall: str) -> dt.datetime:
        clock = dt.time.fromisoformat(wall)
        return dt.datetime.combine(day, clock, tzinfo=LONDON).astimezone(dt.UTC)

    engine = create_engine(system["env"]["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            moved = connection.execute(
                text(
                    "UPDATE planned_visits SET date = :day, start_time = :start, "
                    "end_time = :end, starts_at = :starts_at, ends_at = :ends_at, "
                    "minutes = :minutes WHERE id = :id"
                ),
                {
                    "id": planned_id,
                    "day": day,
                    "start": start,
                    "end": end,
                    "starts_at": instant(start),
                    "ends_at": instant(end),
                    "minutes": int((instant(end) - instant(start)).total_seconds() // 60),
                },
            )
            assert moved.rowcount == 1
    finally:
        engine.dispose()


def _missed_visit(system, base, partner, manager, receiver, signer, arrangement_id):
    """A planned visit nobody logged is marked missed by the job on the real worker, and the
    partner receives a signed visit.missed."""
    today = system["journey"]["today"]
    with step("a planned visit nobody logs (the last of the horizon, moved to yesterday)"):
        planned = _items(
            partner.get(f"/arrangements/{arrangement_id}/planned-visits?page_size=100")
        )
        assert planned, "the arrangement planned no visits"
        last = planned[-1]
        _move_planned_visit(system, last["id"], today - dt.timedelta(days=1), "09:00", "09:30")

    with step("flask mark-missed-visits --queue: the job runs on the worker; visit.missed"):
        cli = [str(BIN / "flask"), "--app", "wsgi", "mark-missed-visits", "--queue"]
        done = subprocess.run(cli, cwd=ROOT, env=system["env"], capture_output=True)
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        assert "queued job" in done.stdout.decode(), done.stdout.decode()

        def missed_webhook():
            for received in receiver.received:
                event = received.json
                if event["type"] == "visit.missed" and (
                    event["data"].get("planned_visit_id") == last["id"]
                ):
                    return received
            return None

        received = wait_for(missed_webhook, 60, interval=0.2, what="the visit.missed webhook")
        payload = signer.verify(received.body, received.headers)
        assert payload["type"] == "visit.missed"
        assert payload["data"]["planned_visit_id"] == last["id"], payload
        assert manager.get(f"/planned-visits/{last['id']}")["status"] == "missed"


def _a_week_of_cover(system, base, partner, manager, provider, arrangement_id, isf_id):
    """The provider takes a week off; the engine proposes cover; the manager offers the week;
    the cover provider accepts, makes a visit, is invoiced at their rate against the same
    ISF and paid by the payment run."""
    today = system["journey"]["today"]
    provider_id = manager.get(f"/arrangements/{arrangement_id}")["provider_id"]
    with step("the provider records a week off from tomorrow; the affected visits"):
        provider.post(
            f"/providers/{provider_id}/availability/exceptions",
            json={
                "starts_on": (today + dt.timedelta(days=1)).isoformat(),
                "ends_on": (today + dt.timedelta(days=7)).isoformat(),
                "reason": "holiday",
            },
        )
        affected = _items(manager.get(f"/providers/{provider_id}/affected-visits?page_size=100"))
        ours = [a for a in affected if a["arrangement_id"] == arrangement_id]
        assert ours, "no planned visits of the arrangement in the week off"

    with step("the manager reads the explained cover suggestions and offers the week"):
        suggestions = manager.get(f"/planned-visits/{ours[0]['id']}/cover-suggestions")
        assert suggestions, "no cover proposed"
        cover_id = suggestions[0]["provider_id"]
        assert cover_id != provider_id and "rating" in suggestions[0]["explanation"]
        offered = manager.post(
            f"/providers/{provider_id}/absence-cover", json={"provider_id": cover_id}
        )
        assert ours[0]["id"] in {o["id"] for o in offered}
        assert {o["cover_status"] for o in offered} == {"offered"}
        first = next(o for o in offered if o["id"] == ours[0]["id"])
        rate = first["cover_rates_pence"]["companionship"]

    with step("the cover provider signs in and accepts each visit of the week"):
        # The README's provider<n>@demo.example whose provider this is, read from the
        # database (signing in as each demo provider in turn takes a minute).
        engine = create_engine(system["env"]["DATABASE_URL"])
        try:
            with engine.connect() as connection:
                email = connection.execute(
                    text(
                        "SELECT users.email FROM users JOIN providers "
                        "ON providers.user_id = users.id WHERE providers.id = :id"
                    ),
                    {"id": cover_id},
                ).scalar_one()
        finally:
            engine.dispose()
        cover = sign_in(base, email, PROVIDER_PASSWORD)
        offers = _items(cover.get("/cover-offers?page_size=100"))
        assert {o["id"] for o in offered} <= {o["id"] for o in offers}
        for o in offered:
            cover.post(f"/planned-visits/{o['id']}/cover/accept", expect=200)

    with step("the first covered visit's day comes; the cover provider logs it"):
        _move_planned_visit(system, first["id"], today, "21:00", "21:30")
        visit = cover.post(
            f"/planned-visits/{first['id']}/cover/visit",
            json={"start": "21:00", "end": "21:30", "services": ["companionship"]},
        )
        assert visit["provider_id"] == cover_id and visit["cover_rates_pence"] == {
            "companionship": rate
        }
        partner.post(f"/visits/{visit['id']}/confirm", expect=200)

    with step("the cover provider's timesheet is approved: invoiced at their rate, same ISF"):
        before = manager.get(f"/isf-accounts/{isf_id}")["balance_pence"]
        timesheet = cover.post(
            f"/arrangements/{arrangement_id}/timesheets",
            json={"period_start": today.isoformat(), "period_end": today.isoformat()},
        )
        assert [v["id"] for v in timesheet["visits"]] == [visit["id"]]
        approved = manager.post(f"/timesheets/{timesheet['id']}/approve", expect=200)
        invoice = manager.get(f"/invoices/{approved['invoice_id']}")
        cover_pence = (30 * rate * 2 + 60) // 120  # 30 minutes at the cover rate
        assert invoice["provider_id"] == cover_id and invoice["total_pence"] == cover_pence
        after = manager.get(f"/isf-accounts/{isf_id}")["balance_pence"]
        assert after == before - cover_pence

    with step("a payment run on the worker pays the cover provider through the ledger"):
        run = manager.post("/payment-runs", expect=(201, 202))
        poll_job(manager, run["job_id"])
        payouts = _items(manager.get(f"/payment-runs/{run['id']}/payouts?page_size=100"))
        ours = [p for p in payouts if p.get("invoice_id") == invoice["id"]]
        assert [p["amount_pence"] for p in ours] == [cover_pence], payouts
        assert manager.get(f"/isf-accounts/{isf_id}")["balance_pence"] == after
        funnel = manager.get("/reports/funnel")
        assert funnel["cover"]["accepted"] >= 1 and funnel["cover"]["visits_made"] >= 1


def _transfers(standin_port: int) -> list[dict]:
    """The transfers the Stripe stand-in holds (its API, as Stripe's: GET /v1/transfers)."""
    response = requests.get(
        f"http://127.0.0.1:{standin_port}/v1/transfers?limit=100",
        headers={"Authorization": "Bearer sk_test_standin"},
        timeout=10,
    )
    assert "data" in response.json(), response.text[:500]
    return response.json()["data"]


def _items(listing):
    return listing["items"] if isinstance(listing, dict) and "items" in listing else listing


def _agency_id(manager: Api) -> str:
    me = manager.get("/auth/me")
    return me.get("agency_id") or me["principal"]["agency_id"]


def _provider_session(base: str, provider_id: str) -> Api:
    """Sign in as the demo providers (README: provider1..240@demo.example) to find this one."""

    def try_one(n: int) -> Api | None:
        api = sign_in(base, f"provider{n}@demo.example", PROVIDER_PASSWORD)
        me = api.get("/auth/me")
        found = me.get("provider_id") or me.get("principal", {}).get("provider_id")
        return api if found == provider_id else None

    with ThreadPoolExecutor(4) as pool:
        for batch in range(0, 240, 20):
            for api in pool.map(try_one, range(batch + 1, batch + 21)):
                if api is not None:
                    return api
    raise AssertionError(f"no demo provider signs in as {provider_id}")


def test_a_payment_run_through_the_stripe_standin_survives_a_killed_work_horse(system):
    """The same database served by a second web + worker pair configured for Stripe, pointed
    at the stand-in running as its own process; the payments work horse is killed mid-run."""
    from redis import Redis
    from rq import Queue, Worker

    from tests.processes import children_of

    journey = system.get("journey")
    if journey is None:
        pytest.fail("the journey did not reach the payment runs")
    logs, env = system["logs"], dict(system["env"])
    standin_port, port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    prefix = f"agency-stripe-{uuid.uuid4().hex[:8]}"
    env.update(
        STRIPE_API_KEY="sk_test_standin",
        STRIPE_API_BASE=f"http://127.0.0.1:{standin_port}",
        STRIPE_WEBHOOK_SECRET="whsec_standin",
        RQ_QUEUE=prefix,
    )
    processes = []
    try:
        with step("start the Stripe stand-in, and gunicorn + worker configured for Stripe"):
            processes.append(
                start(
                    [
                        str(BIN / "python"),
                        "-m",
                        "standin.stripe_server",
                        "--port",
                        str(standin_port),
                        "--webhook-url",
                        f"{base}/webhooks/stripe",
                        # Each transfer's answer comes 3 s after Stripe made it, so the kill
                        # below lands while the run waits: after Stripe's commit, before ours.
                        "--transfer-answer-delay",
                        "3",
                    ],
                    env,
                    logs / "standin.log",
                )
            )
            processes.append(start(dockerfile_command(port), env, logs / "web-stripe.log"))
            processes.append(start(make_command("worker"), env, logs / "worker-stripe.log"))
            wait_for(
                lambda: http_status(f"{base}/health/ready") == 200,
                90,
                interval=0.5,
                what="the Stripe pair ready",
            )
        partner = Api(base, journey["partner"].headers)
        manager = Api(base, journey["manager"].headers)
        provider = Api(base, journey["provider"].headers)
        arrangement_id, isf_id = journey["arrangement_id"], journey["isf_id"]
        today = journey["today"]

        with step("the provider onboards at the stand-in (payout account)"):
            account = provider.post("/payout-accounts")
            requests.get(
                f"http://127.0.0.1:{standin_port}/onboarding/{account['external_id']}", timeout=10
            )
            wait_for(
                lambda: provider.get("/payout-accounts/me").get("payouts_enabled"),
                30,
                what="the account.updated webhook",
            )

        with step("another visit, confirmed, on an approved timesheet (second invoice)"):
            visit = provider.post(
                f"/arrangements/{arrangement_id}/visits",
                json={
                    "date": today.isoformat(),
                    "start": "12:00",
                    "end": "13:00",
                    "services": ["companionship"],
                },
            )
            partner.post(f"/visits/{visit['id']}/confirm", expect=200)
            timesheet = provider.post(
                f"/arrangements/{arrangement_id}/timesheets",
                json={"period_start": today.isoformat(), "period_end": today.isoformat()},
            )
            approved = manager.post(f"/timesheets/{timesheet['id']}/approve", expect=200)
            invoice = manager.get(f"/invoices/{approved['invoice_id']}")
            balance = manager.get(f"/isf-accounts/{isf_id}")["balance_pence"]

        with step("payment run through Stripe; the payments work horse is killed mid-run"):
            run = manager.post("/payment-runs", expect=(201, 202))
            redis = Redis.from_url(env["REDIS_URL"])
            [payments] = Worker.all(queue=Queue(f"{prefix}-payments", connection=redis))
            horses = wait_for(
                lambda: children_of(payments.pid, own_group=True), 30, 0.005, "the work horse"
            )
            wait_for(
                lambda: _transfers(standin_port), 30, 0.05, "the transfer made at the stand-in"
            )
            killed_mid_run = manager.get(f"/jobs/{run['job_id']}")["status"] == "started"
            for horse in horses:
                os.kill(horse, signal.SIGKILL)
            assert killed_mid_run, "the kill must land while the run waits for Stripe's answer"
            poll_job(manager, run["job_id"], timeout=90)  # retried by RQ after the kill
            job = manager.get(f"/jobs/{run['job_id']}")
            payouts = _items(manager.get(f"/payment-runs/{run['id']}/payouts"))
            ours = [p for p in payouts if p["invoice_id"] == invoice["id"]]
            assert [p["amount_pence"] for p in ours] == [invoice["total_pence"]], (job, payouts)
            assert ours[0]["status"] in ("sent", "settled"), ours  # settled by Stripe's webhook
            transfers = _transfers(standin_port)
            assert [t["amount"] for t in transfers] == [invoice["total_pence"]]  # paid once
            record = manager.get(f"/payment-runs/{run['id']}")
            assert record["status"] == "finished", record
            assert job["attempts"] >= 2, job  # the killed attempt, then the one that finished
            # Whether the kill landed mid-run (the job ran again) is printed with the times.
            STEP_TIMES.append(
                (f"(work horse killed mid-run: {killed_mid_run}, attempts {job['attempts']})", 0.0)
            )
            assert manager.get(f"/isf-accounts/{isf_id}")["balance_pence"] == balance

        with step("a second Stripe run pays nothing"):
            again = manager.call("POST", "/payment-runs", expect=(201, 202, 409))
            if again.status_code != 409:
                poll_job(manager, again.json()["job_id"])
            transfers = _transfers(standin_port)
            assert len(transfers) == 1
        with step("the partner erases the seeker"):
            partner.post(f"/care-seekers/{journey['seeker_id']}/erase", expect=(200, 201, 202))
            erased = partner.get(f"/care-seekers/{journey['seeker_id']}")
            assert erased.get("display_name") in (None, "", "erased"), erased

    finally:
        for process in processes:
            stop(process)
