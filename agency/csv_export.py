"""CSV downloads streamed row by row (registers and lists can be large for a council).

The rows are written by ``agency.csv_format`` (formula-injection safe); this module
only wraps them in HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response

from agency.csv_format import csv_lines

__all__ = ["CSV_DOC", "csv_lines", "csv_response", "pounds"]

CSV_DOC = {"responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}}}


def csv_response(rows: Iterable[Iterable[object]], filename: str) -> Response:
    """A streamed text/csv response; ``rows`` may be a generator that opens its own session.

    Flask ends the request (and closes its session) before a streamed body is read, so a
    generator reading the database must use a session of its own.
    """
    return Response(
        csv_lines(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"
