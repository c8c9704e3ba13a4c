"""Compliance documents: added by the provider, verified or rejected by its agencies' managers;
the rule for which are required, and the eligibility read that explains it."""

import datetime as dt

from agency.providers.compliance import compliance_valid_until, cqc_registered
from agency.providers.models import ComplianceKind, ComplianceStatus, ListingStatus, ProviderService
from tests.factories import make_provider
from tests.providers.providers_helpers import add_item, make_world

DBS = {
    "kind": "dbs",
    "title": "Enhanced DBS",
    "level": "enhanced",
    "evidence_reference": "001234567890",
    "issued_on": "2025-03-01",
}


def test_a_provider_adds_a_document_which_waits_for_verification(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/compliance"
    created = client.post(url, json=DBS, headers=w.me)
    assert created.status_code == 201
    item = created.get_json()
    assert item["status"] == "pending" and item["kind"] == "dbs"
    for headers in (w.me, w.manager, w.auditor):
        listed = client.get(url, headers=headers)
        assert listed.status_code == 200
        assert item["id"] in [i["id"] for i in listed.get_json()]


def test_documents_are_validated_naming_the_field(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/compliance"
    cases = {
        "kind": {**DBS, "kind": "passport"},
        "evidence_reference": {**DBS, "evidence_reference": ""},
        "expires_on": {**DBS, "expires_on": "2020-01-01"},
    }
    for field, body in cases.items():
        response = client.post(url, json=body, headers=w.me)
        assert response.status_code == 422, field
        assert field in response.get_json()["errors"], field
    no_expiry = {"kind": "insurance", "evidence_reference": "POL-1"}
    response = client.post(url, json=no_expiry, headers=w.me)
    assert response.status_code == 422
    assert "expires_on" in response.get_json()["errors"]


def test_others_cannot_add_or_read_documents(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/compliance"
    assert client.post(url, json=DBS, headers=w.other_provider).status_code == 404
    for headers in (w.manager, w.other_manager, w.auditor, w.partner):
        assert client.post(url, json=DBS, headers=headers).status_code == 403
    for headers in (w.other_provider, w.other_manager, w.other_auditor):
        assert client.get(url, headers=headers).status_code == 404


def test_a_manager_verifies_once_and_the_provider_editing_resets_it(client, session):
    w = make_world(session)
    base = f"/providers/{w.provider.id}/compliance"
    item = client.post(base, json=DBS, headers=w.me).get_json()
    verified = client.post(f"{base}/{item['id']}/verify", json={"note": "ok"}, headers=w.manager)
    assert verified.status_code == 200
    assert verified.get_json()["status"] == "verified"
    again = client.post(f"{base}/{item['id']}/verify", json={}, headers=w.manager)
    assert again.status_code == 409
    assert again.get_json()["code"] == "compliance_item_not_pending"
    assert again.get_json()["current_status"] == "verified"
    edited = client.patch(f"{base}/{item['id']}", json={"expires_on": "2031-01-01"}, headers=w.me)
    assert edited.status_code == 200
    assert edited.get_json()["status"] == "pending"
    assert edited.get_json()["expires_on"] == "2031-01-01"


def test_a_manager_rejects_a_document_with_a_reason(client, session):
    w = make_world(session)
    base = f"/providers/{w.provider.id}/compliance"
    item = client.post(base, json=DBS, headers=w.me).get_json()
    no_reason = client.post(f"{base}/{item['id']}/reject", json={}, headers=w.manager)
    assert no_reason.status_code == 422
    assert "reason" in no_reason.get_json()["errors"]
    rejected = client.post(
        f"{base}/{item['id']}/reject", json={"reason": "Number does not match"}, headers=w.manager
    )
    assert rejected.status_code == 200
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["status_reason"] == "Number does not match"


def test_only_a_manager_where_the_provider_applied_verifies(client, session):
    w = make_world(session)
    base = f"/providers/{w.provider.id}/compliance"
    item = client.post(base, json=DBS, headers=w.me).get_json()
    url = f"{base}/{item['id']}/verify"
    assert client.post(url, json={}, headers=w.other_manager).status_code == 404
    for headers in (w.me, w.other_provider, w.auditor, w.partner):
        assert client.post(url, json={}, headers=headers).status_code == 403
    assert client.post(f"{base}/cmp_nope/verify", json={}, headers=w.manager).status_code == 404
    listed = {i["id"]: i["status"] for i in client.get(base, headers=w.me).get_json()}
    assert listed[item["id"]] == "pending"


def test_verifying_a_cqc_registration_records_the_number_on_the_profile(client, session):
    w = make_world(session)
    base = f"/providers/{w.provider.id}/compliance"
    body = {"kind": "cqc_registration", "evidence_reference": "1-101234567"}
    item = client.post(base, json=body, headers=w.me).get_json()
    client.post(f"{base}/{item['id']}/verify", json={}, headers=w.manager)
    session.refresh(w.provider)
    assert w.provider.cqc_registration_number == "1-101234567"


def test_compliance_valid_until_is_the_earliest_expiry_of_the_required_items(session):
    today = dt.date(2026, 12, 1)
    provider = make_provider(session, compliant_until=None)
    assert compliance_valid_until(provider, today) is None
    add_item(session, provider, ComplianceKind.DBS, expires_on=None)
    assert compliance_valid_until(provider, today) is None  # insurance missing
    add_item(session, provider, ComplianceKind.INSURANCE, status=ComplianceStatus.PENDING)
    session.refresh(provider)
    assert compliance_valid_until(provider, today) is None  # insurance unverified
    add_item(session, provider, ComplianceKind.INSURANCE, expires_on=dt.date(2027, 3, 1))
    add_item(session, provider, ComplianceKind.INSURANCE, expires_on=dt.date(2026, 1, 1))
    add_item(session, provider, ComplianceKind.TRAINING, expires_on=dt.date(2026, 2, 1))
    session.refresh(provider)
    assert compliance_valid_until(provider, today) == dt.date(2027, 3, 1)
    provider.services.append(ProviderService(service_key="personal_care", rate_pence=2400))
    session.commit()
    assert compliance_valid_until(provider, today) is None  # regulated: CQC now required
    assert compliance_valid_until(provider, today, regulated_keys=()) == dt.date(2027, 3, 1)
    add_item(session, provider, ComplianceKind.CQC_REGISTRATION, expires_on=dt.date(2026, 6, 1))
    session.refresh(provider)
    assert compliance_valid_until(provider, today) == dt.date(2026, 6, 1)  # lapsed: in the past
    assert not cqc_registered(provider, today)
    assert cqc_registered(provider, dt.date(2026, 5, 1))


def test_eligibility_says_matchable_for_an_approved_compliant_provider(client, session):
    w = make_world(session, status=ListingStatus.APPROVED)
    response = client.get(f"/providers/{w.provider.id}/eligibility?on=2026-12-01", headers=w.me)
    assert response.status_code == 200
    body = response.get_json()
    assert body["matchable"] is True
    assert body["reasons"] == []
    assert body["compliance_valid_until"] == "2030-01-01"
    assert body["approved_agency_ids"] == [w.agency.id]


def test_eligibility_gives_every_reason_why_not(client, session):
    w = make_world(session, status=ListingStatus.APPLIED, compliant_until=None)
    expired = add_item(session, w.provider, ComplianceKind.DBS, expires_on=dt.date(2026, 1, 31))
    url = f"/providers/{w.provider.id}/eligibility?on=2026-12-01"
    body = client.get(url, headers=w.manager).get_json()
    assert body["matchable"] is False
    reasons = {r["code"]: r for r in body["reasons"]}
    assert set(reasons) == {"compliance_expired", "insurance_missing", "not_approved"}
    assert reasons["compliance_expired"]["item_id"] == expired.id
    assert reasons["compliance_expired"]["date"] == "2026-01-31"
    assert "2026-01-31" in reasons["compliance_expired"]["message"]


def test_eligibility_reports_a_suspension(client, session):
    w = make_world(session, status=ListingStatus.SUSPENDED)
    body = client.get(f"/providers/{w.provider.id}/eligibility", headers=w.auditor).get_json()
    codes = [r["code"] for r in body["reasons"]]
    assert "suspended" in codes and "not_approved" in codes


def test_strangers_cannot_read_eligibility(client, session):
    w = make_world(session)
    url = f"/providers/{w.provider.id}/eligibility"
    for headers in (w.other_provider, w.other_manager, w.other_auditor):
        assert client.get(url, headers=headers).status_code == 404
    assert client.get(url, headers=w.partner).status_code == 403
    assert client.get(f"{url}?on=yesterday", headers=w.me).status_code == 422


def test_only_the_provider_edits_and_only_its_managers_reject_a_document(client, session):
    w = make_world(session)
    base = f"/providers/{w.provider.id}/compliance"
    item = client.post(base, json=DBS, headers=w.me).get_json()
    edit, reject = f"{base}/{item['id']}", f"{base}/{item['id']}/reject"
    change, reason = {"title": "changed"}, {"reason": "No."}
    assert client.patch(edit, json=change, headers=w.other_provider).status_code == 404
    for headers in (w.manager, w.other_manager, w.auditor, w.partner):
        assert client.patch(edit, json=change, headers=headers).status_code == 403
    assert client.patch(f"{base}/cmp_nope", json=change, headers=w.me).status_code == 404
    bad = client.patch(edit, json={"kind": "horoscope"}, headers=w.me)
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]
    assert client.post(reject, json=reason, headers=w.other_manager).status_code == 404
    for headers in (w.me, w.other_provider, w.auditor, w.partner):
        assert client.post(reject, json=reason, headers=headers).status_code == 403
    listed = {i["id"]: i for i in client.get(base, headers=w.me).get_json()}
    assert listed[item["id"]]["status"] == "pending"
    assert listed[item["id"]]["title"] == "Enhanced DBS"
