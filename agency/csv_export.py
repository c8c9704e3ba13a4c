"""CSV downloads streamed row by row (registers and lists can be large for a council)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Response

CSV_DOC = {"responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}}}


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


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
