"""Vetting: providers apply to agencies; managers decide through one state machine;
councils' auditors record ISF approved provider status."""

import pytest
from sqlalchemy import select

from agency.access import Kind, Principal
from agency.directory.models import Locality
from agency.providers import vetting
from agency.providers.models import ListingStatus, ProviderListing, VettingDecision
from agency.state_machine import IllegalTransition
from tests.factories import bearer, make_admin, make_agency, make_council, make_manager
from tests.providers.providers_helpers import make_world


def apply(client, w, agency_id=None):
    return client.post(
        f"/providers/{w.provider.id}/listings",
        json={"agency_id": agency_id or w.second.id},
        headers=w.me,
    )


@pytest.fixture
def w(session):
    world = make_world(session)
    world.second = make_agency(session, world.council)
    world.second_manager = bearer(session, make_manager(session, world.second))
    return world


def test_a_provider_applies_to_a_second_agency(client, session, w):
    response = apply(client, w)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "applied"
    assert body["council_id"] == w.council.id
    assert [d["to_status"] for d in body["decisions"]] == ["applied"]
    mine = client.get("/providers/listings", headers=w.me).get_json()
    assert {lst["agency_id"] for lst in mine} == {w.agency.id, w.second.id}


def test_applying_twice_or_to_no_agency_is_refused(client, session, w):
    apply(client, w)
    again = apply(client, w)
    assert again.status_code == 409
    assert again.get_json()["code"] == "already_applied"
    unknown = apply(client, w, agency_id="agy_nope")
    assert unknown.status_code == 422
    assert "agency_id" in unknown.get_json()["errors"]
    assert (
        client.post(f"/providers/{w.provider.id}/listings", json={}, headers=w.me).status_code
        == 422
    )


def test_others_cannot_apply_for_a_provider(client, session, w):
    url = f"/providers/{w.provider.id}/listings"
    body = {"agency_id": w.second.id}
    assert client.post(url, json=body, headers=w.other_provider).status_code == 404
    for headers in (w.manager, w.second_manager, w.auditor, w.partner):
        assert client.post(url, json=body, headers=headers).status_code == 403


def test_the_first_agencys_council_area_places_the_provider(client, session):
    council = make_council(session, area_key="south_gloucestershire")
    w = make_world(session)
    session.delete(session.scalars(select(ProviderListing)).first())  # no agency yet
    session.commit()
    response = apply(client, w, agency_id=make_agency(session, council).id)
    assert response.status_code == 201
    session.refresh(w.provider)
    assert w.provider.locality is Locality.COMBINED_AUTHORITY  # BS3 is Bristol, next door


def test_a_manager_lists_only_its_agencys_applications(client, session, w):
    apply(client, w)
    listed = client.get("/providers/listings?status=applied", headers=w.second_manager)
    assert listed.status_code == 200
    assert [lst["agency_id"] for lst in listed.get_json()] == [w.second.id]
    assert listed.get_json()[0]["trading_name"] == w.provider.trading_name
    assert "X-Pagination" in listed.headers
    seen = client.get("/providers/listings", headers=w.other_manager).get_json()
    assert {lst["agency_id"] for lst in seen} == {w.other_agency.id}
    theirs = client.get(
        f"/providers/listings?agency_id={w.second.id}", headers=w.other_manager
    ).get_json()
    assert theirs == []
    assert client.get("/providers/listings", headers=w.partner).status_code == 403
    assert client.get("/providers/listings?status=lost", headers=w.manager).status_code == 422


def test_the_whole_vetting_path_records_every_decision(client, session, w):
    listing = apply(client, w).get_json()
    url = f"/providers/listings/{listing['id']}"

    def decide(decision, reason=None, headers=None):
        body = {"decision": decision} | ({"reason": reason} if reason else {})
        return client.post(f"{url}/decisions", json=body, headers=headers or w.second_manager)

    asked = decide("request_info", "Please add insurance.")
    assert asked.status_code == 201 and asked.get_json()["status"] == "more_info_requested"
    mine = client.get("/providers/listings", headers=w.me).get_json()
    assert {(lst["status"], lst["reason"]) for lst in mine if lst["id"] == listing["id"]} == {
        ("more_info_requested", "Please add insurance.")
    }
    resubmitted = client.post(f"{url}/resubmit", json={"note": "Added."}, headers=w.me)
    assert resubmitted.status_code == 201 and resubmitted.get_json()["status"] == "applied"
    assert decide("approve").get_json()["status"] == "approved"
    assert decide("suspend", "Complaint under review.").get_json()["status"] == "suspended"
    assert decide("reinstate", "Complaint resolved.").get_json()["status"] == "approved"
    history = client.get(url, headers=w.me).get_json()["decisions"]
    assert [d["to_status"] for d in history] == [
        "applied",
        "more_info_requested",
        "applied",
        "approved",
        "suspended",
        "approved",
    ]
    assert history[-1]["reason"] == "Complaint resolved."


def test_an_illegal_move_is_409_naming_the_current_state(client, session, w):
    listing = apply(client, w).get_json()
    url = f"/providers/listings/{listing['id']}"
    response = client.post(
        f"{url}/decisions", json={"decision": "suspend", "reason": "x"}, headers=w.second_manager
    )
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "illegal_transition"
    assert body["current_status"] == "applied"
    assert "applied" in body["message"]
    assert client.post(f"{url}/resubmit", json={}, headers=w.me).status_code == 409
    client.post(
        f"{url}/decisions", json={"decision": "reject", "reason": "No."}, headers=w.second_manager
    )
    final = client.post(f"{url}/decisions", json={"decision": "approve"}, headers=w.second_manager)
    assert final.status_code == 409 and final.get_json()["current_status"] == "rejected"
    history = client.get(url, headers=w.me).get_json()["decisions"]
    assert [d["to_status"] for d in history] == ["applied", "rejected"]


def test_a_decision_needs_a_reason_except_approve(client, session, w):
    listing = apply(client, w).get_json()
    url = f"/providers/listings/{listing['id']}/decisions"
    for decision in ("reject", "request_info"):
        response = client.post(url, json={"decision": decision}, headers=w.second_manager)
        assert response.status_code == 422
        assert "reason" in response.get_json()["errors"]
    bad = client.post(url, json={"decision": "promote"}, headers=w.second_manager)
    assert "decision" in bad.get_json()["errors"]


def test_only_the_agencys_manager_decides(client, session, w):
    listing = apply(client, w).get_json()
    url = f"/providers/listings/{listing['id']}/decisions"
    body = {"decision": "approve"}
    for headers in (w.manager, w.other_manager):  # another agency's managers
        assert client.post(url, json=body, headers=headers).status_code == 404
    for headers in (w.me, w.other_provider, w.auditor, w.partner):
        assert client.post(url, json=body, headers=headers).status_code == 403
    assert client.get(f"/providers/listings/{listing['id']}", headers=w.manager).status_code == 404
    resubmit = f"/providers/listings/{listing['id']}/resubmit"
    assert client.post(resubmit, json={}, headers=w.other_provider).status_code == 404
    assert client.post(resubmit, json={}, headers=w.second_manager).status_code == 403
    assert session.get(ProviderListing, listing["id"]).status is ListingStatus.APPLIED


def test_a_stale_second_decision_loses(client, session, w):
    """Two managers decide at once: the compare-and-set lets only the first through."""
    listing_id = apply(client, w).get_json()["id"]
    stale = session.get(ProviderListing, listing_id)  # read while still "applied"
    assert (
        client.post(
            f"/providers/listings/{listing_id}/decisions",
            json={"decision": "reject", "reason": "No."},
            headers=w.second_manager,
        ).status_code
        == 201
    )
    user = make_manager(session, w.second)
    manager = Principal(kind=Kind.MANAGER, id=user.id, agency_id=w.second.id)
    with pytest.raises(IllegalTransition) as error:
        vetting._move(session, manager, stale, "approve", None)
    assert error.value.extra["current_status"] == "rejected"
    decisions = session.scalars(
        select(VettingDecision.to_status).where(VettingDecision.listing_id == listing_id)
    ).all()
    assert decisions == ["applied", "rejected"]


def test_an_auditor_records_isf_approval_for_its_own_council(client, session, w):
    url = f"/providers/{w.provider.id}/isf-approval"
    body = {"council_id": w.council.id, "approved": True, "reason": "Panel 3 December"}
    response = client.post(url, json=body, headers=w.auditor)
    assert response.status_code == 200
    assert response.get_json()["approved"] is True
    refused = client.post(url, json={**body, "approved": False}, headers=w.auditor)
    assert refused.get_json()["approved"] is False
    for headers in (w.me, w.manager, w.auditor):
        listed = client.get(url, headers=headers).get_json()
        assert [(a["council_id"], a["approved"]) for a in listed] == [(w.council.id, False)]
    admin = bearer(session, make_admin(session))
    other = make_council(session)
    assert client.post(url, json={**body, "council_id": other.id}, headers=admin).status_code == 200
    assert len(client.get(url, headers=w.me).get_json()) == 2
    assert len(client.get(url, headers=w.auditor).get_json()) == 1


def test_isf_approval_is_validated_and_refused_to_everyone_else(client, session, w):
    url = f"/providers/{w.provider.id}/isf-approval"
    no_reason = client.post(
        url, json={"council_id": w.council.id, "approved": False}, headers=w.auditor
    )
    assert no_reason.status_code == 422
    assert "reason" in no_reason.get_json()["errors"]
    missing = client.post(url, json={"approved": True}, headers=w.auditor)
    assert "council_id" in missing.get_json()["errors"]
    body = {"council_id": w.council.id, "approved": True}
    assert client.post(url, json=body, headers=w.other_auditor).status_code == 403
    other_own = {"council_id": w.other_agency.council_id, "approved": True}
    assert client.post(url, json=other_own, headers=w.other_auditor).status_code == 404
    for headers in (w.me, w.other_provider, w.manager, w.other_manager, w.partner):
        assert client.post(url, json=body, headers=headers).status_code == 403
    assert client.get(url, headers=w.other_auditor).status_code == 404


@pytest.mark.postgres
@pytest.mark.committed  # threads write and read at once: real transactions
def test_two_managers_deciding_at_once_on_postgresql_only_one_wins(app, client, session, w):
    """Real concurrency: both read "applied"; the row lock + status check lets one through."""
    import threading

    listing_id = apply(client, w).get_json()["id"]
    users = [make_manager(session, w.second) for _ in range(2)]
    factory = app.extensions["agency"].sessionmaker
    sessions = [factory() for _ in users]
    listings = [s.get(ProviderListing, listing_id) for s in sessions]  # both see "applied"
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(db, listing, user, move):
        principal = Principal(kind=Kind.MANAGER, id=user.id, agency_id=w.second.id)
        barrier.wait()
        try:
            vetting._move(db, principal, listing, move, "at once")
            outcomes.append("won")
        except IllegalTransition:
            outcomes.append("lost")
        finally:
            db.close()

    threads = [
        threading.Thread(target=decide, args=(sessions[0], listings[0], users[0], "approve")),
        threading.Thread(target=decide, args=(sessions[1], listings[1], users[1], "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["lost", "won"]
    moves = session.scalars(
        select(VettingDecision.to_status).where(VettingDecision.listing_id == listing_id)
    ).all()
    assert len(moves) == 2  # "applied" and the one winning decision


def test_a_listing_is_read_only_by_its_provider_agency_and_council(client, session, w):
    listing_id = apply(client, w).get_json()["id"]
    url = f"/providers/listings/{listing_id}"
    for headers in (w.me, w.second_manager, w.auditor):
        assert client.get(url, headers=headers).status_code == 200
    for headers in (w.other_provider, w.manager, w.other_manager, w.other_auditor):
        assert client.get(url, headers=headers).status_code == 404
    assert client.get(url, headers=w.partner).status_code == 403
    auditor_list = client.get("/providers/listings", headers=w.other_auditor).get_json()
    assert listing_id not in [lst["id"] for lst in auditor_list]
