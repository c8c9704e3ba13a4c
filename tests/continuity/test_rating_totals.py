"""The seekers' ratings the matcher reads are kept per (agency, provider) by the database.

``provider_rating_totals`` is written by triggers on ``visit_feedback`` only; these tests
compare it with the ratings themselves after inserts, a changed rating and a deleted one.
"""

from sqlalchemy import delete, func, select, update

from agency.visits.feedback import agency_ratings, rating_summary
from agency.visits.feedback_models import FeedbackSide, ProviderRatingTotal, VisitFeedback
from tests.continuity.test_feedback import _confirmed_visit
from tests.visits.visit_helpers import make_world


def _kept(session):
    rows = session.execute(
        select(
            ProviderRatingTotal.agency_id,
            ProviderRatingTotal.provider_id,
            ProviderRatingTotal.ratings,
            ProviderRatingTotal.rating_sum,
        ).where(ProviderRatingTotal.ratings > 0)
    )
    return {(a, p): (n, s) for a, p, n, s in rows}


def _summed(session):
    rows = session.execute(
        select(
            VisitFeedback.agency_id,
            VisitFeedback.provider_id,
            func.count(VisitFeedback.rating),
            func.sum(VisitFeedback.rating),
        )
        .where(VisitFeedback.side == FeedbackSide.SEEKER, VisitFeedback.rating.is_not(None))
        .group_by(VisitFeedback.agency_id, VisitFeedback.provider_id)
    )
    return {(a, p): (int(n), int(s)) for a, p, n, s in rows}


def test_kept_totals_follow_every_rating_given_changed_or_removed(client, session):
    world = make_world(session)
    given = []
    for day, stars in ((1, 4), (2, 2), (3, 5)):
        visit_id = _confirmed_visit(client, world, day=day)
        answer = client.post(
            f"/visits/{visit_id}/feedback", json={"rating": stars}, headers=world.partner_headers
        )
        assert answer.status_code == 201, answer.json
        given.append(answer.json["id"])
    # The provider's own feedback on a visit is not a seeker's rating: it does not count.
    answer = client.post(
        f"/visits/{visit_id}/feedback", json={"rating": 1}, headers=world.provider_headers
    )
    assert answer.status_code == 201, answer.json
    session.expire_all()
    key = (world.agency.id, world.provider.id)
    assert _kept(session) == _summed(session) == {key: (3, 11)}
    shrunk, mean = agency_ratings(session, world.agency.id)
    assert mean == 11 / 3 and set(shrunk) == {world.provider.id}
    assert rating_summary(session, world.provider.id) == (3, 11 / 3)

    # Changed and removed behind the service's back: the triggers follow both.
    session.execute(update(VisitFeedback).where(VisitFeedback.id == given[1]).values(rating=3))
    assert _kept(session) == _summed(session) == {key: (3, 12)}
    session.execute(delete(VisitFeedback).where(VisitFeedback.id == given[0]))
    assert _kept(session) == _summed(session) == {key: (2, 8)}
    session.execute(delete(VisitFeedback).where(VisitFeedback.id.in_(given[1:])))
    assert _kept(session) == _summed(session) == {}
    assert agency_ratings(session, world.agency.id) == ({}, None)
    assert rating_summary(session, world.provider.id) == (0, None)
    session.rollback()
