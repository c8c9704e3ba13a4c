"""Rendered pages of the public directory and the ORUK feed, kept per change of the data.

A page's key is what the client asked for (path and query), the London date (compliance
expires by date) and :func:`agency.directory.feed_version.current`; the value is the
JSON body exactly as first sent (and the item count for list headers). A hit costs one
look-up, no serialisation, and no query at all while the counter read in the last
:data:`VERSION_TTL_S` second still stands. Each process keeps at most :data:`MAX_ENTRIES`
pages for at most :data:`MAX_AGE_S` seconds (the safety net for changes made outside
the application).
Only the public reads use it: what they show does not depend on who asks.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request
from sqlalchemy.orm import Session

from agency.directory import feed_version
from agency.directory.eligibility import london_today

MAX_ENTRIES = 512
MAX_AGE_S = 300.0
# How long a process trusts the counter it last read: a change committed by another
# process shows at most this late; one committed by this process shows at once.
VERSION_TTL_S = 1.0


class PageCache:
    def __init__(self) -> None:
        self._pages: OrderedDict[tuple[Any, ...], tuple[float, bytes, dict[str, Any]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self._version: tuple[float, int, int] | None = None  # read at, local bumps, value

    def version(self, session: Session) -> int:
        known = self._version
        now = time.monotonic()
        if known and now - known[0] < VERSION_TTL_S and known[1] == feed_version.local_bumps:
            return known[2]
        bumps = feed_version.local_bumps
        value = feed_version.current(session)
        self._version = (now, bumps, value)
        return value

    def get(self, key: tuple[Any, ...]) -> tuple[bytes, dict[str, Any]] | None:
        with self._lock:
            hit = self._pages.get(key)
            if hit is None:
                return None
            if time.monotonic() - hit[0] > MAX_AGE_S:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return hit[1], hit[2]

    def put(self, key: tuple[Any, ...], body: bytes, meta: dict[str, Any]) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic(), body, meta)
            self._pages.move_to_end(key)
            while len(self._pages) > MAX_ENTRIES:
                self._pages.popitem(last=False)


def _cache() -> PageCache:
    return current_app.extensions.setdefault("agency_page_cache", PageCache())  # type: ignore[no-any-return]


def cached_json(
    session: Session, build: Callable[[], tuple[Any, dict[str, Any]]], *extra_key: Any
) -> tuple[Response, dict[str, Any]]:
    """The JSON response for this request, from the cache or ``build()``, and its metadata.

    ``build`` returns (data already shaped by the endpoint's response schema, metadata
    such as the item count the pagination header needs); errors it raises are never
    cached.
    """
    key = (
        request.path,
        tuple(sorted(request.args.items(multi=True))),
        request.host_url,
        london_today(),
        _cache().version(session),
        *extra_key,
    )
    hit = _cache().get(key)
    if hit is None:
        data, meta = build()
        hit = (current_app.json.dumps(data).encode(), meta)
        _cache().put(key, *hit)
    body, meta = hit
    return Response(body, status=200, mimetype="application/json"), meta
