"""Feedback after a confirmed visit: private ratings, safeguarding concerns to the
manager and the audit log, a provider's aggregate only from five ratings."""

import pytest
from sqlalchemy import select

from agency.audit.models import AuditEntry
from agency.erasure import erase
from agency.seekers.models import CareSeeker
from agency.visits.feedback_models import VisitFeedback
from tests.continuity.continuity_helpers import others, planned
from tests.factories import make_admin, principal_of
from tests.visits.visit_helpers import log, make_world


def _confirmed_visit(client, world, day=3, start="10:00"):  # type: ignore[no-untyped-def]
    visit = log(client, world, day=day, start=start, end=f"{int(start[:2]) + 1:02d}:00").json
    confirmed = client.post(f"/visits/{visit['id']}/confirm", headers=world.partner_headers)
    assert confirmed.status_code == 200, confirmed.json
    return visit["id"]


def test_the_partner_rates_a_confirmed_visit_and_the_manager_reads_it(client, session):
    world = make_world(session)
    visit_id = _confirmed_visit(client, world)
    given = client.post(
        f"/visits/{visit_id}/feedback",
        json={"rating": 4, "comment": "Kind, a little late"},
        headers=world.partner_headers,
    )
    assert given.status_code == 201, given.json
    assert given.json["side"] == "seeker" and given.json["rating"] == 4
    again = client.post(
        f"/visits/{visit_id}/feedback", json={"rating": 5}, headers=world.partner_headers
    )
    assert again.status_code == 409 and again.json["code"] == "feedback_given"
    listed = client.get("/feedback", headers=world.manager_headers).json
    assert [(f["rating"], f["comment"]) for f in listed] == [(4, "Kind, a little late")]


def test_feedback_is_validated_and_follows_a_confirmed_visit_only(client, session):
    world = make_world(session)
    unconfirmed = log(client, world, day=2).json["id"]
    response = client.post(
        f"/visits/{unconfirmed}/feedback", json={"rating": 5}, headers=world.partner_headers
    )
    assert response.status_code == 409 and response.json["code"] == "visit_not_confirmed"
    visit_id = _confirmed_visit(client, world)
    for body, field in (
        ({"rating": 6}, "rating"),
        ({}, "rating"),
        ({"rating": 3, "concern": "x"}, "concern"),
        ({"rating": 3, "comment": "x" * 2001}, "comment"),
    ):
        bad = client.post(f"/visits/{visit_id}/feedback", json=body, headers=world.partner_headers)
        assert bad.status_code == 422 and field in bad.json["errors"], (body, bad.json)


def test_a_safeguarding_concern_goes_to_the_manager_and_the_audit_log_not_the_other_party(
    client, session
):
    world = make_world(session)
    visit_id = _confirmed_visit(client, world)
    raised = client.post(
        f"/visits/{visit_id}/feedback",
        json={"concern": "safeguarding", "comment": "Bruises on the arm, says they fell"},
        headers=world.provider_headers,
    )
    assert raised.status_code == 201, raised.json
    concerns = client.get("/feedback?concern=safeguarding", headers=world.manager_headers).json
    assert [c["id"] for c in concerns] == [raised.json["id"]]
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "visit_feedback.safeguarding_concern")
    )
    assert entry is not None and "Bruises" not in str(entry.after)
    assert client.get("/feedback", headers=world.partner_headers).status_code == 403
    assert client.get("/feedback", headers=world.provider_headers).status_code == 403


def test_a_provider_sees_their_average_only_from_five_ratings(client, session):
    world = make_world(session)
    for n, rating in enumerate([5, 1, 4, 5]):
        visit_id = _confirmed_visit(client, world, day=3 + n)
        client.post(
            f"/visits/{visit_id}/feedback", json={"rating": rating}, headers=world.partner_headers
        )
    summary = client.get("/rating", headers=world.provider_headers).json
    assert summary == {"count": 4, "average": None, "shown_from": 5}
    visit_id = _confirmed_visit(client, world, day=8)
    client.post(f"/visits/{visit_id}/feedback", json={"rating": 5}, headers=world.partner_headers)
    assert client.get("/rating", headers=world.provider_headers).json["average"] == 4.0
    assert client.get("/rating", headers=world.partner_headers).status_code == 403
    assert client.get("/rating", headers=world.manager_headers).status_code == 403


def test_feedback_is_refused_to_every_other_principal(client, session):
    world = make_world(session)
    visit_id = _confirmed_visit(client, world)
    client.post(f"/visits/{visit_id}/feedback", json={"rating": 2}, headers=world.partner_headers)
    refused = others(session, world)
    url = f"/visits/{visit_id}/feedback"
    for who in ("another partner", "another provider"):
        response = client.post(url, json={"rating": 1}, headers=refused[who])
        assert response.status_code == 404, who
    for who in ("another agency's manager", "the council's auditor"):
        assert client.post(url, json={"rating": 1}, headers=refused[who]).status_code == 403, who
    assert client.post(url, json={"rating": 1}, headers=world.manager_headers).status_code == 403
    assert client.post(url, json={"rating": 1}).status_code == 401
    assert client.get("/feedback", headers=refused["another agency's manager"]).json == []
    assert client.get("/feedback", headers=refused["the council's auditor"]).status_code == 403


def test_erasure_scrubs_feedback_text(client, session):
    world = make_world(session)
    visit_id = _confirmed_visit(client, world)
    client.post(
        f"/visits/{visit_id}/feedback",
        json={"rating": 3, "comment": "Lives at 12 Acacia Road"},
        headers=world.partner_headers,
    )
    erase(
        session,
        principal_of(session, make_admin(session)),
        session.get(CareSeeker, world.seeker.id),
    )
    session.commit()
    session.expire_all()
    [row] = session.scalars(select(VisitFeedback)).all()
    assert "Acacia" not in (row.comment or "") and row.rating == 3


def test_ratings_score_providers_shrunk_toward_the_agency_mean_in_the_explanation(client, session):
    """One bad review of a newcomer does not sink them: the matcher's rating feature is
    the Bayesian average (C*m + sum)/(C + n), and the explanation shows only that."""
    from matching.features import RATING_PRIOR_WEIGHT
    from tests.continuity.test_cover import _setup
    from tests.factories import make_provider
    from tests.visits.visit_helpers import days_ago, make_arrangement, provider_headers

    world, cover, days = _setup(session)
    newcomer = make_provider(session, world.agency)
    theirs = make_arrangement(session, world.agency, newcomer, world.seeker)
    session.commit()

    def rated(arrangement_id, headers, day, stars):  # type: ignore[no-untyped-def]
        body = {
            "date": days_ago(day).isoformat(),
            "start": "12:00",
            "end": "13:00",
            "services": ["companionship"],
        }
        visit = client.post(f"/arrangements/{arrangement_id}/visits", json=body, headers=headers)
        assert visit.status_code == 201, visit.json
        visit_id = visit.json["id"]
        assert (
            client.post(f"/visits/{visit_id}/confirm", headers=world.partner_headers).status_code
            == 200
        )
        given = client.post(
            f"/visits/{visit_id}/feedback", json={"rating": stars}, headers=world.partner_headers
        )
        assert given.status_code == 201, given.json

    for day in range(1, 5):
        rated(world.arrangement.id, world.provider_headers, day, 5)
    rated(theirs.id, provider_headers(session, newcomer), 1, 1)

    mean = (4 * 5 + 1) / 5  # the agency's mean rating
    c = RATING_PRIOR_WEIGHT
    expected = {
        newcomer.id: (c * mean + 1) / (c + 1),  # one 1-star review: pulled up toward 4.2
        cover.id: mean,  # no ratings: the agency's mean
    }
    target = next(p for p in planned(session, world) if p.date == days[0])
    suggestions = client.get(
        f"/planned-visits/{target.id}/cover-suggestions", headers=world.manager_headers
    ).json
    found = {s["provider_id"]: s["explanation"]["rating"] for s in suggestions}
    assert expected.keys() <= found.keys(), found
    for provider_id, value in expected.items():
        part = found[provider_id]
        assert part["raw"] == pytest.approx(value, abs=1e-6)
        assert part["normalised"] == pytest.approx((value - 1) / 4, abs=1e-6)
        assert part["contribution"] == pytest.approx(part["weight"] * part["normalised"], abs=1e-6)
    assert found[newcomer.id]["raw"] > 3.5  # not sunk to 1 by one review
    assert found[newcomer.id]["raw"] < found[cover.id]["raw"]
