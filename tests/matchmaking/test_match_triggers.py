"""A provider's change re-matches the open requests of its agencies, debounced; re-plans are scheduled."""

import datetime as dt

from sqlalchemy import func, select

from agency.introductions.models import MatchPlan
from agency.jobs.models import JobRecord
from agency.providers.models import ProviderService
from tests.factories import make_agency, make_care_request, make_partner, make_provider, make_seeker


def rematch_jobs(session):
    session.expire_all()
    return list(session.scalars(select(JobRecord).where(JobRecord.name == "rematch_agency")))


def test_a_provider_change_queues_one_rematch_per_agency_debounced(app, session, monkeypatch):
    import agency.introductions.match_jobs as match_jobs

    noon = dt.datetime(2026, 11, 26, 12, 0, 5, tzinfo=dt.UTC)  # both saves fall in one minute
    monkeypatch.setattr(match_jobs, "utcnow", lambda: noon)
    agency = make_agency(session)
    other = make_agency(session)
    provider = make_provider(session, agency)
    unrelated = make_agency(session)
    with app.app_context():
        provider.capacity_hours_per_week = 5
        session.commit()
        provider.services.append(ProviderService(service_key="domestic_help", rate_pence=1900))
        provider.travel_radius_km = 9
        session.commit()
    jobs = rematch_jobs(session)
    assert [j.arguments["agency_id"] for j in jobs] == [agency.id]
    assert unrelated.id not in {j.agency_id for j in jobs} and other.id != jobs[0].agency_id


def test_a_change_outside_the_app_or_to_nothing_the_matcher_reads_queues_nothing(app, session):
    agency = make_agency(session)
    provider = make_provider(session, agency)
    provider.bio = "new bio"
    session.commit()  # no app context: e.g. a migration script
    assert rematch_jobs(session) == []


def test_the_rematch_job_reranks_after_compliance_expires(app, session, settings):
    from dataclasses import replace

    from agency import create_app

    inline = create_app(replace(settings, redis_url=None))
    agency = make_agency(session)
    partner, _ = make_partner(session)
    provider = make_provider(session, agency)
    care_request = make_care_request(session, make_seeker(session, partner.id), agency)
    with inline.app_context():
        session.info["jobs"] = inline.extensions["agency"].jobs  # this change's jobs run inline
        for item in provider.compliance_items:
            item.expires_on = dt.date(2026, 1, 1)
        session.commit()
    [job] = rematch_jobs(session)
    assert job.status.value == "finished" and job.result == {"result_path": None, "requests": 1}
    from agency.introductions.models import Suggestion, SuggestionStatus

    active = session.scalar(
        select(func.count()).where(
            Suggestion.care_request_id == care_request.id,
            Suggestion.status == SuggestionStatus.ACTIVE,
        )
    )
    assert active == 0


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
    from agency.jobs.periodic import enqueue_periodic

    inline = create_app(replace(settings, redis_url=None))
    with inline.app_context():
        job_id = enqueue_periodic("expire_introductions")
    session.expire_all()
    job = session.get(JobRecord, job_id)
    assert job.name == "expire_introductions" and job.status.value == "finished"
