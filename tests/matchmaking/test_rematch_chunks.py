"""A provider's change re-ranks the agency's requests ranked before it: stalest first, in
chunks that let new requests through, rewriting only the rankings that moved."""

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from agency import create_app
from agency.introductions import match_jobs
from agency.introductions.match_jobs import enqueue_match
from agency.introductions.match_triggers import provider_inputs_changed
from agency.introductions.models import Suggestion, SuggestionStatus
from agency.introductions.pool_cache import MatchPoolCache
from agency.jobs.models import JobRecord
from agency.seekers.models import CareRequest
from tests.factories import make_agency, make_care_request, make_partner, make_provider, make_seeker


@pytest.fixture
def inline(settings):
    return create_app(replace(settings, redis_url=None))


@pytest.fixture
def db(inline, app):  # `app` empties the tables afterwards
    session = inline.extensions["agency"].sessionmaker()  # its jobs run inline
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def world(db):
    agency = make_agency(db)
    partner, _ = make_partner(db)
    seeker = make_seeker(db, partner.id)
    make_provider(db, agency)  # offers companionship and shopping
    return agency, seeker


def matched(inline, db, agency, seeker, **overrides):
    care_request = make_care_request(db, seeker, agency, **overrides)
    with inline.app_context():
        enqueue_match(db, care_request)
        db.commit()
    return care_request


def a_change(inline, db, agency):
    """What a provider's change does: the pool's generation goes up and a re-match is queued."""
    with inline.app_context():
        provider_inputs_changed(db, agency_ids=[agency.id])
        db.commit()


def active_ids(db, care_request):
    return list(
        db.scalars(
            select(Suggestion.id)
            .where(
                Suggestion.care_request_id == care_request.id,
                Suggestion.status == SuggestionStatus.ACTIVE,
            )
            .order_by(Suggestion.rank)
        )
    )


def rematches(db):
    db.expire_all()
    return list(
        db.scalars(
            select(JobRecord)
            .where(JobRecord.name == match_jobs.REMATCH_JOB)
            .order_by(JobRecord.created_at, JobRecord.id)
        )
    )


def test_a_rematch_rewrites_only_the_rankings_the_change_moved(inline, db, world):
    agency, seeker = world
    wants_company = matched(inline, db, agency, seeker, services=["companionship"])
    wants_shopping = matched(inline, db, agency, seeker, services=["shopping_errands"])
    before = {r.id: active_ids(db, r) for r in (wants_company, wants_shopping)}
    assert all(len(ids) == 1 for ids in before.values())
    newcomer = make_provider(db, agency, rates={"companionship": 1200})  # no shopping
    a_change(inline, db, agency)

    [job] = rematches(db)
    assert job.result == {"result_path": None, "requests": 2, "rewritten": 1, "more": False}
    after_company = active_ids(db, wants_company)
    assert len(after_company) == 2 and set(after_company).isdisjoint(before[wants_company.id])
    assert newcomer.id in {db.get(Suggestion, s).provider_id for s in after_company}
    # The shopping ranking came out as stored: its rows (ids, job) are the ones it had.
    assert active_ids(db, wants_shopping) == before[wants_shopping.id]
    generation = db.get(MatchPoolCache, agency.id).generation
    db.expire_all()
    assert [db.get(CareRequest, r).ranked_generation for r in before] == [generation] * 2


def test_a_rematch_past_its_budget_continues_in_chunks_stalest_ranking_first(
    inline, db, world, monkeypatch
):
    agency, seeker = world
    oldest, middle, newest = (matched(inline, db, agency, seeker) for _ in range(3))
    # Checked against earlier generations: the newest request's ranking is the stalest.
    for care_request, generation in ((oldest, 1), (middle, 1), (newest, 0)):
        db.execute(
            update(CareRequest)
            .where(CareRequest.id == care_request.id)
            .values(ranked_generation=generation)
        )
    db.commit()
    monkeypatch.setattr(match_jobs, "REMATCH_BUDGET", dt.timedelta(0))  # one request a chunk
    monkeypatch.setattr(match_jobs, "on_a_worker", lambda: True)  # inline runs it whole
    make_provider(db, agency, rates={"companionship": 1200})  # moves every ranking
    a_change(inline, db, agency)

    jobs = rematches(db)
    assert [j.result["requests"] for j in jobs] == [1, 1, 1]
    assert [j.result["more"] for j in jobs] == [True, True, False]
    made_by = {
        r.id: {db.get(Suggestion, s).job_id for s in active_ids(db, r)}
        for r in (oldest, middle, newest)
    }
    assert [made_by[r.id] for r in (newest, oldest, middle)] == [{j.id} for j in jobs]


def test_a_request_whose_own_match_never_ran_is_ranked_first_once_overdue(
    inline, db, world, monkeypatch
):
    agency, seeker = world
    ranked = matched(inline, db, agency, seeker)
    db.execute(update(CareRequest).where(CareRequest.id == ranked.id).values(ranked_generation=0))
    lost = make_care_request(db, seeker, agency)  # its job lost: never ranked
    db.execute(
        update(CareRequest)
        .where(CareRequest.id == lost.id)
        .values(created_at=lost.created_at - dt.timedelta(minutes=10))
    )
    fresh = make_care_request(db, seeker, agency)  # its own match job is on its way
    db.commit()
    monkeypatch.setattr(match_jobs, "REMATCH_BUDGET", dt.timedelta(0))  # one request a chunk
    monkeypatch.setattr(match_jobs, "on_a_worker", lambda: True)  # inline runs it whole
    a_change(inline, db, agency)

    assert active_ids(db, fresh) == []
    first, second = rematches(db)
    assert {db.get(Suggestion, s).job_id for s in active_ids(db, lost)} == {first.id}
    assert first.result["requests"] == second.result["requests"] == 1


def test_inline_without_a_worker_the_rematch_runs_whole(inline, db, world, monkeypatch):
    """No Redis (the embedded default): nobody waits behind it, so it is one job."""
    agency, seeker = world
    for _ in range(3):
        matched(inline, db, agency, seeker)
    monkeypatch.setattr(match_jobs, "REMATCH_BUDGET", dt.timedelta(0))
    a_change(inline, db, agency)
    [job] = rematches(db)
    assert job.result["requests"] == 3 and job.result["more"] is False
