"""Kept for existing callers (``flask replan``): the periodic entry points are in agency.worker.

They start from the composition root (``agency.bootstrap``); inside a Flask app
context (the CLI) they use that app's, otherwise the process's own.
"""

from __future__ import annotations

from typing import Any


def _app_container() -> Any:
    from flask import current_app, has_app_context

    if has_app_context() and "agency" in current_app.extensions:
        return current_app.extensions["agency"].container
    return None


def enqueue_periodic(name: str) -> str:
    from agency.worker import enqueue_periodic as enqueue

    return enqueue(name, _app_container())


def replan_all_agencies() -> int:
    from agency.worker import replan_all_agencies as replan

    return replan(_app_container())
