# ruff: noqa: F811 - the walked fixture is imported from tests.audit.test_incremental_checkpoints
"""The audit log page shows the chain's status without walking the whole chain per view:
the latest signed checkpoint, then at most ``AUDIT_VERIFY_PER_VIEW`` entries after it, and
it never calls verified what it has not verified."""

from dataclasses import replace

import pytest

from agency.console import auditor_views
from tests.audit.test_audit_trail import _triggers_disabled
from tests.audit.test_incremental_checkpoints import walked  # noqa: F401 - a fixture
from tests.console.test_console_access import sign_in
from tests.factories import make_manager
from tests.introductions.introductions_helpers import confirmed, make_world

AUDIT_KEY = "test-audit-key-" + "p" * 32


@pytest.fixture
def settings(settings, tmp_path):  # type: ignore[no-untyped-def]
    return replace(settings, audit_key=AUDIT_KEY, audit_checkpoint_dir=str(tmp_path / "anchors"))


@pytest.fixture
def signed_in(app, client, session):  # type: ignore[no-untyped-def]
    """Entries 1-5, a signed checkpoint at 5, entries 6-10 after it; a manager signed in."""
    world = make_world(session)
    confirmed(client, world)
    checkpoint = app.test_cli_runner().invoke(args=["audit-checkpoint"])
    assert checkpoint.exit_code == 0, checkpoint.output
    confirmed(client, make_world(session))
    assert sign_in(client, make_manager(session, world.agency).email).status_code == 302
    return client


def _page(client) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/console/audit-log")
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def test_the_page_starts_from_the_latest_checkpoint_not_from_entry_one(signed_in, walked):
    page = _page(signed_in)
    assert walked == [6, 7, 8, 9, 10]
    assert "Verified up to the signed checkpoint:</strong> entries 1 to 5" in page
    assert "Chain verified since the checkpoint:</strong> the 5 entries after it (6 to 10)" in page
    assert "flask verify-audit</code> walks the whole chain" in page


def test_the_page_verifies_a_bounded_number_and_says_how_many_it_left(
    signed_in, walked, monkeypatch
):
    monkeypatch.setattr(auditor_views, "AUDIT_VERIFY_PER_VIEW", 2)
    page = _page(signed_in)
    assert walked == [6, 7]
    assert "The first 2 entries after it (6 to 7) link and hash correctly" in page
    assert "3 entries since the last checkpoint not yet verified" in page
    assert "Chain verified" not in page


def test_without_a_checkpoint_a_capped_page_does_not_call_the_chain_verified(
    app, client, session, settings, walked, monkeypatch
):
    world = make_world(session)
    confirmed(client, world)
    assert sign_in(client, make_manager(session, world.agency).email).status_code == 302
    monkeypatch.setattr(auditor_views, "AUDIT_VERIFY_PER_VIEW", 3)
    page = _page(client)
    assert walked == [1, 2, 3]
    assert "Partly verified:</strong> the first 3 entries (1 to 3)" in page
    assert "2 later entries not yet verified" in page and "Chain verified" not in page


def test_the_page_shows_a_tamper_after_the_checkpoint_and_a_rechain_below_it(
    signed_in, session, walked
):
    from agency.audit.models import AuditEntry

    table = AuditEntry.__table__
    with _triggers_disabled(session):
        session.execute(
            table.update().where(table.c.sequence == 8).values(after={"status": "withdrawn"})
        )
    session.commit()
    page = _page(signed_in)
    assert "Chain broken</strong> at entry 8" in page and "edited" in page

    with _triggers_disabled(session):
        session.execute(table.update().where(table.c.sequence == 5).values(hash="e" * 64))
    session.commit()
    walked.clear()
    page = _page(signed_in)
    assert "Chain broken</strong> at entry 5" in page and walked == []
