"""Providers of one agency changing at once: every write lands, no 500, one queued re-match."""

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from agency import create_app
from agency.accounts.models import User
from agency.jobs.models import JobRecord, JobStatus
from agency.providers.models import AvailabilityException
from tests.factories import bearer, make_agency, make_provider


@pytest.mark.postgres
@pytest.mark.committed  # threads write and read at once: real transactions
def test_concurrent_time_off_for_two_providers_of_one_agency_all_land(
    settings, app, session, monkeypatch
):
    from agency.jobs.queue import JobRunner

    # The re-match jobs stay queued (no worker yet), as when changes arrive in a burst.
    monkeypatch.setattr(JobRunner, "dispatch", lambda self, job_id, name=None, agency_id=None: True)
    web = create_app(settings)
    agency = make_agency(session)
    providers = [make_provider(session, agency) for _ in range(2)]
    headers = {p.id: bearer(session, session.get(User, p.user_id)) for p in providers}
    rounds, per_provider = 3, 2
    answers: list[int] = []
    lock = threading.Lock()

    def post(provider_id: str, day: dt.date, barrier: threading.Barrier) -> None:
        client = web.test_client()
        barrier.wait()
        response = client.post(
            f"/providers/{provider_id}/availability/exceptions",
            json={"starts_on": day.isoformat(), "ends_on": day.isoformat(), "reason": "holiday"},
            headers=headers[provider_id],
        )
        with lock:
            answers.append(response.status_code)

    for round_ in range(rounds):
        barrier = threading.Barrier(len(providers) * per_provider)
        threads = [
            threading.Thread(
                target=post,
                args=(p.id, dt.date(2027, 1, 1) + dt.timedelta(days=10 * round_ + i), barrier),
            )
            for p in providers
            for i in range(per_provider)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert answers == [201] * (rounds * len(providers) * per_provider)
    session.expire_all()
    stored = session.scalar(select(func.count()).select_from(AvailabilityException))
    assert stored == rounds * len(providers) * per_provider  # no user's write was lost
    queued = session.scalars(
        select(JobRecord).where(
            JobRecord.name == "rematch_agency", JobRecord.status == JobStatus.QUEUED
        )
    ).all()
    assert [job.agency_id for job in queued] == [agency.id]  # the burst shares one re-match
