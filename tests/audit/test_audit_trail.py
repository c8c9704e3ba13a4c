"""Every state change is appended to a hash chain that managers and auditors read and a
command verifies; an edited entry is detected (and refused outright on PostgreSQL)."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from agency.audit.models import AuditEntry
from agency.audit.service import GENESIS_HASH, record, verify_chain
from tests.factories import bearer, make_admin, make_auditor, make_manager, principal_of
from tests.introductions.introductions_helpers import confirmed, make_world


def test_the_journey_leaves_a_linked_audit_trail(client, session):
    world = make_world(session)
    introduction = confirmed(client, world)
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.sequence)).all()
    actions = [e.action for e in entries]
    assert actions == [
        "introduction.approved",
        "introduction.accepted",
        "introduction.confirmed",
        "care_request.status_changed",
        "arrangement.started",
    ]
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    accepted = entries[1]
    assert accepted.principal_kind == "provider"
    assert accepted.object_id == introduction["id"]
    assert accepted.before == {"status": "awaiting_provider"}
    assert accepted.after["status"] == "awaiting_seeker"
    assert accepted.agency_id == world.agency.id
    assert verify_chain(session).ok


def test_managers_read_their_agency_auditors_their_council_admins_everything(client, session):
    world = make_world(session)
    confirmed(client, world)
    elsewhere = make_world(session)
    confirmed(client, elsewhere)

    def log(headers, **query):
        response = client.get("/audit-log", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    mine = log(world.manager)
    assert len(mine) == 5 and {e["agency_id"] for e in mine} == {world.agency.id}
    auditor = bearer(session, make_auditor(session, world.agency.council))
    assert {e["council_id"] for e in log(auditor)} == {world.agency.council_id}
    assert len(log(bearer(session, make_admin(session)))) == 10
    assert log(bearer(session, make_manager(session))) == []
    one = log(world.manager, object_id=world.care_request.id)
    assert [e["action"] for e in one] == ["care_request.status_changed"]
    accepted = log(world.manager, action="introduction.accepted")
    assert [e["principal_kind"] for e in accepted] == ["provider"]
    assert client.get("/audit-log", headers=world.partner_auth).status_code == 403
    assert client.get("/audit-log", headers=world.provider_auth).status_code == 403
    assert client.get("/audit-log").status_code == 401


def test_the_audit_log_has_no_write_path(client, session):
    admin = bearer(session, make_admin(session))
    assert client.post("/audit-log", json={}, headers=admin).status_code == 405
    assert client.delete("/audit-log", headers=admin).status_code == 405


def test_other_domains_record_entries_with_their_own_principal(session):
    world = make_world(session)
    manager = make_manager(session, world.agency)
    entry = record(
        session,
        principal_of(session, manager),
        "listing.approved",
        world.provider.listings[0],
        {"status": "applied"},
        {"status": "approved"},
    )
    session.commit()
    assert entry.agency_id == world.agency.id
    assert entry.council_id == world.agency.council_id
    assert entry.object_type == "provider_listings"
    assert verify_chain(session).checked == 1


def test_verify_audit_passes_an_intact_chain_and_names_the_first_tampered_entry(
    app, client, session
):
    world = make_world(session)
    confirmed(client, world)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0, result.output
    assert "5 entries verified" in result.output
    victim = session.scalar(select(AuditEntry).where(AuditEntry.sequence == 3))
    with _triggers_disabled(session):
        session.execute(
            text("UPDATE audit_entries SET after = :after WHERE id = :id"),
            {"after": '{"status": "withdrawn"}', "id": victim.id},
        )
    session.commit()
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 1
    assert victim.id in result.output
    assert "sequence 3" in result.output


def test_a_deleted_entry_breaks_the_chain(app, client, session):
    world = make_world(session)
    confirmed(client, world)
    with _triggers_disabled(session):
        session.execute(text("DELETE FROM audit_entries WHERE sequence = 2"))
    session.commit()
    report = verify_chain(session)
    assert not report.ok
    assert report.first_bad_sequence == 3
    assert "gap" in report.problem


@pytest.mark.postgres
def test_postgres_refuses_to_update_or_delete_an_audit_entry(client, session):
    world = make_world(session)
    confirmed(client, world)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("UPDATE audit_entries SET action = 'x'"))
    session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("DELETE FROM audit_entries"))
    session.rollback()


class _triggers_disabled:  # noqa: N801 - reads as a phrase in `with`
    """Tampering as someone with direct database access would: past the trigger, if any."""

    def __init__(self, session):
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def __enter__(self):
        if self.postgres:
            self.session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))

    def __exit__(self, *exc):
        if self.postgres:
            self.session.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
