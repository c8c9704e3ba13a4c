# ruff: noqa: F811 - pytest fixtures imported from tests.audit.test_tamper_evidence
"""The hourly checkpoint walks only what was added since the latest signed checkpoint (a
city's chain grows by some two million entries a year), without signing over a tampering:
it starts from a checkpoint it can trust, re-checks the entry the checkpoint vouches for,
and refuses a forged checkpoint instead of starting afresh. ``verify-audit`` still walks
the whole chain."""

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from agency.audit import service
from agency.audit.checkpoints import CheckpointError, checkpoint_job, latest_checkpoint
from tests.audit.test_audit_trail import _triggers_disabled
from tests.audit.test_tamper_evidence import (  # noqa: F401
    AUDIT_KEY,
    _edit_and_rechain,
    _entries,
    _rewrite,
    chain,
    settings,
)
from tests.introductions.introductions_helpers import confirmed, make_world

KEY = AUDIT_KEY.encode()


@pytest.fixture
def walked(monkeypatch):  # type: ignore[no-untyped-def]
    """The sequences of the entries the verifier walks (link, hash and checkpoint checks)."""
    sequences: list[int] = []
    link_problem = service._link_problem

    def counting(entry, *args):  # type: ignore[no-untyped-def]
        sequences.append(entry.sequence)
        return link_problem(entry, *args)

    monkeypatch.setattr(service, "_link_problem", counting)
    return sequences


@pytest.fixture
def ten(chain, client, session):  # type: ignore[no-untyped-def]
    """Entries 1-5 under a signed checkpoint at 5, and entries 6-10 written after it."""
    confirmed(client, make_world(session))
    assert [e.sequence for e in _entries(session)] == list(range(1, 11))
    return chain


def _checkpoints(settings) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p.name for p in Path(settings.audit_checkpoint_dir).glob("*.json"))


def _job(settings, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AUDIT_CHECKPOINT_DIR", settings.audit_checkpoint_dir)
    return checkpoint_job()


def test_the_next_checkpoint_walks_only_the_entries_after_the_previous_one(ten, settings, walked):
    result = ten.invoke(args=["audit-checkpoint"])
    assert result.exit_code == 0, result.output
    assert walked == [6, 7, 8, 9, 10]
    assert "5 entries verified from sequence 6" in result.output
    latest = latest_checkpoint(settings.audit_checkpoint_dir, KEY)
    # ``count`` keeps its meaning: the entries verified from entry 1 (the chain has no gaps).
    assert (latest.sequence, latest.count) == (10, 10)

    walked.clear()
    again = ten.invoke(args=["audit-checkpoint"])
    assert again.exit_code == 0 and walked == []
    assert latest_checkpoint(settings.audit_checkpoint_dir, KEY).count == 10


def test_verify_audit_and_a_full_checkpoint_still_walk_the_whole_chain(ten, settings, walked):
    result = ten.invoke(args=["verify-audit"])
    assert result.exit_code == 0 and "10 entries verified" in result.output
    assert walked == list(range(1, 11))

    walked.clear()
    full = ten.invoke(args=["audit-checkpoint", "--full"])
    assert full.exit_code == 0 and walked == list(range(1, 11))
    assert latest_checkpoint(settings.audit_checkpoint_dir, KEY).count == 10

    walked.clear()
    since = ten.invoke(args=["verify-audit", "--since-checkpoint"])
    assert since.exit_code == 0 and walked == []
    assert "since the signed checkpoint at sequence 10" in since.output


def test_a_tamper_after_the_checkpoint_is_caught_by_the_next_checkpoint_job(
    ten, session, settings, monkeypatch
):
    before = _checkpoints(settings)
    victim = _entries(session)[7]
    with _triggers_disabled(session):
        _rewrite(session, victim, after={"status": "withdrawn"})
    session.commit()
    with pytest.raises(
        CheckpointError, match=r"sequence 8: hash does not match the entry's contents \(edited\)"
    ):
        _job(settings, monkeypatch)
    assert _checkpoints(settings) == before

    with _triggers_disabled(session):
        session.execute(text("DELETE FROM audit_entries WHERE sequence = 8"))
    session.commit()
    with pytest.raises(
        CheckpointError, match=r"sequence 9: sequence 9 where 8 was expected \(gap\)"
    ):
        _job(settings, monkeypatch)
    assert _checkpoints(settings) == before


def test_the_first_entry_after_the_checkpoint_must_link_to_its_hash(ten, session, settings):
    victim = _entries(session)[5]
    with _triggers_disabled(session):
        _rewrite(session, victim, prev_hash="f" * 64)
    session.commit()
    result = ten.invoke(args=["audit-checkpoint"])
    assert result.exit_code == 1 and "sequence 6: prev_hash" in result.output


def test_a_rechained_history_below_the_checkpoint_is_caught_at_its_sequence(
    chain, session, settings, walked
):
    # Entries 3-5 edited and re-linked with the key itself: every link holds, but entry 5
    # no longer carries the hash the checkpoint signed. None of 1-4 is walked to find it.
    _edit_and_rechain(session, lambda e: service.entry_hash(e, KEY))
    before = _checkpoints(settings)
    result = chain.invoke(args=["audit-checkpoint"])
    assert result.exit_code == 1
    assert "sequence 5: hash differs from the signed checkpoint's" in result.output
    assert walked == [] and _checkpoints(settings) == before


def test_an_edit_of_the_checkpointed_entry_itself_is_caught(chain, session, settings, walked):
    victim = _entries(session)[4]
    with _triggers_disabled(session):
        _rewrite(session, victim, after={"status": "ended"})
    session.commit()
    result = chain.invoke(args=["audit-checkpoint"])
    assert result.exit_code == 1 and "sequence 5: hash does not match" in result.output
    assert walked == []


def test_an_edit_below_the_checkpoint_that_leaves_its_entry_alone_is_left_to_the_full_walk(
    ten, session, walked
):
    # What an incremental run does not re-check (docs/introductions.md says so): entry 3
    # edited in place; entries 4 and 5 still link to its stored hash.
    victim = _entries(session)[2]
    with _triggers_disabled(session):
        _rewrite(session, victim, after={"status": "withdrawn"})
    session.commit()
    assert ten.invoke(args=["audit-checkpoint"]).exit_code == 0
    assert 3 not in walked
    full = ten.invoke(args=["verify-audit"])
    assert full.exit_code == 1 and "sequence 3" in full.output and "edited" in full.output


def test_a_forged_latest_checkpoint_stops_the_job_instead_of_starting_afresh(
    ten, settings, monkeypatch, walked
):
    [path] = Path(settings.audit_checkpoint_dir).glob("audit-checkpoint-*.json")
    forged = json.loads(path.read_text())
    forged["hash"] = "0" * 64
    path.write_text(json.dumps(forged))
    with pytest.raises(CheckpointError, match="signature"):
        _job(settings, monkeypatch)
    assert walked == [] and _checkpoints(settings) == [path.name]


def test_deleting_entries_down_to_below_the_checkpoint_is_caught(chain, session, walked):
    with _triggers_disabled(session):
        session.execute(text("DELETE FROM audit_entries WHERE sequence >= 4"))
    session.commit()
    result = chain.invoke(args=["audit-checkpoint"])
    assert result.exit_code == 1
    assert "ends at sequence 3" in result.output and "5 entries" in result.output
    assert walked == []
