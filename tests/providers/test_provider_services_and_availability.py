"""Services and rates (CQC registration for personal care), weekly availability, time off."""

import datetime as dt

from agency.providers.models import AvailabilityException, ComplianceKind, ComplianceStatus
from agency.schedule import mask_from_hex, mask_to_hex, windows_to_mask
from tests.providers.providers_helpers import add_item, make_world

SERVICES = [
    {"service_key": "companionship", "rate_pence": 1850},
    {"service_key": "meal_preparation", "rate_pence": 2000},
]


def test_a_provider_sets_its_services_and_rates(client, session):
    w = make_world(session)
    response = client.put(
        f"/providers/{w.provider.id}/services", json={"services": SERVICES}, headers=w.me
    )
    assert response.status_code == 200
    assert response.get_json()["services"] == SERVICES
    session.refresh(w.provider)
    assert {s.service_key: s.rate_pence for s in w.provider.services} == {
        "companionship": 1850,
        "meal_preparation": 2000,
    }


def test_services_are_validated_naming_the_field(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/services"
    bad = [
        [{"service_key": "astrology", "rate_pence": 1800}],
        [{"service_key": "companionship", "rate_pence": 100}],
        [{"service_key": "companionship", "rate_pence": 18.5}],
        [{"service_key": "companionship", "rate_pence": 1800}] * 2,
    ]
    for services in bad:
        response = client.put(url, json={"services": services}, headers=w.me)
        assert response.status_code == 422, services
        assert "services" in response.get_json()["errors"], services
    assert client.put(url, json={}, headers=w.me).status_code == 422


def test_personal_care_needs_a_verified_in_date_cqc_registration(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/services"
    body = {"services": [{"service_key": "personal_care", "rate_pence": 2400}]}
    refused = client.put(url, json=body, headers=w.me)
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "cqc_registration_required"
    assert "CQC registration" in refused.get_json()["message"]
    add_item(session, w.provider, ComplianceKind.CQC_REGISTRATION, status=ComplianceStatus.PENDING)
    assert client.put(url, json=body, headers=w.me).status_code == 422
    add_item(session, w.provider, ComplianceKind.CQC_REGISTRATION, expires_on=dt.date(2020, 1, 1))
    assert client.put(url, json=body, headers=w.me).status_code == 422
    add_item(session, w.provider, ComplianceKind.CQC_REGISTRATION, expires_on=None)
    accepted = client.put(url, json=body, headers=w.me)
    assert accepted.status_code == 200
    assert accepted.get_json()["services"] == body["services"]


def test_only_the_provider_sets_its_services(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/services"
    body = {"services": SERVICES}
    assert client.put(url, json=body, headers=w.other_provider).status_code == 404
    for headers in (w.manager, w.other_manager, w.auditor, w.partner):
        assert client.put(url, json=body, headers=headers).status_code == 403


def test_a_provider_sets_its_weekly_availability_stored_as_windows_and_mask(client, session):
    w = make_world(session)
    weekly = [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "11:30", "end": "13:00"},
        {"weekday": 5, "start": "18:00", "end": "24:00"},
    ]
    response = client.put(
        f"/providers/{w.provider.id}/availability", json={"weekly": weekly}, headers=w.me
    )
    assert response.status_code == 200
    merged = [
        {"weekday": 0, "start": "09:00", "end": "13:00"},
        {"weekday": 5, "start": "18:00", "end": "24:00"},
    ]
    assert response.get_json()["weekly"] == merged
    session.refresh(w.provider)
    assert w.provider.availability_mask == mask_to_hex(windows_to_mask(merged, "w"))
    read = client.get(f"/providers/{w.provider.id}/availability", headers=w.manager)
    assert read.status_code == 200
    assert read.get_json()["weekly"] == merged


def test_availability_off_the_half_hour_or_out_of_range_is_422(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/availability"
    for window in (
        {"weekday": 0, "start": "09:15", "end": "12:00"},
        {"weekday": 7, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "12:00", "end": "09:00"},
        {"weekday": 0, "start": "9am", "end": "12:00"},
    ):
        response = client.put(url, json={"weekly": [window]}, headers=w.me)
        assert response.status_code == 422, window
        assert "weekly" in response.get_json()["errors"], window


def test_only_the_provider_sets_its_availability(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/availability"
    body = {"weekly": []}
    assert client.put(url, json=body, headers=w.other_provider).status_code == 404
    for headers in (w.manager, w.other_manager, w.auditor, w.partner):
        assert client.put(url, json=body, headers=headers).status_code == 403
    assert client.get(url, headers=w.other_manager).status_code == 404
    session.refresh(w.provider)
    assert mask_from_hex(w.provider.availability_mask).any()


def test_a_provider_adds_and_removes_time_off(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/availability/exceptions"
    body = {"starts_on": "2026-12-21", "ends_on": "2027-01-02", "reason": "holiday"}
    created = client.post(url, json=body, headers=w.me)
    assert created.status_code == 201
    exception = created.get_json()
    assert exception["id"].startswith("off_")
    listed = client.get(f"/providers/{w.provider.id}/availability", headers=w.me).get_json()
    assert [e["id"] for e in listed["exceptions"]] == [exception["id"]]
    assert client.delete(f"{url}/{exception['id']}", headers=w.other_provider).status_code == 404
    for headers in (w.manager, w.other_manager, w.auditor, w.partner):
        assert client.delete(f"{url}/{exception['id']}", headers=headers).status_code == 403
    assert client.delete(f"{url}/{exception['id']}", headers=w.me).status_code == 204
    assert session.get(AvailabilityException, exception["id"]) is None
    assert client.delete(f"{url}/{exception['id']}", headers=w.me).status_code == 404


def test_time_off_is_validated_and_others_cannot_add_it(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/availability/exceptions"
    backwards = {"starts_on": "2026-12-21", "ends_on": "2026-12-20", "reason": "holiday"}
    response = client.post(url, json=backwards, headers=w.me)
    assert response.status_code == 422
    assert "ends_on" in response.get_json()["errors"]
    odd = {"starts_on": "2026-12-21", "ends_on": "2026-12-22", "reason": "party"}
    assert "reason" in client.post(url, json=odd, headers=w.me).get_json()["errors"]
    good = {"starts_on": "2026-12-21", "ends_on": "2026-12-22", "reason": "sickness"}
    assert client.post(url, json=good, headers=w.other_provider).status_code == 404
    for headers in (w.manager, w.other_manager, w.auditor, w.partner):
        assert client.post(url, json=good, headers=headers).status_code == 403
