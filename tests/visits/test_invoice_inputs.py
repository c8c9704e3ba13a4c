"""Invoice list inputs that once gave a 500 or a truncated CSV (issue 14)."""

import pytest
from sqlalchemy import select

from agency.isf.models import Invoice
from agency.visits import invoice_views
from tests.factories import bearer, make_manager


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "1999-12", "3000-01"])
def test_a_period_outside_the_years_we_answer_for_is_422(client, session, period):
    headers = bearer(session, make_manager(session))
    for url in (f"/invoices?period={period}", f"/invoices.csv?period={period}"):
        response = client.get(url, headers=headers)
        assert response.status_code == 422, url
        assert set(response.json["errors"]) == {"period"}


def test_the_first_and_last_periods_answer(client, session):
    headers = bearer(session, make_manager(session))
    for period in ("2000-01", "2999-12"):
        assert client.get(f"/invoices?period={period}", headers=headers).json == []


def test_month_bounds_cover_december_into_the_next_year():
    import datetime as dt

    assert invoice_views.month_bounds("2026-12") == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))


def test_the_invoice_list_csv_with_a_nul_filter_is_refused_before_any_200(client, session):
    headers = bearer(session, make_manager(session))
    response = client.get("/invoices.csv?arrangement_id=a%00b", headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/json"


@pytest.mark.postgres
def test_the_invoice_list_csv_runs_its_query_before_the_response_starts(app):
    # Past the edge's checks, a query that fails must fail while an error response can
    # still be sent: when the stream is built, not after a 200 has gone out.
    from psycopg import DataError as PsycopgDataError
    from sqlalchemy.exc import DataError

    sessionmaker = app.extensions["agency"].sessionmaker
    stmt = select(Invoice).where(Invoice.arrangement_id == "a\x00b")
    with pytest.raises((DataError, PsycopgDataError, ValueError)):
        invoice_views.streamed_list_csv(sessionmaker, stmt.execution_options(yield_per=500))


def test_the_document_gives_the_periods_pattern_and_it_agrees_with_the_api(client):
    import re

    spec = client.get("/openapi.json").get_json()
    (parameter,) = [
        p for p in spec["paths"]["/invoices"]["get"]["parameters"] if p["name"] == "period"
    ]
    pattern = re.compile(parameter["schema"]["pattern"])
    for period in ("2000-01", "2999-12", "2026-11"):
        assert pattern.search(period)
        assert invoice_views.month_bounds(period)
    for period in ("0000-01", "1999-12", "3000-01", "2026-13", "2026-00"):
        assert not pattern.search(period), period
