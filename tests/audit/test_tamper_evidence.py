"""The audit chain is keyed (HMAC under AUDIT_KEY, not in the database) and anchored by
signed checkpoints written outside the database: each way an insider with direct database
access could rewrite history is caught by ``flask verify-audit``."""

import json
from dataclasses import replace

import pytest
from sqlalchemy import select, text

from agency.audit.checkpoints import latest_checkpoint
from agency.audit.models import AuditChainKeying, AuditEntry
from agency.audit.service import entry_hash, legacy_entry_hash, verify_chain
from tests.audit.test_audit_trail import _triggers_disabled
from tests.introductions.introductions_helpers import confirmed, make_world

AUDIT_KEY = "test-audit-key-" + "k" * 32


@pytest.fixture
def settings(settings, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    # Processes that build their own settings (workers) read the same key from the environment.
    monkeypatch.setenv("AUDIT_KEY", AUDIT_KEY)
    return replace(settings, audit_key=AUDIT_KEY, audit_checkpoint_dir=str(tmp_path / "anchors"))


@pytest.fixture
def chain(app, client, session):  # type: ignore[no-untyped-def]
    """Five entries from a real journey, and a signed checkpoint of their head."""
    confirmed(client, make_world(session))
    result = app.test_cli_runner().invoke(args=["audit-checkpoint"])
    assert result.exit_code == 0, result.output
    assert "sequence 5" in result.output
    return app.test_cli_runner()


def _verify(runner):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["verify-audit"])


def _entries(session):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalars(select(AuditEntry).order_by(AuditEntry.sequence)).all()


def _rewrite(session, entry, **values):  # type: ignore[no-untyped-def]
    """An UPDATE straight to the table, as someone with database access would send it."""
    table = AuditEntry.__table__
    session.execute(table.update().where(table.c.id == entry.id).values(**values))


def _edit_and_rechain(session, hash_of):  # type: ignore[no-untyped-def]
    """Change entry 3's ``after`` and recompute every later link with ``hash_of``."""
    entries = _entries(session)
    with _triggers_disabled(session):
        prev = entries[1].hash
        for entry in entries[2:]:
            if entry.sequence == 3:
                entry.after = {"status": "withdrawn"}
            entry.prev_hash = prev
            entry.hash = prev = hash_of(entry)
            _rewrite(
                session,
                entry,
                after=entry.after,
                prev_hash=entry.prev_hash,
                hash=entry.hash,
            )
    session.commit()


def test_an_intact_chain_verifies_against_its_checkpoint(chain):
    result = _verify(chain)
    assert result.exit_code == 0, result.output
    assert "5 entries verified" in result.output
    assert "matches the signed checkpoint at sequence 5" in result.output


def test_an_edited_entry_is_caught(chain, session):
    victim = _entries(session)[2]
    with _triggers_disabled(session):
        _rewrite(session, victim, after={"status": "withdrawn"})
    session.commit()
    result = _verify(chain)
    assert result.exit_code == 1
    assert victim.id in result.output and "edited" in result.output


def test_an_edit_rechained_without_the_key_is_caught(chain, session):
    # The insider has the database and the code, not AUDIT_KEY: the plain SHA-256 of old,
    # or the HMAC under the development default, both fail the keyed check.
    _edit_and_rechain(session, legacy_entry_hash)
    result = _verify(chain)
    assert result.exit_code == 1 and "sequence 3" in result.output and "edited" in result.output

    _edit_and_rechain(session, lambda e: entry_hash(e, b"a guessed key"))
    assert _verify(chain).exit_code == 1


def test_an_edit_rechained_with_the_key_itself_is_caught_by_the_checkpoint(chain, session):
    _edit_and_rechain(session, lambda e: entry_hash(e, AUDIT_KEY.encode()))
    # Every link holds now: only the signed checkpoint outside the database tells.
    assert verify_chain(session, key=AUDIT_KEY.encode()).ok
    result = _verify(chain)
    assert result.exit_code == 1
    assert "sequence 5" in result.output and "checkpoint" in result.output


def test_deleting_the_newest_entries_is_caught_by_the_checkpoint(chain, session):
    with _triggers_disabled(session):
        session.execute(text("DELETE FROM audit_entries WHERE sequence >= 4"))
    session.commit()
    # The three entries left link perfectly; without the anchor this passes.
    assert verify_chain(session, key=AUDIT_KEY.encode()).ok
    result = _verify(chain)
    assert result.exit_code == 1
    assert "ends at sequence 3" in result.output and "5 entries" in result.output


def test_deleting_a_middle_entry_is_caught(chain, session):
    with _triggers_disabled(session):
        session.execute(text("DELETE FROM audit_entries WHERE sequence = 2"))
    session.commit()
    result = _verify(chain)
    assert result.exit_code == 1 and "gap" in result.output


def test_a_forged_checkpoint_is_refused(chain, settings, tmp_path):
    [path] = (tmp_path / "anchors").glob("audit-checkpoint-*.json")
    forged = json.loads(path.read_text())
    forged["sequence"] = 3
    path.write_text(json.dumps(forged))
    result = _verify(chain)
    assert result.exit_code == 1 and "signature" in result.output


def test_moving_the_start_of_the_keyed_chain_is_caught(chain, session):
    session.add(AuditChainKeying(id=1, keyed_from_sequence=99))
    session.commit()
    result = _verify(chain)
    assert result.exit_code == 1 and "keyed chain starts at 99" in result.output


def test_a_broken_chain_is_never_signed(chain, session, settings):
    with _triggers_disabled(session):
        session.execute(text("DELETE FROM audit_entries WHERE sequence = 5"))
    session.commit()
    result = chain.invoke(args=["audit-checkpoint"])
    assert result.exit_code == 1 and "not signing a broken chain" in result.output
    latest = latest_checkpoint(settings.audit_checkpoint_dir, AUDIT_KEY.encode())
    assert latest.sequence == 5


def test_entries_from_before_the_key_keep_their_plain_links(client, session):
    # What migration 0011security leaves on a database with history: entries 1-2 linked
    # by plain SHA-256, the keyed chain from 3 on.
    confirmed(client, make_world(session))
    entries = _entries(session)
    with _triggers_disabled(session):
        prev = entries[0].prev_hash
        for entry in entries:
            entry.prev_hash = prev
            keyed = entry.sequence >= 3
            entry.hash = prev = (
                entry_hash(entry, AUDIT_KEY.encode()) if keyed else legacy_entry_hash(entry)
            )
            _rewrite(session, entry, prev_hash=entry.prev_hash, hash=entry.hash)
    session.add(AuditChainKeying(id=1, keyed_from_sequence=3))
    session.commit()
    assert verify_chain(session, key=AUDIT_KEY.encode()).ok
    session.execute(text("UPDATE audit_chain_keying SET keyed_from_sequence = 1"))
    session.commit()
    report = verify_chain(session, key=AUDIT_KEY.encode())
    assert not report.ok and report.first_bad_sequence == 1


def test_the_periodic_job_writes_a_checkpoint_from_the_environment(
    app, client, session, settings, monkeypatch, tmp_path
):
    from agency.audit.checkpoints import checkpoint_job

    confirmed(client, make_world(session))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.delenv("AUDIT_CHECKPOINT_DIR", raising=False)
    assert checkpoint_job()["written"] is False
    monkeypatch.setenv("AUDIT_CHECKPOINT_DIR", str(tmp_path / "cron"))
    assert checkpoint_job() == {
        "written": True,
        "sequence": 5,
        "hash": _entries(session)[-1].hash,
        "verified_from": 1,
        "checked": 5,
    }
    assert latest_checkpoint(tmp_path / "cron", AUDIT_KEY.encode()).count == 5
