"""Structured logs: one JSON object per line on stderr.

Only fields passed in ``extra`` with names from ALLOWED_FIELDS are written, so
request bodies, names, postcodes or emails cannot slip into the logs by accident.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

ALLOWED_FIELDS = frozenset(
    {
        "request_id",
        "principal_id",
        "principal_kind",
        "method",
        "route",
        "status",
        "duration_ms",
        "job_id",
        "job_name",
        "leader_job_id",  # the match job that ranked this one's request with its own
        "attempt",
        "error_type",
        "count",
        "object_id",
        "event",
    }
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ALLOWED_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_agency", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._agency = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Werkzeug's own access line repeats the URL (and its query string); ours replaces it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
