"""Care request changes, vetting decisions and compliance changes reach the audit trail."""

from sqlalchemy import select

from agency.audit.models import AuditEntry
from agency.audit.service import verify_chain
from agency.privacy import hash_free_text
from agency.providers.models import ComplianceKind, ComplianceStatus
from tests.factories import bearer, make_manager, make_partner
from tests.providers.providers_helpers import add_item, make_world
from tests.seekers.seekers_helpers import ask, covered_agency, register


def _hashed(text):
    """Free text is in the trail only as its hash (agency.privacy.hash_free_text)."""
    return hash_free_text({"reason": text})["reason"]


def entries(session, object_id=None):
    session.expire_all()
    stmt = select(AuditEntry).order_by(AuditEntry.sequence)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return session.scalars(stmt).all()


def test_a_care_request_is_audited_from_creation_to_withdrawal(client, session):
    agency = covered_agency(session)
    _, secret = make_partner(session)
    seeker = register(client, secret)
    created = ask(client, secret, seeker["id"]).get_json()
    changed = client.patch(
        f"/care-requests/{created['id']}",
        json={"hours_per_week": 2.5},
        headers={"X-API-Key": secret},
    )
    assert changed.status_code == 200, changed.get_json()
    withdrawn = client.post(
        f"/care-requests/{created['id']}/withdraw",
        json={"reason": "moved away"},
        headers={"X-API-Key": secret},
    )
    assert withdrawn.status_code == 200
    trail = entries(session, created["id"])
    assert [e.action for e in trail] == [
        "care_request.created",
        "care_request.changed",
        "care_request.status_changed",
    ]
    assert trail[0].agency_id == agency.id and trail[0].principal_kind == "partner"
    assert trail[1].before["minutes_per_week"] != trail[1].after["minutes_per_week"]
    assert trail[2].after == {"status": "withdrawn", "reason": _hashed("moved away")}
    assert "notes" not in trail[0].after  # free text stays out of the trail
    assert verify_chain(session).ok


def test_vetting_and_compliance_decisions_are_audited_for_the_agency(client, session):
    world = make_world(session)
    listing_id = client.get("/providers/listings", headers=world.me).get_json()[0]["id"]
    decided = client.post(
        f"/providers/listings/{listing_id}/decisions",
        json={"decision": "approve", "reason": "references checked"},
        headers=world.manager,
    )
    assert decided.status_code == 201, decided.get_json()
    item = add_item(
        session, world.provider, ComplianceKind.TRAINING, status=ComplianceStatus.PENDING
    )
    verified = client.post(
        f"/providers/{world.provider.id}/compliance/{item.id}/verify",
        json={},
        headers=world.manager,
    )
    assert verified.status_code == 200, verified.get_json()
    approve = [e for e in entries(session, listing_id) if e.action == "listing.approve"]
    assert len(approve) == 1 and approve[0].before == {"status": "applied"}
    assert approve[0].after == {"status": "approved", "reason": _hashed("references checked")}
    [verify] = entries(session, item.id)
    assert verify.action == "compliance.verified" and verify.agency_id == world.agency.id
    assert verify.before["status"] == "pending" and verify.after["status"] == "verified"
    log = client.get("/audit-log", headers=world.manager).get_json()
    assert {"listing.approve", "compliance.verified"} <= {e["action"] for e in log}
    other = bearer(session, make_manager(session, world.other_agency))
    assert not {e["object_id"] for e in client.get("/audit-log", headers=other).get_json()} & {
        listing_id,
        item.id,
    }
    assert verify_chain(session).ok
