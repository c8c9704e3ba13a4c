"""Rendered pages of the public directory and the ORUK feed, kept per change of the data.

A page's key is what the client asked for (path and query), the London date (compliance
expires by date), :func:`agency.directory.feed_version.current` and, for a page only some
principals may read, who may read it; the value is the response exactly as first sent:
JSON body, paging headers and an ETag. Each process keeps at most :data:`MAX_ENTRIES`
pages for at most :data:`MAX_AGE_S` seconds (the safety net for changes made outside the
application).

:func:`serve_cached_pages` answers a hit before the view runs, right after authentication
(the app's hooks: 401/403 first) and the edge input check: no argument parsing, no
serialisation, no pagination header work, and no query at all while the counter read in
the last :data:`VERSION_TTL_S` second still stands. A client that sends the page's ETag
in ``If-None-Match`` gets ``304 Not Modified``. Only successful (200) pages are kept, so
a key seen before had arguments that validated and a principal that was allowed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from agency.directory import feed_version
from agency.directory.eligibility import london_today
from agency.web import autocommit_session

MAX_ENTRIES = 512
MAX_AGE_S = 300.0
# How long a process trusts the counter it last read: a change committed by another
# process shows at most this late; one committed by this process shows at once.
VERSION_TTL_S = 1.0
# Response headers that belong to the page (the rest are per request: id, CORS, ...).
PAGE_HEADERS = ("X-Pagination", "Link")


class _Page:
    __slots__ = ("at", "body", "meta", "headers", "etag")

    def __init__(self, body: bytes, meta: dict[str, Any]) -> None:
        self.at = time.monotonic()
        self.body = body
        self.meta = meta
        self.headers: list[tuple[str, str]] | None = None  # set once the response is sent
        self.etag = hashlib.blake2b(body, digest_size=12).hexdigest()  # unquoted


class PageCache:
    def __init__(self) -> None:
        self._pages: OrderedDict[tuple[Any, ...], _Page] = OrderedDict()
        self._lock = threading.Lock()
        self._version: tuple[float, int, int] | None = None  # read at, local bumps, value

    def version(self, read: Callable[[], int]) -> int:
        known = self._version
        now = time.monotonic()
        if known and now - known[0] < VERSION_TTL_S and known[1] == feed_version.local_bumps:
            return known[2]
        bumps = feed_version.local_bumps
        value = read()
        self._version = (now, bumps, value)
        return value

    def get(self, key: tuple[Any, ...]) -> _Page | None:
        with self._lock:
            hit = self._pages.get(key)
            if hit is None:
                return None
            if time.monotonic() - hit.at > MAX_AGE_S:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return hit

    def put(self, key: tuple[Any, ...], page: _Page) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > MAX_ENTRIES:
                self._pages.popitem(last=False)


def _cache() -> PageCache:
    return current_app.extensions.setdefault("agency_page_cache", PageCache())  # type: ignore[no-any-return]


def _read_version() -> int:
    # One autocommit round trip, and only once a second per process (agency.web).

    with autocommit_session() as session:
        return feed_version.current(session)


def page_key(*extra_key: Any) -> tuple[Any, ...]:
    """This request's page: path, query, host, London date, feed version, ``extra_key``."""
    return (
        request.path,
        tuple(sorted(request.args.items(multi=True))),
        request.host_url,
        london_today(),
        _cache().version(_read_version),
        *extra_key,
    )


def cached_json(
    session: Session, build: Callable[[], tuple[Any, dict[str, Any]]], *extra_key: Any
) -> tuple[Response, dict[str, Any]]:
    """The JSON response for this request, from the cache or ``build()``, and its metadata.

    ``build`` returns (data already shaped by the endpoint's response schema, metadata
    such as the item count the pagination header needs); errors it raises are never
    cached. ``extra_key`` must be what :func:`serve_cached_pages` was given for the
    endpoint (who may read the page), so both find the same page.
    """
    key = g.get("page_key") or page_key(*extra_key)
    page = _cache().get(key)
    if page is None:
        data, meta = build()
        page = _Page(current_app.json.dumps(data).encode(), meta)
        _cache().put(key, page)
    g.page_key, g.page = key, page
    response = Response(page.body, status=200, mimetype="application/json")
    response.set_etag(page.etag)
    return response, page.meta


def serve_cached_pages(blp: Blueprint, endpoints: dict[str, Callable[[], tuple[Any, ...]]]) -> None:
    """Answer GETs of ``endpoints`` (view name: who may read the page, as a key) from the cache.

    The lookup runs as ``blp``'s first hook, after the app's authentication and input
    checks; a miss runs the view, whose :func:`cached_json` fills the page, and the
    response's page headers are kept once it is sent.
    """

    @blp.before_request
    def serve_stored_page() -> Response | None:
        # The view's name, whatever blueprints ``blp`` is nested under (only its own
        # requests run its hooks).
        readers = endpoints.get((request.endpoint or "").rpartition(".")[2])
        if readers is None or request.method != "GET":
            return None
        key = page_key(*readers())
        page = _cache().get(key)
        if page is None or page.headers is None:
            g.page_key = key
            return None
        if page.etag in request.if_none_match:
            response = Response(status=304)
        else:
            response = Response(page.body, status=200, mimetype="application/json")
            for name, value in page.headers:
                response.headers[name] = value
        response.set_etag(page.etag)
        return response

    @blp.after_request
    def keep_page_headers(response: Response) -> Response:
        page = g.get("page")
        if page is not None and page.headers is None and response.status_code == 200:
            page.headers = [(h, response.headers[h]) for h in PAGE_HEADERS if h in response.headers]
        return response
