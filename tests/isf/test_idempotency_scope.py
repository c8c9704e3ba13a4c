"""Idempotency keys belong to the caller's agency: no cross-agency 409 oracle, no claiming
another agency's keys in advance; a retry inside one agency is still answered once."""

from tests.factories import bearer, make_agency, make_manager
from tests.isf.money_factories import make_isf_account


def _allocate(client, headers, isf_id, amount, key):  # type: ignore[no-untyped-def]
    body = {
        "amount_pence": amount,
        "period_start": "2026-12-01",
        "period_end": "2026-12-28",
        "idempotency_key": key,
    }
    return client.post(f"/isf-accounts/{isf_id}/allocations", json=body, headers=headers)


def test_two_agencies_may_use_the_same_key_without_learning_of_each_other(client, session):
    southmead, wellspring = make_agency(session), make_agency(session)
    first = make_isf_account(session, southmead)
    second = make_isf_account(session, wellspring)
    southmead_manager = bearer(session, make_manager(session, southmead))
    wellspring_manager = bearer(session, make_manager(session, wellspring))

    used = _allocate(client, southmead_manager, first.id, 52_000, "alloc-2026-12")
    assert used.status_code == 201, used.get_json()
    # Wellspring sends the same key for a different movement: a new allocation, not a 409.
    theirs = _allocate(client, wellspring_manager, second.id, 10_000, "alloc-2026-12")
    assert theirs.status_code == 201, theirs.get_json()
    assert theirs.get_json()["id"] != used.get_json()["id"]


def test_within_an_agency_a_retry_is_answered_once_and_a_different_reuse_is_409(client, session):
    agency = make_agency(session)
    isf = make_isf_account(session, agency)
    manager = bearer(session, make_manager(session, agency))
    first = _allocate(client, manager, isf.id, 52_000, "alloc-2026-12")
    retry = _allocate(client, manager, isf.id, 52_000, "alloc-2026-12")
    assert first.status_code == 201 and retry.status_code == 201
    assert retry.get_json()["id"] == first.get_json()["id"]
    other = make_isf_account(session, agency)
    reused = _allocate(client, manager, other.id, 52_000, "alloc-2026-12")
    assert reused.status_code == 409
    assert reused.get_json()["code"] == "idempotency_key_reused"
