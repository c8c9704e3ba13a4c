"""Operator commands: ``flask --app wsgi <command>``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

from agency import create_app
from agency.accounts import api_keys
from agency.accounts import service as accounts
from agency.accounts.models import Role
from agency.audit.commands import register_audit_commands
from agency.db import session_scope
from agency.demo import seed
from agency.directory import service as directory
from agency.directory.models import Agency, Council
from agency.introductions.expiry import expire_overdue
from agency.jobs.models import JobRecord, JobStatus
from agency.migrate import upgrade
from agency.visits.commands import register_visit_commands
from agency.webhooks.commands import register_webhook_commands
from agency.worker import replan_all_agencies


def _url() -> str:
    return current_app.extensions["agency"].settings.database_url  # type: ignore[no-any-return]


def register_commands(app: Flask) -> None:

    register_audit_commands(app)
    register_webhook_commands(app)
    register_visit_commands(app)

    @app.cli.command("expire-introductions")
    def expire_introductions_command() -> None:
        """Expire introductions the provider did not answer in time (run by a scheduler)."""

        with session_scope(_url()) as session:
            count = expire_overdue(session)
        click.echo(f"expired {count} introductions")

    @app.cli.command("db-upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        """Apply the Alembic migrations (to head by default)."""

        upgrade(_url(), revision)
        click.echo(f"database at {revision}")

    @app.cli.command("create-council")
    @click.option("--name", required=True)
    @click.option("--slug", required=True)
    def create_council(name: str, slug: str) -> None:
        """Create a council (a local authority that funds ISFs)."""

        with session_scope(_url()) as session:
            council = directory.create_council(session, name=name, slug=slug)
            click.echo(council.id)

    @app.cli.command("create-agency")
    @click.option("--council", "council_slug", required=True, help="the council's slug")
    @click.option("--name", required=True)
    @click.option("--slug", required=True)
    def create_agency(council_slug: str, name: str, slug: str) -> None:
        """Create an introductory agency under a council."""

        with session_scope(_url()) as session:
            council = session.scalar(select(Council).where(Council.slug == council_slug))
            if council is None:
                raise click.ClickException(f"no council with slug {council_slug}")
            agency = directory.create_agency(session, council_id=council.id, name=name, slug=slug)
            click.echo(agency.id)

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--agency", "agency_slug", help="the agency's slug, for a manager")
    @click.option("--council", "council_slug", help="the council's slug, for an auditor")
    @click.password_option()
    def create_user(
        email: str, role: str, agency_slug: str | None, council_slug: str | None, password: str
    ) -> None:
        """Create a user (asks for the password)."""

        with session_scope(_url()) as session:
            agency_id = council_id = None
            if agency_slug:
                agency_id = session.scalar(select(Agency.id).where(Agency.slug == agency_slug))
                if agency_id is None:
                    raise click.ClickException(f"no agency with slug {agency_slug}")
            if council_slug:
                council_id = session.scalar(select(Council.id).where(Council.slug == council_slug))
                if council_id is None:
                    raise click.ClickException(f"no council with slug {council_slug}")
            user = accounts.create_user(
                session,
                email=email,
                password=password,
                role=Role(role),
                agency_id=agency_id,
                council_id=council_id,
            )
            click.echo(user.id)

    @app.cli.command("create-partner")
    @click.option("--name", required=True)
    @click.option("--email", "contact_email")
    def create_partner(name: str, contact_email: str | None) -> None:
        """Create a partner client and its first API key (printed once)."""
        with session_scope(_url()) as session:
            client = api_keys.create_partner_client(session, name, contact_email)
            issued = api_keys.issue_api_key(session, client.id, "initial")
            click.echo(f"partner client {client.id}")
            click.echo(f"API key (shown once): {issued.secret}")

    @app.cli.command("create-api-key")
    @click.option("--partner", "partner_client_id", required=True)
    @click.option("--name", default="cli")
    def create_api_key(partner_client_id: str, name: str) -> None:
        """Issue another API key for a partner client (printed once)."""
        with session_scope(_url()) as session:
            issued = api_keys.issue_api_key(session, partner_client_id, name)
            click.echo(issued.secret)

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="do nothing when the database has agencies")
    def seed_demo(if_empty: bool) -> None:
        """Load the Bristol demo and print its credentials."""
        from dataclasses import replace

        # The demo's own jobs (matching, the history's payment runs) run here, inline, so
        # the demo is the same, history included, whether or not a worker is up.
        inline = create_app(replace(current_app.extensions["agency"].settings, redis_url=None))
        with inline.app_context(), inline.extensions["agency"].sessionmaker() as session:
            report = seed(session, only_if_empty=if_empty)
        if report is None:
            click.echo("demo data already present; nothing seeded")
            return
        click.echo(report)

    @app.cli.command("replan")
    def replan() -> None:
        """Queue a batch re-plan of every agency (call hourly from cron without Redis)."""

        count = replan_all_agencies(current_app.extensions["agency"].container)
        click.echo(f"re-plan queued for {count} agencies")

    @app.cli.command("requeue-jobs")
    def requeue_jobs() -> None:
        """Send again every job still marked queued (after Redis was unreachable)."""

        runner = current_app.extensions["agency"].jobs
        with session_scope(_url()) as session:
            rows = session.execute(
                select(JobRecord.id, JobRecord.name, JobRecord.agency_id).where(
                    JobRecord.status == JobStatus.QUEUED
                )
            )
            count = 0
            for job_id, name, agency_id in rows:
                runner.dispatch(job_id, name, agency_id)  # match jobs: one wake per agency
                count += 1
        click.echo(f"requeued {count} jobs")
