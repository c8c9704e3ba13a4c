"""Liveness (the process answers) and readiness (its database, queue and workers answer).

With Redis configured, readiness also needs at least one worker listening on
each queue (RQ's worker registry) and reports how old the oldest queued job is,
so an operator can alert on a stalled queue.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

from agency.db import utcnow
from agency.errors import DomainError
from agency.web import db_session

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness and readiness")


class NotReady(DomainError):
    status = 503
    code = "not_ready"
    message = "A dependency is not reachable."


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ok"})
    checks = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"example": {"database": "ok", "queue": "ok", "workers": "ok"}},
    )
    queues = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(),
        metadata={
            "description": "Per queue: workers listening, jobs waiting, age of the oldest",
            "example": {
                "agency-matching": {"workers": 1, "queued": 0, "oldest_queued_seconds": None}
            },
        },
    )


def queue_report(redis: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """Workers listening on each queue and the age of its oldest queued job (RQ's registries)."""
    from rq import Queue, Worker

    report: dict[str, dict[str, Any]] = {}
    for name in names:
        queue = Queue(name, connection=redis)
        oldest = None
        first = queue.get_job_ids(0, 1)
        if first:
            job = queue.fetch_job(first[0])
            if job is not None and job.enqueued_at is not None:
                enqueued = job.enqueued_at
                if enqueued.tzinfo is None:
                    enqueued = enqueued.replace(tzinfo=utcnow().tzinfo)
                oldest = max(0, int((utcnow() - enqueued).total_seconds()))
        report[name] = {
            "workers": Worker.count(queue=queue),
            "queued": queue.count,
            "oldest_queued_seconds": oldest,
        }
    return report


@blp.route("/live")
class Live(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is up"""
        return {"status": "ok", "checks": {}}


@blp.route("/ready")
class Ready(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="Database or Redis not reachable, or a queue has no worker")
    def get(self):
        """The database (and Redis and a worker on every queue, when configured) answer"""
        extension = current_app.extensions["agency"]
        settings = extension.settings
        checks: dict[str, str] = {}
        queues: dict[str, dict[str, Any]] = {}
        try:
            db_session().execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = type(error).__name__
        if settings.redis_url:
            from redis import Redis

            try:
                redis = Redis.from_url(settings.redis_url, socket_timeout=2)
                redis.ping()
                checks["queue"] = "ok"
                queues = queue_report(redis, extension.jobs.routes.queue_names())
                idle = [name for name, figures in queues.items() if not figures["workers"]]
                checks["workers"] = "no worker on " + ", ".join(idle) if idle else "ok"
            except Exception as error:
                checks["queue"] = type(error).__name__
        else:
            checks["queue"] = "inline"
        if any(v not in {"ok", "inline"} for v in checks.values()):
            raise NotReady(checks=checks, queues=queues)
        return {"status": "ok", "checks": checks, "queues": queues}
