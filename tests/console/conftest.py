"""Fixtures of the console tests: a seeded Bristol demo served by gunicorn for the browser,
and small worlds of factories for the test-client tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import select

from agency import create_app
from agency.accounts.models import User
from agency.accounts.service import principal_for_user
from agency.db import session_factory
from agency.introductions.models import Arrangement, ArrangementStatus
from agency.isf.isf_accounts import figures_for
from agency.providers.models import Provider
from agency.visits.timesheets import submit_timesheet
from agency.visits.visit_rules import london_today
from agency.visits.visits import log_visit
from tests.console.browser import Browser, browser_session
from tests.demo_database import demo_clone

ROOT = Path(__file__).absolute().parents[2]
BIN = Path(sys.executable).parent
SOUTHMEAD = ("manager@southmead.example", "demo-password-southmead")
AUDITOR = ("auditor@bristol.example", "demo-password-auditor")


@dataclass(frozen=True)
class DemoSite:
    base_url: str
    database_url: str
    timesheet_id: str  # a Southmead timesheet submitted today, waiting for the manager


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _submit_a_southmead_timesheet(session) -> str:  # type: ignore[no-untyped-def]
    """A visit today on a funded Southmead ISF arrangement, and its timesheet, submitted."""
    manager = session.scalar(select(User).where(User.email == SOUTHMEAD[0]))
    arrangements = session.scalars(
        select(Arrangement)
        .where(
            Arrangement.agency_id == manager.agency_id,
            Arrangement.status == ArrangementStatus.ACTIVE,
            Arrangement.isf_account_id.is_not(None),
        )
        .order_by(Arrangement.created_at, Arrangement.id)
    ).all()
    figures = figures_for(session, [a.isf_account_id for a in arrangements])
    arrangement = next(a for a in arrangements if figures[a.isf_account_id].balance_pence > 20000)
    provider = session.get(Provider, arrangement.provider_id)
    principal = principal_for_user(session, session.get(User, provider.user_id))
    today = london_today()
    fields = {"date": today, "start": "06:00", "end": "07:00"}
    log_visit(
        session, principal, arrangement.id, {**fields, "services": arrangement.terms.services}
    )
    return submit_timesheet(session, principal, arrangement.id, today, today).id


@pytest.fixture(scope="module")
def demo_site(settings, demo_template, tmp_path_factory) -> Iterator[DemoSite]:  # type: ignore[no-untyped-def]
    """The Bristol demo (with its four weeks of history) served by gunicorn on loopback.

    A copy of the run's demo database (tests/demo_database.py). Jobs run inline in the
    server (no REDIS_URL), as with `make run`: a payment run is done by the time its page
    loads, and the page shows the job's status.
    """
    folder = tmp_path_factory.mktemp("console")
    with demo_clone(demo_template, "agency_console", folder) as database_url:
        inline = create_app(replace(settings, database_url=database_url, redis_url=None))
        with inline.app_context(), inline.extensions["agency"].sessionmaker() as session:
            timesheet_id = _submit_a_southmead_timesheet(session)
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "AGENCY_ENV")}
        env.update(DATABASE_URL=database_url, SECRET_KEY=settings.secret_key, LOG_LEVEL="WARNING")
        server = subprocess.Popen(
            [
                BIN / "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "120",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base_url + "/console/sign-in", timeout=30)
                    break
                except (urllib.error.URLError, OSError):
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            "gunicorn did not start: " + server.stderr.read().decode()[-3000:]
                        ) from None
                    time.sleep(0.3)
            yield DemoSite(base_url, database_url, timesheet_id)
        finally:
            server.terminate()
            server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(demo_site: DemoSite) -> Iterator[Browser]:
    yield from browser_session(demo_site.base_url)


@pytest.fixture
def db(demo_site: DemoSite) -> Iterator:  # type: ignore[no-untyped-def]
    """A session on the demo database, to check what the browser's clicks wrote."""
    session = session_factory(demo_site.database_url)()
    yield session
    session.close()
