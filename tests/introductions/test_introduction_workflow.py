"""A manager approves, the provider answers, the seeker confirms: every move and every refusal."""

import datetime as dt

from sqlalchemy import select, update

from agency.audit.models import AuditEntry
from agency.introductions.models import Introduction, Suggestion, SuggestionStatus
from agency.providers.models import ComplianceItem
from tests.factories import (
    api_key,
    bearer,
    make_auditor,
    make_manager,
    make_partner,
    make_provider,
)
from tests.introductions.introductions_helpers import (
    accepted,
    approve,
    approved,
    make_suggestion,
    make_world,
)


def test_a_manager_approves_a_suggestion_and_the_provider_is_asked(client, session):
    world = make_world(session)
    response = approve(client, world, respond_within_hours=48)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "awaiting_provider"
    assert body["provider_id"] == world.provider.id
    assert body["suggestion_id"] == world.suggestion.id
    respond_by = dt.datetime.fromisoformat(body["respond_by"])
    assert dt.timedelta(hours=47) < respond_by - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=48)
    session.expire_all()
    assert session.get(Suggestion, world.suggestion.id).status is SuggestionStatus.INTRODUCED
    actions = session.scalars(select(AuditEntry.action)).all()
    assert "introduction.approved" in actions


def test_approval_needs_exactly_one_of_suggestion_or_provider(client, session):
    world = make_world(session)
    url = f"/care-requests/{world.care_request.id}/introductions"
    response = client.post(url, json={"note": "x"}, headers=world.manager)
    assert response.status_code == 422
    assert "suggestion_id" in response.get_json()["errors"]
    response = client.post(
        url,
        json={"suggestion_id": world.suggestion.id, "respond_within_hours": 0},
        headers=world.manager,
    )
    assert response.status_code == 422
    assert "respond_within_hours" in response.get_json()["errors"]


def test_a_provider_not_suggested_needs_a_reason(client, session):
    world = make_world(session)
    other = make_provider(session, world.agency)
    url = f"/care-requests/{world.care_request.id}/introductions"
    response = client.post(url, json={"provider_id": other.id}, headers=world.manager)
    assert response.status_code == 422
    assert "off_list_reason" in response.get_json()["errors"]
    response = client.post(
        url,
        json={"provider_id": other.id, "off_list_reason": "Known to the family"},
        headers=world.manager,
    )
    assert response.status_code == 201
    assert response.get_json()["off_list_reason"] == "Known to the family"


def test_only_one_live_introduction_per_request_and_provider_by_id_or_suggestion(client, session):
    world = make_world(session)
    approved(client, world)
    url = f"/care-requests/{world.care_request.id}/introductions"
    again = client.post(
        url,
        json={"provider_id": world.provider.id, "off_list_reason": "again"},
        headers=world.manager,
    )
    assert again.status_code == 409
    assert again.get_json()["code"] == "introduction_exists"
    used = approve(client, world)  # the same suggestion approved twice: the same conflict
    assert used.status_code == 409
    assert used.get_json()["code"] == "introduction_exists"


def test_approval_rechecks_compliance_that_expired_since_matching(client, session):
    world = make_world(session)
    session.execute(
        update(ComplianceItem)
        .where(ComplianceItem.provider_id == world.provider.id)
        .values(expires_on=dt.date(2025, 1, 1))
    )
    session.commit()
    response = approve(client, world)
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "constraint_failed"
    assert body["constraints"] == ["compliance_expired"]
    assert session.scalar(select(Introduction.id)) is None


def test_approval_rechecks_the_rate_cap(client, session):
    world = make_world(session, max_rate_pence=1000)
    response = approve(client, world)
    assert response.status_code == 409
    assert "rate_above_cap" in response.get_json()["constraints"]


def test_nobody_but_the_requests_agency_manager_approves(client, session):
    world = make_world(session)
    url = f"/care-requests/{world.care_request.id}/introductions"
    body = {"suggestion_id": world.suggestion.id}
    other_manager = bearer(session, make_manager(session))
    auditor = bearer(session, make_auditor(session, world.agency.council))
    _, other_secret = make_partner(session)
    assert client.post(url, json=body, headers=other_manager).status_code == 404
    assert client.post(url, json=body, headers=auditor).status_code == 403
    assert client.post(url, json=body, headers=world.partner_auth).status_code == 403
    assert client.post(url, json=body, headers=api_key(other_secret)).status_code == 403
    assert client.post(url, json=body, headers=world.provider_auth).status_code == 403
    assert client.post(url, json=body).status_code == 401


def test_the_provider_accepts_once_and_a_second_accept_is_an_illegal_transition(client, session):
    world = make_world(session)
    introduction_id = accepted(client, world)
    again = client.post(f"/introductions/{introduction_id}/accept", headers=world.provider_auth)
    assert again.status_code == 409
    body = again.get_json()
    assert body["code"] == "illegal_transition"
    assert body["current_status"] == "awaiting_seeker"
    assert "awaiting_seeker" in body["message"]


def test_only_the_introduced_provider_may_answer(client, session):
    world = make_world(session)
    introduction_id = approved(client, world)
    url = f"/introductions/{introduction_id}/accept"
    stranger = make_provider(session, world.agency)
    from tests.introductions.introductions_helpers import provider_headers

    assert client.post(url, headers=provider_headers(session, stranger)).status_code == 404
    assert client.post(url, headers=world.manager).status_code == 403
    assert client.post(url, headers=world.partner_auth).status_code == 403


def test_the_provider_declines_with_a_reason(client, session):
    world = make_world(session)
    introduction_id = approved(client, world)
    url = f"/introductions/{introduction_id}/decline"
    missing = client.post(url, json={}, headers=world.provider_auth)
    assert missing.status_code == 422
    assert "reason" in missing.get_json()["errors"]
    response = client.post(url, json={"reason": "No Tuesdays now"}, headers=world.provider_auth)
    assert response.status_code == 200
    assert response.get_json()["status"] == "provider_declined"
    assert response.get_json()["decline_reason"] == "No Tuesdays now"
    # The manager is free to introduce the same provider again, or someone else.
    retry = client.post(
        f"/care-requests/{world.care_request.id}/introductions",
        json={"provider_id": world.provider.id, "off_list_reason": "asked again"},
        headers=world.manager,
    )
    assert retry.status_code == 201


def test_the_seekers_partner_confirms_only_after_the_provider_accepted(client, session):
    world = make_world(session)
    introduction_id = approved(client, world)
    early = client.post(
        f"/introductions/{introduction_id}/confirm", json={}, headers=world.partner_auth
    )
    assert early.status_code == 409
    assert early.get_json()["current_status"] == "awaiting_provider"


def test_the_seekers_partner_declines_after_meeting(client, session):
    world = make_world(session)
    introduction_id = accepted(client, world)
    _, other_secret = make_partner(session)
    url = f"/introductions/{introduction_id}/decline"
    body = {"reason": "Did not get on"}
    assert client.post(url, json=body, headers=api_key(other_secret)).status_code == 404
    response = client.post(url, json=body, headers=world.partner_auth)
    assert response.status_code == 200
    assert response.get_json()["status"] == "seeker_declined"


def test_a_manager_withdraws_a_pending_introduction(client, session):
    world = make_world(session)
    introduction_id = approved(client, world)
    url = f"/introductions/{introduction_id}/withdraw"
    body = {"reason": "Seeker in hospital"}
    assert (
        client.post(url, json=body, headers=bearer(session, make_manager(session))).status_code
        == 404
    )
    assert client.post(url, json=body, headers=world.provider_auth).status_code == 403
    response = client.post(url, json=body, headers=world.manager)
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"
    again = client.post(url, json=body, headers=world.manager)
    assert again.status_code == 409
    assert again.get_json()["current_status"] == "withdrawn"


def test_a_manager_rejects_a_suggestion_with_a_reason(client, session):
    world = make_world(session)
    url = f"/suggestions/{world.suggestion.id}/reject"
    assert client.post(url, json={}, headers=world.manager).status_code == 422
    assert client.post(url, json={"reason": "x"}, headers=world.partner_auth).status_code == 403
    other = bearer(session, make_manager(session))
    assert client.post(url, json={"reason": "x"}, headers=other).status_code == 404
    response = client.post(url, json={"reason": "Too far in winter"}, headers=world.manager)
    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"
    assert approve(client, world).status_code == 409


def test_an_unanswered_introduction_expires_and_can_no_longer_be_accepted(app, client, session):
    world = make_world(session)
    introduction_id = approved(client, world)
    session.execute(
        update(Introduction)
        .where(Introduction.id == introduction_id)
        .values(respond_by=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    session.commit()
    late = client.post(f"/introductions/{introduction_id}/accept", headers=world.provider_auth)
    assert late.status_code == 409
    assert late.get_json()["code"] == "response_deadline_passed"
    result = app.test_cli_runner().invoke(args=["expire-introductions"])
    assert result.exit_code == 0, result.output
    assert "expired 1" in result.output
    after = client.post(f"/introductions/{introduction_id}/accept", headers=world.provider_auth)
    assert after.status_code == 409
    assert after.get_json()["current_status"] == "expired"
    # The manager is free to introduce someone else.
    other = make_provider(session, world.agency)
    suggestion = make_suggestion(session, world.care_request, other)
    response = approve(client, world, suggestion_id=suggestion.id)
    assert response.status_code == 201


def test_the_expiry_job_is_registered_and_expires_overdue_introductions(app, session):
    world = make_world(session)
    from agency.introductions.expiry import expire_overdue
    from agency.jobs.queue import _registry

    assert "expire_introductions" in _registry
    with app.test_client() as client:
        introduction_id = approved(client, world)
    with app.app_context():
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=73)
        assert expire_overdue(session, later) == 1
    session.expire_all()
    assert session.get(Introduction, introduction_id).status.value == "expired"


def test_introductions_are_listed_within_each_partys_rights(client, session):
    world = make_world(session)
    introduction_id = approved(client, world)
    elsewhere = make_world(session)
    approved(client, elsewhere)

    def ids(headers, **query):
        response = client.get("/introductions", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return [i["id"] for i in response.get_json()]

    assert ids(world.manager) == [introduction_id]
    assert ids(world.provider_auth) == [introduction_id]
    assert ids(world.partner_auth) == [introduction_id]
    assert ids(world.manager, status="awaiting_provider") == [introduction_id]
    assert ids(world.manager, status="confirmed") == []
    assert ids(world.manager, care_request_id=world.care_request.id) == [introduction_id]
    assert ids(world.manager, provider_id=elsewhere.provider.id) == []
    bad = client.get("/introductions", query_string={"status": "nope"}, headers=world.manager)
    assert bad.status_code == 422
    paged = client.get("/introductions", query_string={"page_size": 1}, headers=world.manager)
    assert "X-Pagination" in paged.headers
    one = client.get(f"/introductions/{introduction_id}", headers=elsewhere.manager)
    assert one.status_code == 404


def test_a_lost_race_is_a_version_conflict(session):
    from sqlalchemy.orm import Session

    from agency.errors import Conflict
    from agency.unit_of_work import unit_of_work

    world = make_world(session)
    suggestion_id = world.suggestion.id
    other = Session(bind=session.get_bind())
    mine = session.get(Suggestion, suggestion_id)
    theirs = other.get(Suggestion, suggestion_id)
    # Suggestions carry no version; the introduction's version column is what races on.
    intro = Introduction(
        id="itr_race",
        care_request_id=world.care_request.id,
        provider_id=world.provider.id,
        agency_id=world.agency.id,
        partner_client_id=world.partner.id,
        approved_by="usr_x",
        respond_by=dt.datetime.now(dt.UTC),
    )
    assert mine is not None and theirs is not None
    session.execute(
        Introduction.__table__.insert().values(
            id=intro.id,
            care_request_id=intro.care_request_id,
            provider_id=intro.provider_id,
            agency_id=intro.agency_id,
            partner_client_id=intro.partner_client_id,
            approved_by=make_manager(session, world.agency).id,
            respond_by=intro.respond_by,
            status="awaiting_provider",
            version=1,
            created_at=intro.respond_by,
            updated_at=intro.respond_by,
        )
    )
    session.commit()
    a = session.get(Introduction, "itr_race")
    b = other.get(Introduction, "itr_race")
    a.note = "first"
    session.commit()
    try:
        with unit_of_work(other) as uow:
            b.note = "second"
            uow.commit()
    except Conflict as error:
        assert error.code == "version_conflict"
    else:
        raise AssertionError("a stale write was accepted")
    finally:
        other.close()


def test_a_request_no_agency_covers_cannot_be_introduced(client, session):
    from tests.factories import make_admin, make_care_request, make_seeker

    world = make_world(session)
    unrouted = make_care_request(session, make_seeker(session, world.partner.id), None)
    admin = bearer(session, make_admin(session))
    response = client.post(
        f"/care-requests/{unrouted.id}/introductions",
        json={"provider_id": world.provider.id, "off_list_reason": "x"},
        headers=admin,
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "request_not_routed"
    missing = client.post(
        "/care-requests/req_nope/introductions",
        json={"provider_id": world.provider.id},
        headers=world.manager,
    )
    assert missing.status_code == 404
