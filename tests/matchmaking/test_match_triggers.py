"""A provider's change re-matches the open requests of its agencies, debounced; re-plans are scheduled."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from agency.introductions.models import MatchPlan
from agency.jobs.models import JobRecord, JobStatus
from agency.providers.models import ProviderService
from tests.factories import make_agency, make_care_request, make_partner, make_provider, make_seeker


def rematch_jobs(session):
    session.expire_all()
    return list(session.scalars(select(JobRecord).where(JobRecord.name == "rematch_agency")))


@pytest.fixture
def quiet(settings, app, monkeypatch):
    """An app whose re-match jobs stay queued, as when the worker has not reached them yet."""
    from agency import create_app
    from agency.jobs.queue import JobRunner

    monkeypatch.setattr(JobRunner, "dispatch", lambda self, job_id, name=None, agency_id=None: True)
    return create_app(settings)


def test_changes_while_a_rematch_is_queued_share_it_and_only_its_agencies_get_one(quiet, session):
    agency = make_agency(session)
    other = make_agency(session)
    provider = make_provider(session, agency)
    unrelated = make_agency(session)
    with quiet.app_context():
        provider.capacity_hours_per_week = 5
        session.commit()
        provider.services.append(ProviderService(service_key="domestic_help", rate_pence=1900))
        provider.travel_radius_km = 9
        session.commit()
    jobs = rematch_jobs(session)
    assert [j.arguments["agency_id"] for j in jobs] == [agency.id]
    assert jobs[0].status is JobStatus.QUEUED
    assert {unrelated.id, other.id}.isdisjoint(j.agency_id for j in jobs)


def test_a_change_after_the_rematch_started_queues_another_one(quiet, session):
    agency = make_agency(session)
    provider = make_provider(session, agency)
    with quiet.app_context():
        provider.capacity_hours_per_week = 5
        session.commit()
        [first] = rematch_jobs(session)
        # A fast worker has already taken the first job (it read the data before this change).
        first.status = JobStatus.STARTED
        session.commit()
        provider.capacity_hours_per_week = 7
        session.commit()
    jobs = rematch_jobs(session)
    assert [j.status for j in jobs if j.id != first.id] == [JobStatus.QUEUED]


def test_a_change_to_nothing_the_matcher_reads_queues_nothing_and_keeps_the_pool(quiet, session):
    from agency.introductions.pool_cache import MatchPoolCache

    agency = make_agency(session)
    provider = make_provider(session, agency)
    before = session.get(MatchPoolCache, agency.id).generation
    with quiet.app_context():
        provider.bio = "Retired nurse, happy to help with shopping."
        provider.trading_name = "Helping Hands"
        session.commit()
        assert rematch_jobs(session) == []
        assert session.get(MatchPoolCache, agency.id).generation == before
        provider.languages = ["en", "pl"]
        session.commit()
    assert len(rematch_jobs(session)) == 1
    session.expire_all()
    assert session.get(MatchPoolCache, agency.id).generation == before + 1


def test_a_change_outside_the_app_marks_the_pool_but_queues_nothing(app, session):
    from agency.introductions.pool_cache import MatchPoolCache

    agency = make_agency(session)
    provider = make_provider(session, agency)
    before = session.get(MatchPoolCache, agency.id).generation
    provider.capacity_hours_per_week = 3
    session.commit()  # no app context: e.g. a migration script
    assert rematch_jobs(session) == []
    session.expire_all()
    assert session.get(MatchPoolCache, agency.id).generation == before + 1


def test_the_rematch_job_reranks_after_compliance_expires(app, session, settings):
    from dataclasses import replace

    from agency import create_app

    inline = create_app(replace(settings, redis_url=None))
    session = inline.extensions["agency"].sessionmaker()  # its jobs run inline
    agency = make_agency(session)
    partner, _ = make_partner(session)
    provider = make_provider(session, agency)
    care_request = make_care_request(session, make_seeker(session, partner.id), agency)
    from agency.introductions.match_jobs import enqueue_match
    from agency.introductions.models import Suggestion, SuggestionStatus

    def active():
        return session.scalar(
            select(func.count()).where(
                Suggestion.care_request_id == care_request.id,
                Suggestion.status == SuggestionStatus.ACTIVE,
            )
        )

    with inline.app_context():
        session.info["jobs"] = inline.extensions["agency"].jobs  # this change's jobs run inline
        enqueue_match(session, care_request)
        session.commit()
        assert active() == 1
        for item in provider.compliance_items:
            item.expires_on = dt.date(2026, 1, 1)
        session.commit()
    [job] = rematch_jobs(session)
    assert job.status.value == "finished" and job.result == {
        "result_path": None,
        "requests": 1,
        "rewritten": 1,
        "more": False,
    }
    left = active()
    session.close()  # its own session: an open transaction would block the teardown's TRUNCATE
    assert left == 0


def test_replan_command_queues_a_plan_for_every_agency(app, session, settings):
    from dataclasses import replace

    from agency import create_app

    inline = create_app(replace(settings, redis_url=None))
    make_agency(session)
    make_agency(session)
    result = inline.test_cli_runner().invoke(args=["replan"])
    assert result.exit_code == 0, result.output
    assert "2 agencies" in result.output
    assert session.scalar(select(func.count()).select_from(MatchPlan)) == 2


def test_the_rq_cron_config_registers_the_periodic_jobs():
    from pathlib import Path

    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis())  # not started: only reads the config
    scheduler.load_config_from_file(str(Path(__file__).resolve().parents[2] / "agency" / "cron.py"))
    jobs = {job.name: job for job in scheduler.get_jobs()}
    assert jobs["replan-all-agencies"].func.__name__ == "replan_all_agencies"
    assert jobs["replan-all-agencies"].cron == "7 * * * *"
    assert jobs["expire-introductions"].args == ("expire_introductions",)
    assert jobs["deliver-due-webhooks"].interval == 60


def test_a_periodic_run_is_an_ordinary_recorded_job(app, session, settings):
    from dataclasses import replace

    from agency import create_app
    from agency.worker import enqueue_periodic

    inline = create_app(replace(settings, redis_url=None))
    job_id = enqueue_periodic("expire_introductions", inline.extensions["agency"].container)
    session.expire_all()
    job = session.get(JobRecord, job_id)
    assert job.name == "expire_introductions" and job.status.value == "finished"


def test_the_flush_hook_reads_the_pending_sets_once_per_flush_not_once_per_object(
    quiet, session, monkeypatch
):
    """Each read of session.new builds a new set; reading it per object made flushes quadratic."""
    from sqlalchemy.orm import Session

    from agency.ids import new_id
    from agency.providers.models import AvailabilityException

    agency = make_agency(session)
    provider = make_provider(session, agency)
    reads = []
    original = Session.new

    monkeypatch.setattr(
        Session, "new", property(lambda self: reads.append(1) or original.__get__(self))
    )
    for count in (10, 200):
        reads.clear()
        with quiet.app_context():
            for day in range(count):
                session.add(
                    AvailabilityException(
                        id=new_id("avx"),
                        provider_id=provider.id,
                        starts_on=dt.date(2027, 1, 1) + dt.timedelta(days=day),
                        ends_on=dt.date(2027, 1, 1) + dt.timedelta(days=day),
                        reason="holiday",
                    )
                )
            session.flush()
        assert len(reads) <= 3, (count, len(reads))
    session.rollback()
