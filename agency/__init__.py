"""The introductory agency API: ``create_app(config=None)`` builds the Flask app."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from agency.bootstrap import Container, build
from agency.config import Settings
from agency.jobs.queue import JobRunner

if TYPE_CHECKING:  # the package's import loads no Flask: workers and scripts need none
    from flask import Flask

API_VERSION = "0.1.0"


@dataclass
class AgencyExtension:
    """What the app carries for the layers below it (found in app.extensions['agency'])."""

    settings: Settings
    sessionmaker: sessionmaker[Session]
    jobs: JobRunner
    container: Container


def create_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, overridden by ``config`` (a Settings or a dict)."""
    from flask import Flask, has_app_context

    from agency.api import create_api
    from agency.error_handlers import register_error_handlers
    from agency.introductions import match_triggers
    from agency.logs import configure_logging
    from agency.web import init_request_hooks

    settings = _settings(config)
    container = build(settings)  # the composition root: models, jobs, collaborators
    configure_logging(settings.log_level)

    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    app.extensions["agency"] = AgencyExtension(
        settings=settings,
        sessionmaker=container.sessions,
        jobs=container.jobs,
        container=container,
    )
    init_request_hooks(app)
    # Provider changes re-match open requests inside an app context (requests, CLI commands).
    match_triggers.rematch_when(has_app_context)
    register_error_handlers(app)
    from agency.web.throttle import init_throttling

    init_throttling(app, settings.redis_url)
    create_api(app)
    from agency.console import init_console

    init_console(app)  # the staff console (/console)

    from agency.cli import register_commands

    register_commands(app)
    return app


def _settings(config: Settings | dict[str, Any] | None) -> Settings:
    if isinstance(config, Settings):
        return config
    settings = Settings.from_env()
    if config:
        settings = replace(settings, **config)
    return settings
