"""Logs are JSON lines with request id, principal, route, status and duration, and no personal data."""

import json
import logging

from agency.logs import JsonFormatter
from tests.factories import PASSWORD, make_user


def test_an_access_line_has_the_fields_and_no_personal_data(client, session, caplog):
    user = make_user(session, email="jane.doe@example.test")
    with caplog.at_level(logging.INFO, logger="agency.access"):
        client.post("/auth/token", json={"email": user.email, "password": PASSWORD})
        client.get("/health/live?postcode=BS3%204AB")
    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "agency.access"
    ]
    assert [line["route"] for line in lines] == ["/auth/token", "/health/live"]
    assert lines[0]["status"] == 201 and lines[0]["method"] == "POST"
    assert lines[0]["request_id"].startswith("req_")
    assert isinstance(lines[0]["duration_ms"], float)
    text = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for secret in ("jane.doe", PASSWORD, "BS3", "4AB"):
        assert secret not in text


def test_only_allowed_fields_reach_the_log():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.email = "someone@example.test"
    record.status = 200
    line = json.loads(JsonFormatter().format(record))
    assert "email" not in line and line["status"] == 200
