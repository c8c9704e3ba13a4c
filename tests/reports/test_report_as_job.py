"""A report past the web's statement timeout: 503 query_timeout naming a job that computes it."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.exc import DBAPIError

from agency.reports import registry
from tests.factories import (
    bearer,
    make_agency,
    make_auditor,
    make_care_request,
    make_council,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)
from tests.introductions.introductions_helpers import make_suggestion

QUERY = {"period_start": "2026-01-01", "period_end": "2026-12-31"}


class _Cancelled(Exception):
    sqlstate = "57014"  # what PostgreSQL says when statement_timeout cancels a statement


@pytest.fixture
def slow_once(monkeypatch):
    """The funnel's first computation is cancelled by the bound, as under the web's timeout;
    the next (the job's, whose session has no bound) runs."""
    real = registry.REPORTS["funnel"]
    calls = []

    def compute(session, scope, **options):
        calls.append(scope)
        if len(calls) == 1:
            raise DBAPIError("SELECT ... FROM suggestions", {}, _Cancelled())
        return real.compute(session, scope, **options)

    monkeypatch.setitem(registry.REPORTS, "funnel", dataclasses.replace(real, compute=compute))
    return calls


def _world(session):
    council = make_council(session)
    agency = make_agency(session, council)
    provider = make_provider(session, agency)
    partner, _ = make_partner(session)
    request = make_care_request(session, make_seeker(session, partner.id), agency)
    make_suggestion(session, request, provider)
    return council, agency


def _work(app, job_id):
    """What the worker does with the queued job (here, in this test's transaction)."""
    from agency.jobs.queue import execute

    runner = app.extensions["agency"].jobs
    execute(job_id, runner.sessions, runner.settings, runner.routes)


def test_a_report_past_the_bound_is_a_503_then_a_job_with_the_same_report(
    app, client, session, slow_once
):
    council, agency = _world(session)
    manager = bearer(session, make_manager(session, agency))
    response = client.get("/reports/funnel", query_string=QUERY, headers=manager)
    assert response.status_code == 503
    body = response.get_json()
    assert body["code"] == "query_timeout" and body["job_path"] == f"/jobs/{body['job_id']}"
    _work(app, body["job_id"])
    job = client.get(body["job_path"], headers=manager).get_json()
    assert job["status"] == "finished" and job["name"] == "report"
    result = client.get(job["result_path"], headers=manager)
    assert result.status_code == 200
    direct = client.get("/reports/funnel", query_string=QUERY, headers=manager).get_json()
    prepared = result.get_json()
    for body in (prepared, direct):
        body["scope"].pop("generated_at")  # the one field that differs: when it was computed
    assert prepared == direct and prepared["steps"][0]["step"] == "requests"


def test_only_who_may_read_the_job_reads_the_result(app, client, session, slow_once):
    council, agency = _world(session)
    manager = bearer(session, make_manager(session, agency))
    body = client.get("/reports/funnel", query_string=QUERY, headers=manager).get_json()
    _work(app, body["job_id"])
    path = f"/reports/results/{body['job_id']}"
    other_agency = make_agency(session, council)
    for stranger in (
        make_manager(session, other_agency),
        make_auditor(session, make_council(session)),
    ):
        assert client.get(path, headers=bearer(session, stranger)).status_code == 404
    assert client.get(
        path, headers=bearer(session, make_auditor(session, council))
    ).status_code in (
        200,
        404,
    )
    assert client.get(path).status_code == 401
    _, secret = make_partner(session)
    assert client.get(path, headers={"X-API-Key": secret}).status_code == 403


def test_the_503_is_in_the_openapi_document_of_every_report_route(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for name in registry.REPORTS:
        for suffix in ("", ".csv", ".png", ".svg"):
            assert "503" in paths[f"/reports/{name}{suffix}"]["get"]["responses"], name + suffix
