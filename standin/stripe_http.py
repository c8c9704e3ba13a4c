"""The stand-in's HTTP face: parse a request, ask :class:`StripeStandin`, answer like Stripe."""

from __future__ import annotations

import contextlib
import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from standin.stripe_wire import API_VERSION, StripeFailure, decode_form
from standin.stripe_wire import new_id as _new

if TYPE_CHECKING:
    from standin.stripe_server import StripeStandin


def handler_for(standin: StripeStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, each response would
        # wait ~40 ms for the client's delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return  # quiet: tests read standin.requests instead

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            if method == "GET" and url.path.startswith("/onboarding/"):
                standin.complete_onboarding(url.path.rsplit("/", 1)[1])
                return self._send(200, {"object": "onboarding", "completed": True}, {})
            params = decode_form(
                parse_qsl(url.query if method == "GET" else raw, keep_blank_values=True)
            )
            fault = None
            try:
                status, body, extra, fault = standin.handle(method, url.path, params, self.headers)
            except StripeFailure as failure:
                status, body, extra = failure.status, failure.body, {}
            if fault == "drop_after_commit":
                self.close_connection = True
                self.connection.close()
                return
            if fault == "timeout_after_commit":
                time.sleep(standin.hang_seconds)
            elif standin.transfer_answer_delay and (method, url.path) == ("POST", "/v1/transfers"):
                time.sleep(standin.transfer_answer_delay)
            with contextlib.suppress(OSError):  # the client may have given up waiting
                self._send(status, body, extra)

        def _send(self, status: int, body: dict[str, Any], extra: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", _new("req"))
            self.send_header("Stripe-Version", API_VERSION)
            if self.headers.get("Idempotency-Key"):
                self.send_header("Idempotency-Key", self.headers["Idempotency-Key"])
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve("DELETE")

    return Handler
