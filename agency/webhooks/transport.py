"""One webhook attempt over HTTP: a signed POST to the address checked when the endpoint was
registered (pinned, so DNS cannot move it), within one deadline for the whole exchange."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from agency.config import Settings

CONNECT_TIMEOUT_SECONDS = 5


# The whole attempt (connect, send, status line and headers) must end within this:
# a receiver that trickles a byte every few seconds never trips a per-read timeout.
TOTAL_DEADLINE_SECONDS = 10.0


USER_AGENT = "introductory-agency-webhooks/1"


class _Deadline:
    """Shuts the attempt's sockets down when its time is up, wherever the attempt is blocked."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()

    def track(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for connection in self._connections:
                sock = getattr(connection, "sock", None)
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

    def pool_classes(self) -> dict[str, type]:
        deadline = self

        class DeadlineHTTPConnection(HTTPConnection):
            def connect(self) -> None:
                deadline.track(self)
                super().connect()

        class DeadlineHTTPSConnection(HTTPSConnection):
            def connect(self) -> None:
                deadline.track(self)
                super().connect()

        class DeadlineHTTPPool(HTTPConnectionPool):
            ConnectionCls = DeadlineHTTPConnection

        class DeadlineHTTPSPool(HTTPSConnectionPool):
            ConnectionCls = DeadlineHTTPSConnection

        return {"http": DeadlineHTTPPool, "https": DeadlineHTTPSPool}


class _DeliveryAdapter(HTTPAdapter):
    """Holds the attempt to its deadline; with a pin, connects to the address we checked
    while TLS still checks the URL's host name."""

    def __init__(self, deadline: _Deadline, hostname: str | None = None) -> None:
        self._deadline = deadline
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._hostname:
            kwargs.update(server_hostname=self._hostname, assert_hostname=self._hostname)
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._deadline.pool_classes()


def post(
    url: str,
    body: bytes,
    signed: dict[str, str],
    pin: str | None = None,
    verify: bool | str = True,
    deadline_seconds: float = TOTAL_DEADLINE_SECONDS,
) -> tuple[int | None, str | None]:
    """POST once within ``deadline_seconds``; with ``pin``, connect to that address rather
    than resolving the host again."""
    parts = urlsplit(url)
    headers = {**signed, "user-agent": USER_AGENT}
    with requests.Session() as http, _Deadline(deadline_seconds) as deadline:
        http.trust_env = False  # no proxies or netrc from the environment
        hostname = None
        if pin and parts.hostname:
            address = f"[{pin}]" if ":" in pin else pin
            port = parts.port or (443 if parts.scheme == "https" else 80)
            url = urlunsplit(parts._replace(netloc=f"{address}:{port}"))
            headers["host"] = parts.netloc
            hostname = parts.hostname
        http.mount(f"{parts.scheme}://", _DeliveryAdapter(deadline, hostname))
        try:
            # stream=True and close unread: a receiver cannot make us download a large body.
            response = http.post(
                url,
                data=body,
                headers=headers,
                timeout=(min(CONNECT_TIMEOUT_SECONDS, deadline_seconds), deadline_seconds),
                allow_redirects=False,
                stream=True,
                verify=verify,
            )
            response.close()
        except requests.RequestException as error:
            return None, "deadline_exceeded" if deadline.expired else type(error).__name__
        if deadline.expired:
            return None, "deadline_exceeded"
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


@dataclass(frozen=True)
class HttpSender:
    """The webhook sender the composition root hands to deliveries: one POST per attempt."""

    deadline_seconds: float = TOTAL_DEADLINE_SECONDS
    verify: bool | str = True

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpSender:
        deadline = settings.extra.get("webhook_deadline_seconds", TOTAL_DEADLINE_SECONDS)
        return cls(deadline_seconds=float(deadline))  # type: ignore[arg-type]

    def __call__(
        self, url: str, body: bytes, signed: dict[str, str], pin: str | None = None
    ) -> tuple[int | None, str | None]:
        return post(url, body, signed, pin, self.verify, self.deadline_seconds)
