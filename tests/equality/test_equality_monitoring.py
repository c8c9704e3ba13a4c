"""Equality monitoring: consented, write-only, kept out of every other output, erased."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import JSON, String, Text, cast, func, select

import agency.models  # noqa: F401 - every table registered
from agency.access import Kind, Principal
from agency.accounts.models import User
from agency.db import Base
from agency.equality.models import EqualityMonitoring
from agency.seekers.models import CareSeeker
from agency.webhooks.models import WebhookEvent
from agency.webhooks.service import register_endpoint
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_arrangement,
    make_auditor,
    make_manager,
    make_partner,
    make_provider,
)
from tests.seekers.seekers_helpers import ask, consent_body, covered_agency, register

ANSWERS = {
    "age_band": "75_84",
    "sex": "female",
    "gender_identity": "prefer_not_to_say",
    "ethnic_group": "mixed",
    "disability": "disabled",
    "religion": "buddhist",
    "sexual_orientation": "bisexual",
}
# Values that appear nowhere else in the service: if they show up, the answers leaked.
TELLTALES = ("buddhist", "bisexual", "75_84", "religion", "sexual_orientation")
PURPOSES = ["introductions", "equality_monitoring"]


@pytest.fixture
def world(client, session):
    agency = covered_agency(session)
    partner, secret = make_partner(session)
    seeker = register(client, secret, consent=consent_body(purposes=PURPOSES))
    return {
        "agency": agency,
        "secret": secret,
        "partner": api_key(secret),
        "seeker": seeker,
        "url": f"/care-seekers/{seeker['id']}/equality-monitoring",
    }


def test_the_partner_records_answers_and_nothing_comes_back(client, session, world):
    response = client.put(world["url"], json=ANSWERS, headers=world["partner"])
    assert response.status_code == 204
    assert response.get_data() == b""
    row = session.scalar(select(EqualityMonitoring))
    assert (row.religion.value, row.sex.value) == ("buddhist", "female")
    # Answers replaced; a question left out is not answered.
    assert client.put(world["url"], json={"sex": "male"}, headers=world["partner"]).status_code
    session.expire_all()
    row = session.scalar(select(EqualityMonitoring))
    assert (row.sex.value, row.religion) == ("male", None)
    assert client.get(world["url"], headers=world["partner"]).status_code == 405


def test_without_consent_to_monitoring_nothing_is_stored(client, session):
    covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)  # introductions and sharing only
    url = f"/care-seekers/{seeker['id']}/equality-monitoring"
    response = client.put(url, json=ANSWERS, headers=api_key(secret))
    assert (response.status_code, response.json["code"]) == (409, "consent_required")
    assert session.scalar(select(func.count()).select_from(EqualityMonitoring)) == 0


@pytest.mark.parametrize(
    "change", [{"sex": "unknown"}, {"age_band": 80}, {"religion": "Buddhist"}, {"colour": "x"}]
)
def test_answers_outside_the_options_are_refused_with_422(client, world, change):
    response = client.put(world["url"], json={**ANSWERS, **change}, headers=world["partner"])
    assert response.status_code == 422


def test_other_principals_are_refused(client, session, world):
    assert client.put(world["url"], json={"sex": "x"}).status_code == 401
    provider = make_provider(session, world["agency"])
    refusals = [
        (api_key(make_partner(session, name="Other")[1]), 404),
        (bearer(session, make_manager(session, world["agency"])), 403),
        (bearer(session, make_manager(session, make_agency(session))), 403),
        (bearer(session, make_auditor(session, None)), 403),
        (bearer(session, session.get(User, provider.user_id)), 403),
    ]
    for headers, status in refusals:
        assert client.put(world["url"], json=ANSWERS, headers=headers).status_code == status
    assert session.scalar(select(func.count()).select_from(EqualityMonitoring)) == 0
    missing = client.put(
        "/care-seekers/skr_missing/equality-monitoring", json=ANSWERS, headers=world["partner"]
    )
    assert missing.status_code == 404


def test_erasing_the_seeker_deletes_the_answers(client, session, world):
    assert client.put(world["url"], json=ANSWERS, headers=world["partner"]).status_code == 204
    erase = client.post(f"/care-seekers/{world['seeker']['id']}/erase", headers=world["partner"])
    assert erase.status_code == 200
    assert session.scalar(select(func.count()).select_from(EqualityMonitoring)) == 0


def _text_elsewhere(session, skip: str = EqualityMonitoring.__tablename__) -> str:
    """Every String, Text and JSON value (enums too) of every table but ``skip``."""
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name == skip:
            continue
        for column in table.columns:
            if isinstance(column.type, (String, Text, JSON)):
                found += [str(v) for v in session.scalars(select(cast(column, Text)))]
    return "\n".join(found)


def test_the_answers_reach_no_log_webhook_export_or_feed(client, session, world, caplog):
    caplog.set_level(logging.DEBUG)
    seeker = session.get(CareSeeker, world["seeker"]["id"])
    register_endpoint(  # a local URL (no DNS here), so through the service
        session,
        Principal(Kind.PARTNER, seeker.partner_client_id),
        url="http://127.0.0.1:9/hooks",
        events=["arrangement.ended"],
        description=None,
        allow_private=True,
    )
    session.commit()
    assert client.put(world["url"], json=ANSWERS, headers=world["partner"]).status_code == 204
    assert ask(client, world["secret"], world["seeker"]["id"]).status_code == 201
    arrangement = make_arrangement(
        session, world["agency"], make_provider(session, world["agency"]), seeker
    )
    ended = client.post(
        f"/arrangements/{arrangement.id}/end",
        json={"reason": "moved away"},
        headers=world["partner"],
    )
    assert ended.status_code == 200, ended.json
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
    manager = bearer(session, make_manager(session, world["agency"]))
    outputs = [
        client.get(f"/care-seekers/{world['seeker']['id']}", headers=world["partner"]),
        client.get(f"/care-seekers/{world['seeker']['id']}", headers=manager),
        client.get("/care-requests", headers=world["partner"]),
        client.get("/oruk/services"),
        client.get("/oruk/services", headers=manager),
    ]
    outputs += [
        client.get(f"/reports/{name}.csv", headers=manager)
        for name in ("local-spend", "unmet-need", "funnel", "fairness", "outcomes")
    ]
    texts = [response.get_data(as_text=True) for response in outputs]
    texts.append(caplog.text)
    texts += [repr(record.__dict__) for record in caplog.records]
    texts.append(_text_elsewhere(session))  # webhook events and deliveries, audit, jobs...
    everything = "\n".join(texts).lower()
    assert [word for word in TELLTALES if word in everything] == []
    # The same search does find the answers where they are kept.
    assert "buddhist" in _text_elsewhere(session, skip="care_seekers")
