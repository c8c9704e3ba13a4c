"""Paging and sorting for list endpoints, done in SQL (flask-smorest's Page headers)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import marshmallow as ma
from marshmallow import validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agency.errors import InvalidInput

# The last page a client may ask for: past it, the SQL offset would grow without bound
# (``page=10**21`` overflows PostgreSQL's bigint). 100,000 pages of 100 is ten million rows.
MAX_PAGE = 100_000


def check_page(page: int) -> None:
    """422 for a page number past :data:`MAX_PAGE` (past the last row is an empty page)."""
    if page > MAX_PAGE:
        raise InvalidInput(errors={"page": [f"Must be at most {MAX_PAGE}."]})


def page_of(session: Session, stmt: Select[Any], pagination_parameters: Any) -> list[Any]:
    """One page of ``stmt``; sets the total so smorest writes the X-Pagination header."""
    check_page(pagination_parameters.page)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    page, size = pagination_parameters.page, pagination_parameters.page_size
    return list(session.scalars(stmt.limit(size).offset((page - 1) * size)))


def sort_clause(sort: str | None, allowed: dict[str, Any], default: str) -> list[Any]:
    """``sort=name`` or ``sort=-created_at`` among ``allowed`` columns; id breaks ties."""
    key = sort or default
    column = allowed.get(key.lstrip("-"))
    if column is None:
        raise InvalidInput(errors={"sort": [sort_message(allowed)]})
    return [column.desc() if key.startswith("-") else column.asc()]


def sort_message(keys: Iterable[str]) -> str:
    return f"Sort by one of: {', '.join(sorted(keys))} (prefix - to reverse)."


def sort_field(keys: Iterable[str]) -> ma.fields.String:
    """A list's ``sort`` query parameter: one of ``keys``, or one prefixed with ``-``
    (descending). The document lists them (an enum); any other is a 422 naming ``sort``."""
    names = sorted(keys)
    return ma.fields.String(
        validate=validate.OneOf([*names, *(f"-{k}" for k in names)], error=sort_message(names)),
        metadata={"description": f"{', '.join(names)}; prefix - for descending"},
    )
