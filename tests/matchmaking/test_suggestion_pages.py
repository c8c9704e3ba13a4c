"""A kept suggestions body is never served once its rows change, nor to a reader not allowed."""

import datetime as dt

import pytest
from sqlalchemy import update

from agency.ids import new_id
from agency.introductions.models import Suggestion, SuggestionStatus
from agency.seekers.models import CareRequest
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_auditor,
    make_care_request,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)


@pytest.fixture
def world(session):
    return suggestions_world(session)


def suggestions_world(session):
    """A request with three active suggestions, its agency's manager and its partner."""
    agency = make_agency(session)
    partner, secret = make_partner(session)
    care_request = make_care_request(session, make_seeker(session, partner.id), agency)
    providers = [make_provider(session, agency) for _ in range(3)]
    ids = _run(session, care_request, providers)
    return {
        "agency": agency,
        "request": care_request,
        "providers": providers,
        "ids": ids,
        "url": f"/care-requests/{care_request.id}/suggestions",
        "manager": bearer(session, make_manager(session, agency)),
        "partner": api_key(secret),
    }


def _run(session, care_request, providers, **changes):
    """What a match run writes: the old ranking superseded, a new one active."""
    session.execute(
        update(Suggestion)
        .where(
            Suggestion.care_request_id == care_request.id,
            Suggestion.status == SuggestionStatus.ACTIVE,
        )
        .values(status=SuggestionStatus.SUPERSEDED)
    )
    ids = []
    for rank, provider in enumerate(providers, start=1):
        ids.append(new_id("sug"))
        session.add(
            Suggestion(
                id=ids[-1],
                care_request_id=care_request.id,
                provider_id=provider.id,
                agency_id=care_request.agency_id,
                council_id=care_request.council_id,
                partner_client_id=care_request.partner_client_id,
                rank=rank,
                score=1.0 - rank / 10,
                explanation={
                    "distance": {"raw": 1.0, "normalised": 0.9, "weight": 0.2, "contribution": 0.18}
                },  # fmt: skip
                created_at=dt.datetime.now(dt.UTC),
                **changes,
            )
        )
    session.commit()
    return ids


def _ids(response):
    assert response.status_code == 200, response.get_json()
    return [s["id"] for s in response.get_json()]


def test_a_new_match_run_is_served_at_once(client, session, world):
    assert _ids(client.get(world["url"], headers=world["manager"])) == world["ids"]
    again = _run(session, world["request"], world["providers"][::-1])
    assert _ids(client.get(world["url"], headers=world["manager"])) == again
    superseded = client.get(world["url"] + "?status=superseded", headers=world["manager"])
    assert sorted(_ids(superseded)) == sorted(world["ids"])


def test_a_rejected_suggestion_leaves_the_list_at_once(client, world):
    first = world["ids"][0]
    assert _ids(client.get(world["url"], headers=world["manager"]))[0] == first
    assert _ids(client.get(world["url"] + "?status=rejected", headers=world["manager"])) == []
    rejected = client.post(
        f"/suggestions/{first}/reject", json={"reason": "Too far"}, headers=world["manager"]
    )
    assert rejected.status_code == 200, rejected.get_json()
    assert _ids(client.get(world["url"], headers=world["manager"])) == world["ids"][1:]
    [kept] = client.get(world["url"] + "?status=rejected", headers=world["manager"]).get_json()
    assert (kept["id"], kept["status_reason"]) == (first, "Too far")


def test_an_approved_introduction_shows_at_once(client, world):
    chosen = world["ids"][1]
    assert _ids(client.get(world["url"], headers=world["manager"])) == world["ids"]
    approved = client.post(
        f"/care-requests/{world['request'].id}/introductions",
        json={"suggestion_id": chosen},
        headers=world["manager"],
    )
    assert approved.status_code == 201, approved.get_json()
    listed = client.get(world["url"] + "?status=all", headers=world["manager"]).get_json()
    assert {s["id"]: s["status"] for s in listed}[chosen] == "introduced"
    assert chosen not in _ids(client.get(world["url"], headers=world["manager"]))


def test_a_change_by_any_writer_is_served_at_once(client, session, world):
    # Not through the app (a console fix, another process): the rows' versions still tell.
    assert len(_ids(client.get(world["url"], headers=world["manager"]))) == 3
    session.execute(update(Suggestion).where(Suggestion.id == world["ids"][2]).values(score=0.01))
    session.commit()
    scores = [s["score"] for s in client.get(world["url"], headers=world["manager"]).get_json()]
    assert scores[2] == 0.01


def test_a_kept_body_is_refused_to_whoever_may_not_read_it(client, session, world):
    assert client.get(world["url"], headers=world["manager"]).status_code == 200
    other_manager = bearer(session, make_manager(session))
    missing = client.get("/care-requests/req_nothing/suggestions", headers=world["manager"])
    hidden = client.get(world["url"], headers=other_manager)
    assert hidden.status_code == 404
    assert hidden.get_json()["message"] == missing.get_json()["message"].replace(
        "req_nothing", world["request"].id
    )
    assert client.get(world["url"], headers=world["partner"]).status_code == 403
    other_auditor = bearer(session, make_auditor(session))
    assert client.get(world["url"], headers=other_auditor).status_code == 404
    auditor = bearer(session, make_auditor(session, world["agency"].council))
    assert _ids(client.get(world["url"], headers=auditor)) == world["ids"]


def test_a_request_moved_to_another_agency_is_hidden_from_the_first_at_once(client, session, world):
    assert client.get(world["url"], headers=world["manager"]).status_code == 200
    moved_to = make_agency(session)
    session.execute(
        update(CareRequest)
        .where(CareRequest.id == world["request"].id)
        .values(agency_id=moved_to.id, council_id=moved_to.council_id)
    )
    session.commit()
    assert client.get(world["url"], headers=world["manager"]).status_code == 404
    new_manager = bearer(session, make_manager(session, moved_to))
    assert _ids(client.get(world["url"], headers=new_manager)) == world["ids"]


def test_a_revoked_token_is_refused_though_the_body_is_kept(client, world):
    assert client.get(world["url"], headers=world["manager"]).status_code == 200
    assert client.post("/auth/logout", headers=world["manager"]).status_code in (200, 204)
    assert client.get(world["url"], headers=world["manager"]).status_code == 401


@pytest.mark.postgres  # the body is kept by its rows' xmin; SQLite reads and serialises each time
@pytest.mark.parametrize("token_kept", [False, True])
def test_a_kept_body_costs_one_statement(app, client, world, token_kept):
    """The request's owners and state are read in the token's statement, or alone when
    this process resolved the token in the last second (agency.accounts.credential_cache)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from agency.accounts.credential_cache import CredentialCache

    assert client.get(world["url"], headers=world["manager"]).status_code == 200
    if not token_kept:
        app.extensions["agency.credentials"] = CredentialCache()
    statements = []

    def seen(_connection, _cursor, statement, *_):
        if "SAVEPOINT" not in statement.upper():
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        assert _ids(client.get(world["url"], headers=world["manager"])) == world["ids"]
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    [statement] = statements
    assert "suggestions" in statement
    assert ("auth_tokens" in statement) is not token_kept


def test_queries_the_early_answer_leaves_to_the_view_are_answered_as_before(client, world):
    url, manager = world["url"], world["manager"]
    assert client.get(url + "?status=bogus", headers=manager).status_code == 422
    twice = client.get(url + "?status=active&status=active", headers=manager)
    assert _ids(twice) == world["ids"]
    first = world["ids"][0]
    client.post(f"/suggestions/{first}/reject", json={"reason": "Too far"}, headers=manager)
    assert (
        _ids(client.get(url + "?status=active&status=active", headers=manager)) == world["ids"][1:]
    )


def test_another_view_of_the_same_name_reads_nothing_with_the_token(client, world):
    # activities.Suggestions is for partners: a manager's token gets 403, as before.
    seeker_id = world["request"].seeker_id
    response = client.get(
        f"/care-seekers/{seeker_id}/activity-suggestions", headers=world["manager"]
    )
    assert response.status_code == 403, response.get_json()


def test_the_body_is_byte_for_byte_what_jsonify_sends(app, client, world):
    import json

    kept = client.get(world["url"], headers=world["manager"])  # answered before the view
    assert kept.status_code == 200 and kept.mimetype == "application/json"
    with app.app_context():
        sent = app.json.response(kept.get_json()).get_data()  # what @blp.response returns
    assert kept.get_data() == sent
    assert (
        kept.get_data()
        == (json.dumps(kept.get_json(), separators=(",", ":"), sort_keys=True) + "\n").encode()
    )
