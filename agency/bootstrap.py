"""The composition root: everything a process needs, built in one place.

The web app (``create_app``), the RQ worker (``agency-worker``), RQ's cron
scheduler (``agency/cron.py``) and the CLI all start here, so no process
depends on another module having been imported first: every model is
registered (the metadata is complete, foreign keys resolve), every job is
registered by name, and the collaborators services need (the job runner, the
webhook sender, the payment gateway) are built here and handed to them
through the sessions this module makes (``session.info``), never through Flask.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from agency.config import Settings
from agency.db import Base, session_factory
from agency.isf.gateway import gateway_for
from agency.jobs.queue import JobRunner, Routes, install_process_runner, registered
from agency.webhooks.transport import HttpSender

# Every module that registers jobs or session hooks; imported before any job runs.
JOB_MODULES = (
    "agency.jobs.builtin",
    "agency.introductions.expiry",
    "agency.introductions.match_jobs",
    "agency.introductions.match_triggers",
    "agency.isf.jobs",
    "agency.webhooks.delivery",
    "agency.visits.planning",
    "agency.visits.continuity",
    "agency.reports.jobs",
)
# Which queue each job goes to (anything not named here: matching).
QUEUE_KIND_OF = {
    "isf.payment_run": "payments",
    "isf.reconcile": "payments",
    "deliver_webhook_event": "webhooks",
    "deliver_due_webhooks": "webhooks",
}
# Background work, served by its kind's worker when nothing else of the kind waits: a
# provider's change re-ranking the agency's open requests never holds up a new request.
LATER_JOBS = frozenset({"rematch_agency"})
# Jobs of an agency that one run does together (a match job ranks the agency's queued ones
# with its own: agency.introductions.match_batch): sent as one wake of the agency.
COALESCED_JOBS = frozenset({"match_care_request"})
# The stable code a failed job shows its reader (anything not named here: job_failed).
FAILURE_CODE_OF = {
    "match_care_request": "matching_failed",
    "rematch_agency": "matching_failed",
    "replan_agency": "matching_failed",
    "isf.payment_run": "payment_failed",
    "isf.reconcile": "payment_failed",
}

# Jobs that may run past RQ's default 180 s (anything not named here gets it). Reconciliation
# pages through the Stripe account's transfers of its window (up to 366 days, every agency's
# transfers on a shared account, 100 a page) and reads the payouts they name. A payment run
# sends one transfer per invoice, 8 at a time: against Stripe's few hundred milliseconds a
# call, a month's 10,000 invoices take several minutes; killed at a timeout it would be
# retried and resume (each payout keeps its idempotency key), but only by spending retries.
JOB_TIMEOUT_OF = {"isf.reconcile": 30 * 60, "isf.payment_run": 60 * 60}


def load_everything() -> None:
    """Register every model and every job; check that every foreign key finds its table."""
    importlib.import_module("agency.models")
    for module in JOB_MODULES:
        importlib.import_module(module)
    configure_mappers()
    for table in Base.metadata.tables.values():
        for foreign_key in table.foreign_keys:
            foreign_key.column  # noqa: B018 - raises NoReferencedTableError if a model is missing


def routes_for(settings: Settings) -> Routes:
    return Routes(
        prefix=settings.queue_name,
        single_queue=settings.single_queue,
        kind_of=QUEUE_KIND_OF,
        failure_code_of=FAILURE_CODE_OF,
        later=LATER_JOBS,
        timeout_of=JOB_TIMEOUT_OF,
        coalesced=COALESCED_JOBS,
    )


@dataclass
class Container:
    """What one process runs with."""

    settings: Settings
    sessions: sessionmaker[Session]
    jobs: JobRunner
    webhook_sender: Callable[..., Any]

    @property
    def gateway(self) -> Any:
        """The payment gateway these settings name (Stripe, or manual bank transfer)."""
        return self.sessions.kw["info"]["gateway"]()

    def redis(self) -> Any:
        from redis import Redis

        return Redis.from_url(self.settings.redis_url or "")


def build(settings: Settings | None = None) -> Container:
    """Build the process's collaborators from ``settings`` (the environment by default)."""
    settings = settings or Settings.from_env()
    settings.check()
    load_everything()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )

    sessions = session_factory(settings.database_url)
    runner = JobRunner(settings, sessions, routes_for(settings))
    sender = HttpSender.from_settings(settings)
    # "audit_key": agency.audit.service.AUDIT_KEY_INFO, the key of the audit chain's links.
    # "gateway": agency.isf.gateway.gateway_of(session), made on first use, once per process.
    sessions.configure(
        info={
            "jobs": runner,
            "webhook_sender": sender,
            "audit_key": settings.audit_signing_key,
            "gateway": cache(partial(gateway_for, settings)),
        }
    )
    install_process_runner(runner)
    missing = set(QUEUE_KIND_OF) - registered()
    if missing:
        raise RuntimeError(f"queue routes name jobs nobody registered: {sorted(missing)}")
    return Container(settings=settings, sessions=sessions, jobs=runner, webhook_sender=sender)
