"""SQL pieces that differ between PostgreSQL and SQLite, behind one function each.

Percentiles: PostgreSQL computes them in the query (``percentile_cont``, linear
interpolation); SQLite has no such aggregate, so we fetch only the grouping keys and the one
number per row, sorted, and interpolate the same way in Python. Both give the same figures
(tests run on both).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Select, cast, func, select
from sqlalchemy.orm import Session


def hours_between(session: Session, later: Any, earlier: Any) -> Any:
    """``later - earlier`` in hours, as a float expression."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def month_of(session: Session, instant: Any) -> Any:
    """``YYYY-MM`` of a UTC timestamp (UTC months on both databases)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", instant), "YYYY-MM")
    return func.strftime("%Y-%m", instant)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks, as PostgreSQL's ``percentile_cont``."""
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def value_at_rank(counts: Sequence[tuple[float, int]], rank: int) -> float:
    """The ``rank``-th (0-based) value of a histogram sorted by value."""
    seen = 0
    for value, count in counts:
        seen += count
        if rank < seen:
            return value
    raise IndexError(rank)


def histogram_figures(counts: Sequence[tuple[float, int]]) -> dict[str, float | int]:
    """Median, 90th percentile, max and count from ``(value, count)`` sorted by value.

    For small whole numbers (days to paid) a histogram grouped in SQL is all we need: the
    percentiles interpolate between ranks exactly as ``percentile_cont`` does.
    """
    n = sum(c for _, c in counts)

    def at(fraction: float) -> float:
        position = fraction * (n - 1)
        low = int(position)
        below, above = value_at_rank(counts, low), value_at_rank(counts, min(low + 1, n - 1))
        return below + (above - below) * (position - low)

    return _figures(at(0.5), at(0.9), counts[-1][0], n)


def grouped_percentiles(
    session: Session, rows: Select[Any], keys: Sequence[str], value: str = "value"
) -> dict[tuple[Any, ...], dict[str, float | int]]:
    """Median, 90th percentile, max and count of ``value`` per ``keys`` over ``rows``.

    ``rows`` is a select with labelled columns; null values are ignored.
    """
    sub = rows.subquery()
    key_columns = [sub.c[k] for k in keys]
    number = cast(sub.c[value], Float)
    if session.get_bind().dialect.name == "postgresql":
        stmt = (
            select(
                *key_columns,
                func.percentile_cont(0.5).within_group(number),
                func.percentile_cont(0.9).within_group(number),
                func.max(number),
                func.count(number),
            )
            .where(number.is_not(None))
            .group_by(*key_columns)
        )
        # Without keys an aggregate answers one row even over no rows: count 0, skip it.
        return {
            tuple(row[: len(keys)]): _figures(*row[len(keys) :])
            for row in session.execute(stmt)
            if row[-1]
        }
    stmt = select(*key_columns, number).where(number.is_not(None))
    stmt = stmt.order_by(*key_columns, number)
    result: dict[tuple[Any, ...], dict[str, float | int]] = {}
    for key, group in itertools.groupby(session.execute(stmt), key=lambda r: tuple(r[:-1])):
        values = [float(r[-1]) for r in group]
        result[key] = _figures(
            percentile(values, 0.5), percentile(values, 0.9), values[-1], len(values)
        )
    return result


def _figures(median: float, p90: float, worst: float, count: int) -> dict[str, float | int]:
    return {
        "median": round(float(median), 2),
        "p90": round(float(p90), 2),
        "max": round(float(worst), 2),
        "count": int(count),
    }
