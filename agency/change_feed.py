"""Which care requests changed since this process last looked: PostgreSQL's notifications.

Triggers send ``NOTIFY agency_care_request_changed, '<care request id>'`` for every
committed change to a care request or its suggestions (migration ``0031changefeed``), and
``NOTIFY agency_credentials_changed`` for every change to what a credential stands for
(``0032credentialfeed``: :mod:`agency.accounts.credential_cache` forgets them all). Each
web process listens on a connection of its own and, before it trusts anything it kept
about a request, reads what has arrived on that connection's socket: no round trip to the
server, well under a microsecond when nothing has. A kept answer is trusted only when:

- the process was listening before it was read (a new or lost connection voids all);
- no notification for its request has arrived since;
- it is younger than :data:`MAX_AGE_S` (the safety net should notifications stop without
  the connection saying so; TCP keepalives close a silent one within about half a minute).

PostgreSQL sends a notification when its transaction commits, so an answer can be older
than a commit only for the instant the notification takes to reach the socket.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

from sqlalchemy.engine import make_url

CHANNEL = "agency_care_request_changed"  # payload: the care request's id
CREDENTIALS_CHANNEL = "agency_credentials_changed"  # migration 0032credentialfeed
# The key of credential changes among the request ids :meth:`ChangeFeed.current` is asked of.
CREDENTIALS = "*credentials"
MAX_AGE_S = 30.0
RETRY_S = 5.0  # after a failed connection, how long to read without listening
_MAX_CHANGED = 10_000
_CHANNEL = CHANNEL.encode()

log = logging.getLogger(__name__)


class ChangeFeed:
    """One process's listening connection and the requests it has heard of (see module)."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._connection: Any = None
        self._pid = 0
        self._retry_at = 0.0
        self._seen = 0  # notifications read so far (a clock for kept answers)
        self._since = 0  # answers read before this are void (a connection was lost)
        self._changed: dict[str, int] = {}  # request id -> _seen when last heard of
        self._lock = threading.Lock()  # threaded servers: one reader of the socket at a time
        # A connection inherited through fork is the parent's: never closed (nor collected,
        # which would close it) here.
        self._inherited: list[Any] = []

    def mark(self) -> int | None:
        """Read what has arrived; the clock to keep an answer read from now on under, or
        None when not listening (read, but keep nothing)."""
        with self._lock:
            return self._mark()

    def _mark(self) -> int | None:
        if self._connection is not None and self._pid != os.getpid():
            self._inherited.append(self._connection)
            self._connection = None
        if self._connection is None and not self._listen():
            return None
        try:
            pgconn = self._connection.pgconn
            # Twice: a server that closed the connection sends its error, then the end.
            pgconn.consume_input()
            pgconn.consume_input()
            while (notification := pgconn.notifies()) is not None:
                self._seen += 1
                about = notification.extra.decode() if notification.relname == _CHANNEL else None
                self._changed[about or CREDENTIALS] = self._seen
        except Exception as error:  # noqa: BLE001 - read without listening until back
            log.warning("change feed lost", extra={"error_type": type(error).__name__})
            self._drop()
            return None
        if len(self._changed) > _MAX_CHANGED:
            self._changed.clear()
            self._since = self._seen = self._seen + 1
        return self._seen

    def current(self, about: str, mark: int, read_at: float) -> bool:
        """Whether an answer about ``about`` (a care request's id, or :data:`CREDENTIALS`)
        read under ``mark`` still holds (call :meth:`mark` first, in the same request)."""
        return (
            mark >= self._since
            and self._changed.get(about, 0) <= mark
            and time.monotonic() - read_at < MAX_AGE_S
            and self._connection is not None
        )

    def _listen(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        import psycopg

        try:
            connection = psycopg.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=2,
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
            )
            connection.execute(f"LISTEN {CHANNEL}")
            connection.execute(f"LISTEN {CREDENTIALS_CHANNEL}")
        except Exception as error:  # noqa: BLE001 - read without listening for a while
            log.warning("change feed not listening", extra={"error_type": type(error).__name__})
            self._retry_at = time.monotonic() + RETRY_S
            return False
        self._connection, self._pid = connection, os.getpid()
        self._changed.clear()
        self._since = self._seen = self._seen + 1  # what was kept before is void
        return True

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # it is gone either way
                connection.close()
        self._since = self._seen = self._seen + 1


def change_feed(app: Any) -> ChangeFeed | None:
    """``app``'s feed (one per process), or None: not PostgreSQL, or ``CHANGE_FEED`` off."""
    feed = app.extensions.get("agency.change_feed", False)
    if feed is False:
        settings = app.extensions["agency"].settings
        on = settings.change_feed and settings.database_url.startswith("postgresql")
        feed = ChangeFeed(settings.database_url) if on else None
        app.extensions["agency.change_feed"] = feed
    return feed  # type: ignore[no-any-return]
