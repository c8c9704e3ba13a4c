"""Match jobs store ranked, explained suggestions; constraints keep the wrong providers out."""

import datetime as dt

import pytest
from rq import SimpleWorker
from sqlalchemy import event, select

from agency.ids import new_id
from agency.introductions.match_jobs import enqueue_match
from agency.introductions.models import Suggestion, SuggestionStatus
from agency.introductions.pools import build_pool
from agency.jobs.models import JobRecord, JobStatus
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    IsfApproval,
    ListingStatus,
)
from agency.seekers.models import Funding, RequestStatus
from tests.factories import (
    make_agency,
    make_care_request,
    make_partner,
    make_provider,
    make_seeker,
    make_user,
)


def run_match(app, session, care_request):
    session.refresh(care_request)  # the last run may have moved it on (version column)
    # Services reach the job runner through the session (agency.jobs.queue.jobs_for): hand
    # this one the runner of the app asked to run it (inline, or the RQ queue).
    previous = session.info.get("jobs")
    session.info["jobs"] = app.extensions["agency"].jobs
    try:
        with app.app_context():
            record = enqueue_match(session, care_request)
            session.commit()
    finally:
        session.info["jobs"] = previous
    return record


def active(session, care_request):
    session.expire_all()
    return list(
        session.scalars(
            select(Suggestion)
            .where(
                Suggestion.care_request_id == care_request.id,
                Suggestion.status == SuggestionStatus.ACTIVE,
            )
            .order_by(Suggestion.rank)
        )
    )


@pytest.fixture
def setting(session):
    agency = make_agency(session)
    partner, secret = make_partner(session)
    seeker = make_seeker(session, partner.id)
    return agency, partner, secret, seeker


def test_a_request_gets_ranked_explained_suggestions_nearest_first(inline, session, setting):
    agency, _, _, seeker = setting
    near = make_provider(session, agency, lat=51.4410, lon=-2.6010)
    far = make_provider(session, agency, lat=51.4700, lon=-2.5900, travel_radius_km=10)
    care_request = make_care_request(session, seeker, agency)
    record = run_match(inline, session, care_request)
    suggestions = active(session, care_request)
    assert [s.provider_id for s in suggestions] == [near.id, far.id]
    assert suggestions[0].score > suggestions[1].score
    explanation = suggestions[0].explanation
    assert {"distance", "window_coverage", "rate", "load"} <= set(explanation)
    total = sum(part["contribution"] for part in explanation.values())
    assert total == pytest.approx(suggestions[0].score, abs=1e-6)
    job = session.get(JobRecord, record.id)
    assert job.status is JobStatus.FINISHED
    assert job.result_path == f"/care-requests/{care_request.id}/suggestions"
    assert session.get(type(care_request), care_request.id).status is RequestStatus.MATCHING


def _matched_ids(app, session, care_request):
    run_match(app, session, care_request)
    return {s.provider_id for s in active(session, care_request)}


@pytest.fixture
def inline(settings):
    """An app that runs jobs in-process whatever REDIS_URL says (the RQ path is tested below)."""
    from dataclasses import replace

    from agency import create_app

    return create_app(replace(settings, redis_url=None))


def test_expired_unapproved_and_suspended_providers_are_never_suggested(
    app, session, setting, inline
):
    agency, _, _, seeker = setting
    ok = make_provider(session, agency)
    expired = make_provider(session, agency, compliant_until=dt.date(2026, 1, 1))
    missing = make_provider(session, agency, compliant_until=None)
    applied = make_provider(session, agency, status=ListingStatus.APPLIED)
    suspended = make_provider(session, agency, status=ListingStatus.SUSPENDED)
    other_agency = make_provider(session, make_agency(session))
    care_request = make_care_request(session, seeker, agency)
    assert _matched_ids(inline, session, care_request) == {ok.id}
    assert {expired.id, missing.id, applied.id, suspended.id, other_agency.id}.isdisjoint(
        _matched_ids(inline, session, care_request)
    )


def test_personal_care_needs_a_verified_cqc_registration(app, session, setting, inline):
    agency, _, _, seeker = setting
    rates = {"personal_care": 2200, "companionship": 1800}
    unregistered = make_provider(session, agency, rates=rates)
    registered = make_provider(session, agency, rates=rates)
    session.add(
        ComplianceItem(
            id=new_id("cmp"),
            provider_id=registered.id,
            kind=ComplianceKind.CQC_REGISTRATION,
            evidence_reference="1-234567890",
            expires_on=None,
            status=ComplianceStatus.VERIFIED,
        )
    )
    pending = make_provider(session, agency, rates=rates)
    session.add(
        ComplianceItem(
            id=new_id("cmp"),
            provider_id=pending.id,
            kind=ComplianceKind.CQC_REGISTRATION,
            evidence_reference="1-999",
            status=ComplianceStatus.PENDING,
        )
    )
    session.commit()
    care_request = make_care_request(session, seeker, agency, services=["personal_care"])
    assert _matched_ids(inline, session, care_request) == {registered.id}
    assert unregistered.id not in _matched_ids(inline, session, care_request)


def test_an_isf_funded_request_needs_an_isf_approved_provider(app, session, setting, inline):
    agency, _, _, seeker = setting
    approved = make_provider(session, agency)
    make_provider(session, agency)
    admin = make_user(session)
    session.add(
        IsfApproval(
            id=new_id("isa"),
            provider_id=approved.id,
            council_id=agency.council_id,
            approved=True,
            recorded_by=admin.id,
        )
    )
    session.commit()
    care_request = make_care_request(session, seeker, agency, funding=Funding.ISF)
    assert _matched_ids(inline, session, care_request) == {approved.id}


def test_rate_cap_availability_and_radius_are_hard_constraints(app, session, setting, inline):
    agency, _, _, seeker = setting
    ok = make_provider(session, agency)
    make_provider(session, agency, rates={"companionship": 3000})
    make_provider(session, agency, windows=[{"weekday": 5, "start": "09:00", "end": "12:00"}])
    make_provider(session, agency, lat=51.52, lon=-2.45, travel_radius_km=3)
    care_request = make_care_request(session, seeker, agency, max_rate_pence=2500)
    assert _matched_ids(inline, session, care_request) == {ok.id}


def test_a_rematch_supersedes_the_old_ranking_and_keeps_rejections_out(
    app, session, setting, inline
):
    agency, _, _, seeker = setting
    first = make_provider(session, agency)
    second = make_provider(session, agency)
    care_request = make_care_request(session, seeker, agency)
    run_match(inline, session, care_request)
    earlier = {s.provider_id: s.id for s in active(session, care_request)}
    request_first = session.scalar(
        select(Suggestion.id)
        .where(Suggestion.care_request_id == care_request.id)
        .order_by(Suggestion.created_at, Suggestion.id)
        .limit(1)
    )
    rejected = session.scalar(select(Suggestion).where(Suggestion.provider_id == first.id))
    rejected.status = SuggestionStatus.REJECTED
    rejected.status_reason = "met before, not a good fit"
    session.commit()
    run_match(inline, session, care_request)
    assert [s.provider_id for s in active(session, care_request)] == [second.id]
    superseded = session.scalars(
        select(Suggestion).where(Suggestion.status == SuggestionStatus.SUPERSEDED)
    ).all()
    # The old ranking of `second` was superseded; nobody acted on it, so it is deleted unless
    # it is the request's first suggestion, which the funnel keeps (whichever provider ranked
    # first depends on the random positions of the two providers).
    kept = {earlier[second.id]} & {request_first}
    assert {s.id for s in superseded} == kept
    assert session.get(Suggestion, request_first) is not None
    assert session.get(Suggestion, rejected.id).status is SuggestionStatus.REJECTED


def test_a_job_that_dies_half_way_leaves_the_previous_ranking_whole(
    app, session, setting, monkeypatch, inline
):
    agency, _, _, seeker = setting
    make_provider(session, agency)
    make_provider(session, agency)
    care_request = make_care_request(session, seeker, agency)
    run_match(inline, session, care_request)
    before = {(s.id, s.status) for s in session.scalars(select(Suggestion))}

    import agency.introductions.match_jobs as jobs

    original = jobs.match_request

    def dies_after_writing(*args, **kwargs):
        original(*args, **kwargs)  # rows added to the session, not committed
        raise MemoryError("worker killed")

    monkeypatch.setattr(jobs, "match_request", dies_after_writing)
    record = run_match(inline, session, care_request)
    session.expire_all()
    assert {(s.id, s.status) for s in session.scalars(select(Suggestion))} == before
    assert session.get(JobRecord, record.id).status is JobStatus.FAILED


@pytest.mark.postgres
@pytest.mark.committed  # a second transaction commits while the job's is open: real ones
def test_a_request_changed_while_its_first_ranking_is_made_fails_the_job_and_keeps_the_change(
    app, session, setting, monkeypatch, inline
):
    """The first ranking moves the request to matching by one UPDATE checked against the
    version the job read (not the ORM's flush): a change committed meanwhile wins, the job
    fails and stores nothing, and RQ's retry ranks the request as it now is."""
    agency, _, _, seeker = setting
    make_provider(session, agency)
    care_request = make_care_request(session, seeker, agency)
    read_version = care_request.version

    import agency.introductions.match_jobs as jobs
    from agency.seekers.models import CareRequest

    original = jobs.match_request

    def changed_meanwhile(*args, **kwargs):
        stored = original(*args, **kwargs)
        with inline.extensions["agency"].sessionmaker() as other:  # a partner's edit
            other.get(CareRequest, care_request.id).notes = "Mornings only now."
            other.commit()
        return stored

    monkeypatch.setattr(jobs, "match_request", changed_meanwhile)
    record = run_match(inline, session, care_request)
    session.expire_all()
    assert session.get(JobRecord, record.id).status is JobStatus.FAILED
    assert active(session, care_request) == []
    row = session.get(CareRequest, care_request.id)
    assert (row.status, row.notes) == (RequestStatus.OPEN, "Mornings only now.")
    assert row.ranked_generation is None
    edited = row.version

    monkeypatch.setattr(jobs, "match_request", original)
    retried = run_match(inline, session, care_request)  # what RQ's retry does
    session.expire_all()
    assert session.get(JobRecord, retried.id).status is JobStatus.FINISHED
    row = session.get(CareRequest, care_request.id)
    assert (row.status, row.notes) == (RequestStatus.MATCHING, "Mornings only now.")
    assert row.version > edited > read_version
    assert len(active(session, care_request)) == 1


@pytest.mark.committed  # counts the statements on the engine (a test's savepoints would count)
def test_loading_the_pool_takes_the_same_number_of_queries_for_5_or_40_providers(session, settings):
    agency = make_agency(session)
    from agency.db import get_engine

    def count_queries(n_more):
        for _ in range(n_more):
            make_provider(session, agency)
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(get_engine(settings.database_url), "before_cursor_execute", listener)
        try:
            session.expire_all()
            pool = build_pool(session, agency.id, dt.date(2026, 12, 7))
        finally:
            event.remove(get_engine(settings.database_url), "before_cursor_execute", listener)
        return len(pool), len(statements)

    small = count_queries(5)
    large = count_queries(35)
    assert small[0] == 5 and large[0] == 40
    # The agency, state, six narrow reads, regulated services, committed hours, the
    # ratings, the store (lock bound, update, change-log clean-up) and the test's own
    # savepoints; the second also reads the change log (the 35 new providers joined the
    # list: a full build, not a patch, so still no per-provider reads).
    assert small[1] + 1 == large[1] <= 18, (small, large)


def test_a_second_job_reads_the_stored_pool_not_the_providers(session, settings):
    from agency.db import get_engine

    agency = make_agency(session)
    for _ in range(6):
        make_provider(session, agency)
    build_pool(session, agency.id, dt.date(2026, 12, 7))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(get_engine(settings.database_url), "before_cursor_execute", listener)
    try:
        pool = build_pool(session, agency.id, dt.date(2026, 12, 8))
    finally:
        event.remove(get_engine(settings.database_url), "before_cursor_execute", listener)
    assert len(pool) == 6
    # The generation, the stored arrays (on PostgreSQL read by a binary cursor the engine's
    # events do not see), committed hours, the kept rating totals: never the providers'
    # own tables.
    assert 2 <= len(statements) <= 3
    tables = [s.split("FROM", 1)[1].split()[0] for s in statements]
    assert not any("provider" in t for t in tables if t != "provider_rating_totals"), tables


def test_the_stored_pool_equals_the_pool_built_from_orm_objects(session):
    """The narrow rows give the matcher exactly what the ORM objects did, for every date."""
    import numpy as np

    from agency.ids import new_id
    from agency.introductions.pools import build_pool_from_objects
    from agency.providers.models import AvailabilityException

    agency = make_agency(session)
    elsewhere = make_agency(session)
    approver = make_user(session)
    plain = make_provider(session, agency)
    make_provider(session, agency, status=ListingStatus.APPLIED)
    make_provider(session, agency, compliant_until=None, gender="female", languages=["pl"])
    carer = make_provider(session, agency, rates={"personal_care": 2400, "companionship": 1900})
    carer.compliance_items.append(
        ComplianceItem(
            id=new_id("cmp"),
            kind=ComplianceKind.CQC_REGISTRATION,
            evidence_reference="1-234",
            issued_on=dt.date(2026, 12, 8),
            expires_on=dt.date(2027, 6, 30),
            status=ComplianceStatus.VERIFIED,
        )
    )
    plain.exceptions.append(
        AvailabilityException(
            id=new_id("avx"),
            starts_on=dt.date(2026, 12, 7),
            ends_on=dt.date(2026, 12, 9),
            reason="holiday",
        )
    )
    suspended = make_provider(session, agency)
    from agency.providers.models import ProviderListing

    session.add(
        ProviderListing(
            id=new_id("lst"),
            provider_id=suspended.id,
            agency_id=elsewhere.id,
            council_id=elsewhere.council_id,
            status=ListingStatus.SUSPENDED,
        )
    )
    session.add(
        IsfApproval(
            id=new_id("isa"),
            provider_id=carer.id,
            council_id=agency.council_id,
            approved=True,
            recorded_by=approver.id,
        )
    )
    session.commit()
    for day in (dt.date(2026, 12, 7), dt.date(2026, 12, 8), dt.date(2026, 12, 10)):
        stored = build_pool(session, agency.id, day)
        reference = build_pool_from_objects(session, agency.id, day)
        assert stored.ids == reference.ids
        for name in (
            "lat", "lon", "radius_km", "services", "rates", "cqc", "agencies", "suspended",
            "compliance_days", "isf_councils", "availability", "capacity_hours",
            "committed_hours", "gender", "languages", "load_hours",
        ):  # fmt: skip
            assert np.array_equal(getattr(stored, name), getattr(reference, name)), name
        for name in ("service_index", "agency_index", "council_index", "language_index"):
            assert getattr(stored, name) == getattr(reference, name), name
        # The engine's derived arrays handed over with the stored pool equal its own build.
        from dataclasses import fields

        from matching.index import PoolIndex, _build, pool_index

        seeded, built = pool_index(stored), _build(stored)
        for f in fields(PoolIndex):
            if f.name not in ("pattern", "patterns"):
                assert np.array_equal(
                    getattr(seeded, f.name), getattr(built, f.name), equal_nan=True
                ), f.name
        assert np.array_equal(seeded.patterns[seeded.pattern], built.patterns[built.pattern])


@pytest.mark.redis
def test_a_real_worker_matches_a_request(app, client, session, setting, rq_queue):
    agency, _, _, seeker = setting
    provider = make_provider(session, agency)
    care_request = make_care_request(session, seeker, agency)
    record = run_match(app, session, care_request)
    assert session.get(JobRecord, record.id).status is JobStatus.QUEUED
    SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True)
    session.expire_all()
    assert session.get(JobRecord, record.id).status is JobStatus.FINISHED
    assert [s.provider_id for s in active(session, care_request)] == [provider.id]


@pytest.mark.postgres
@pytest.mark.committed  # counts the engine's real commits (a test's savepoints would not be)
def test_a_match_job_commits_its_ranking_and_its_finished_row_together_without_waiting(
    session, settings, setting, inline
):
    """Two commits per job (the start mark, then the ranking with the row finished), the
    second with synchronous_commit off for that transaction only: a ranking is derived
    data the job makes again (agency.db.commit_without_waiting_for_disk)."""
    from agency.db import get_engine

    agency, _, _, seeker = setting
    make_provider(session, agency)
    care_request = make_care_request(session, seeker, agency)
    run_match(inline, session, care_request)  # the first job stores the pool (its own commit)
    engine = get_engine(settings.database_url)
    commits = []

    def durable(connection, _record):  # type: ignore[no-untyped-def]
        # As on a database that waits for the disk (the tests' databases do not: conftest).
        connection.execute("SET synchronous_commit = on")

    def on_commit(connection):  # type: ignore[no-untyped-def]
        commits.append(connection.exec_driver_sql("SHOW synchronous_commit").scalar())

    engine.dispose()  # new connections, each set as above
    event.listen(engine, "connect", durable)
    event.listen(engine, "commit", on_commit)
    try:
        record = run_match(inline, session, care_request)
        # The next transaction on a pooled connection waits for the disk again.
        with engine.connect() as connection:
            after = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
    finally:
        event.remove(engine, "connect", durable)
        event.remove(engine, "commit", on_commit)
        engine.dispose()
    # The test's enqueue, the job's start mark, the job's one transaction: no third commit
    # for the row's end, and only the ranking's commit does not wait for the disk.
    assert commits == ["on", "on", "off"], commits
    assert after == "on"
    session.expire_all()
    job = session.get(JobRecord, record.id)
    assert job.status is JobStatus.FINISHED and job.result["suggestions"] == 1
    assert job.ended_at is not None and job.progress == 100


def test_a_match_job_whose_commit_fails_is_failed_not_finished(
    app, session, setting, monkeypatch, inline
):
    """finish_with marks the row in the job's transaction: a commit that fails takes the
    mark with it, and the job is recorded failed."""
    agency, _, _, seeker = setting
    make_provider(session, agency)
    care_request = make_care_request(session, seeker, agency)

    import agency.introductions.match_jobs as jobs

    original = jobs.finish_with

    def finished_then_dies(session_, record, result):  # type: ignore[no-untyped-def]
        original(session_, record, result)
        raise MemoryError("worker killed before the commit")

    monkeypatch.setattr(jobs, "finish_with", finished_then_dies)
    record = run_match(inline, session, care_request)
    session.expire_all()
    job = session.get(JobRecord, record.id)
    assert job.status is JobStatus.FAILED and job.result is None
    assert active(session, care_request) == []
