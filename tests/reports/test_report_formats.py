"""``?format=`` is taken and documented where it chooses something: the JSON report route."""

import pytest

from agency.reports.routes import REPORTS
from tests.factories import bearer, make_manager

QUERY = {"period_start": "2026-01-01", "period_end": "2026-12-31"}


def test_only_the_json_report_route_documents_a_format_parameter(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for name in REPORTS:
        for suffix, documented in (("", True), (".csv", False), (".png", False), (".svg", False)):
            parameters = paths[f"/reports/{name}{suffix}"]["get"].get("parameters", [])
            names = {parameter["name"] for parameter in parameters}
            assert ("format" in names) is documented, (name, suffix)
            assert "period_start" in names


@pytest.mark.parametrize(("suffix", "mimetype"), [(".png", "image/png"), (".csv", "text/csv")])
def test_a_fixed_format_route_answers_its_own_format_whatever_the_query_says(
    client, session, suffix, mimetype
):
    # Like any query parameter a route does not take, a stray format is ignored (webargs
    # excludes unknown query parameters): the route no longer claims to honour it.
    headers = bearer(session, make_manager(session))
    response = client.get(
        f"/reports/funnel{suffix}", query_string={**QUERY, "format": "json"}, headers=headers
    )
    assert response.status_code == 200
    assert response.mimetype == mimetype


def test_the_json_route_still_answers_csv_with_format_csv(client, session):
    headers = bearer(session, make_manager(session))
    response = client.get(
        "/reports/funnel", query_string={**QUERY, "format": "csv"}, headers=headers
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
