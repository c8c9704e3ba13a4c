"""Liveness (the process answers) and readiness (its database and queue answer)."""

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

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
        metadata={"example": {"database": "ok", "queue": "inline"}},
    )


@blp.route("/live")
class Live(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is up"""
        return {"status": "ok", "checks": {}}


@blp.route("/ready")
class Ready(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="Database or Redis not reachable")
    def get(self):
        """The database (and Redis, when configured) answer"""
        settings = current_app.extensions["agency"].settings
        checks: dict[str, str] = {}
        try:
            db_session().execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = type(error).__name__
        if settings.redis_url:
            from redis import Redis

            try:
                Redis.from_url(settings.redis_url, socket_timeout=2).ping()
                checks["queue"] = "ok"
            except Exception as error:
                checks["queue"] = type(error).__name__
        else:
            checks["queue"] = "inline"
        if any(v not in {"ok", "inline"} for v in checks.values()):
            raise NotReady(checks=checks)
        return {"status": "ok", "checks": checks}
