"""Auditors: one pseudonym per person everywhere, no raw seeker ids, no free-text notes."""

from sqlalchemy import select

from agency.isf.models import IsfAccount
from tests.factories import bearer, make_auditor
from tests.visits.visit_helpers import log, make_isf_world


def test_an_auditor_sees_one_pseudonym_per_seeker_and_never_their_id(client, session):
    world = make_isf_world(session, 10_000)
    auditor = bearer(session, make_auditor(session, world.agency.council))
    isf = session.scalar(select(IsfAccount).where(IsfAccount.seeker_id == world.seeker.id))
    care_request_id = world.arrangement.care_request_id
    reads = {
        "isf": client.get(f"/isf-accounts/{isf.id}", headers=auditor),
        "request": client.get(f"/care-requests/{care_request_id}", headers=auditor),
        "arrangement": client.get(f"/arrangements/{world.arrangement.id}", headers=auditor),
        "arrangements": client.get("/arrangements", headers=auditor),
        "audit": client.get("/audit-log", headers=auditor),
    }
    for name, response in reads.items():
        assert response.status_code == 200, (name, response.get_json())
        assert world.seeker.id not in response.get_data(as_text=True), name
    names = {
        reads["isf"].json["seeker_ref"],
        reads["request"].json["seeker_pseudonym"],
        reads["arrangement"].json["seeker_pseudonym"],
        reads["arrangements"].json[0]["seeker_pseudonym"],
    }
    assert len(names) == 1 and names.pop().startswith("S-")
    assert "seeker_id" not in reads["arrangement"].json
    manager_view = client.get(
        f"/arrangements/{world.arrangement.id}", headers=world.manager_headers
    )
    assert manager_view.json["seeker_id"] == world.seeker.id


def test_an_auditor_reads_visits_without_their_notes_or_dispute_reasons(client, session):
    world = make_isf_world(session, 10_000)
    auditor = bearer(session, make_auditor(session, world.agency.council))
    visit = log(client, world, notes="Her daughter Jane at 12 Acacia Rd").json
    disputed = client.post(
        f"/visits/{visit['id']}/dispute",
        json={"reason": "Jane says nobody came"},
        headers=world.partner_headers,
    )
    assert disputed.status_code == 200, disputed.json
    seen = client.get(f"/visits/{visit['id']}", headers=auditor)
    listed = client.get(f"/arrangements/{world.arrangement.id}/visits", headers=auditor)
    for body in (seen.json, listed.json[0]):
        assert body["notes"] is None and body["dispute_reason"] is None
        assert body["status"] == "disputed"
    assert "Jane" not in seen.get_data(as_text=True) + listed.get_data(as_text=True)
    mine = client.get(f"/visits/{visit['id']}", headers=world.manager_headers).json
    assert mine["notes"] == "Her daughter Jane at 12 Acacia Rd"
    assert mine["dispute_reason"] == "Jane says nobody came"
