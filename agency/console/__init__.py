"""The staff console: server-rendered pages for agency managers and council auditors.

It lives in the same app as the API and calls the same service functions, so the two can
never disagree; views only read forms, call a service and render. ``init_console(app)``
is the one thing the app factory calls.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask

from agency.console.blueprint import bp, csrf

# How long a console sign-in lasts; the server-side token expires with it.
DEFAULT_SESSION_MINUTES = 120


def init_console(app: Flask) -> None:
    """Register the console: cookie settings, CSRF protection for its forms, its pages."""
    settings = app.extensions["agency"].settings
    minutes = int(settings.extra.get("console_session_minutes", DEFAULT_SESSION_MINUTES))
    app.config.update(
        SESSION_COOKIE_NAME="agency_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/console",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=minutes),
        CONSOLE_SESSION_MINUTES=minutes,
        # The JSON API authenticates with headers, not cookies, so it needs no CSRF token:
        # the console checks every one of its own POSTs (see blueprint.check_csrf).
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=minutes * 60,
    )
    csrf.init_app(app)
    from agency.console import (  # noqa: F401 - the modules add their views to bp
        auditor_views,
        manager_views,
        money_views,
        provider_views,
        report_views,
        sign_in_views,
    )

    app.register_blueprint(bp)
