"""No web request's statement runs past the bound; jobs are not bounded by it."""

from dataclasses import replace

import pytest
from sqlalchemy import text

from agency import create_app
from agency.web import db_session


@pytest.mark.postgres
@pytest.mark.committed  # the web's own engine and bound, on real connections
def test_a_statement_past_the_web_bound_answers_a_json_503_not_a_500(settings, app):
    bounded = create_app(replace(settings, web_statement_timeout_ms=200))

    @bounded.route("/slow-report-for-test")
    def slow():  # stands for a report whose query outgrows the bound
        db_session().execute(text("SELECT pg_sleep(2)"))
        return {"done": True}

    response = bounded.test_client().get("/slow-report-for-test")
    assert response.status_code == 503
    body = response.get_json()
    assert body["code"] == "query_timeout" and body["status"] == 503
    assert response.headers["Retry-After"] == "30"


@pytest.mark.postgres
@pytest.mark.committed  # the web's own engine and bound, on real connections
def test_the_bound_holds_after_a_commit_and_never_reaches_a_jobs_session(settings, app):
    bounded = create_app(replace(settings, web_statement_timeout_ms=150))

    @bounded.route("/bound-for-test")
    def bound():
        session = db_session()
        first = session.scalar(text("SHOW statement_timeout"))
        session.commit()  # a new transaction: SET LOCAL is made again
        second = session.scalar(text("SHOW statement_timeout"))
        return {"first": first, "second": second}

    assert bounded.test_client().get("/bound-for-test").get_json() == {
        "first": "150ms",
        "second": "150ms",
    }
    with bounded.extensions["agency"].sessionmaker() as job_session:  # as a worker's
        assert job_session.scalar(text("SHOW statement_timeout")) == "0"
        job_session.execute(text("SELECT pg_sleep(0.3)"))
