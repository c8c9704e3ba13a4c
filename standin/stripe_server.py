"""A local Stripe stand-in: the endpoints the agency uses, answered the way Stripe answers.

Run it alone::

    python -m standin.stripe_server --port 12111 --webhook-url http://127.0.0.1:5000/webhooks/stripe

and point the API at it: ``STRIPE_API_KEY=sk_test_standin STRIPE_API_BASE=http://127.0.0.1:12111
STRIPE_WEBHOOK_SECRET=whsec_standin``. In tests, use :class:`StripeStandin` directly.

What it does as Stripe does (https://docs.stripe.com/api):
- ``POST /v1/accounts`` (Express), ``GET /v1/accounts/{id}``, ``POST /v1/account_links``,
  ``POST /v1/transfers``, ``GET /v1/transfers`` (newest first; ``limit``,
  ``starting_after``, ``has_more``; filters ``destination``, ``transfer_group`` and
  ``created`` as a timestamp or ``created[gt|gte|lt|lte]``),
  ``GET /v1/balance``, ``GET /v1/events``; form-encoded bodies with ``a[b]=c`` nesting;
  ``object`` fields, ``acct_``/``tr_``/``evt_``/``req_`` ids, ``Request-Id`` headers;
- errors as ``{"error": {"type", "code", "message", "param"}}`` with Stripe's statuses;
- idempotency: a POST with an ``Idempotency-Key`` it has seen gets the stored status and
  body back (``Idempotent-Replayed: true``), including stored errors; the same key with
  different parameters gets 400 ``idempotency_error``; a key still in flight gets 409.
  Rate-limited requests are not stored (Stripe refuses them before executing);
- webhooks: events signed ``Stripe-Signature: t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<body>")``
  with the stripe library's own ``WebhookSignature`` helper.

Faults to test against: :meth:`StripeStandin.fail_next` with ``balance_insufficient``,
``rate_limit`` (429), ``api_error`` (500), ``timeout_after_commit`` (the transfer is made,
then the answer comes too late) or ``drop_after_commit`` (made, then the connection closes).
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from standin.stripe_events import StripeEvents
from standin.stripe_http import handler_for
from standin.stripe_resources import StripeResources
from standin.stripe_wire import API_VERSION, StripeFailure, decode_form

__all__ = ["API_VERSION", "FAULTS", "StripeFailure", "StripeStandin", "decode_form"]
FAULTS = frozenset(
    {"balance_insufficient", "rate_limit", "api_error", "timeout_after_commit", "drop_after_commit"}
)

_NO_FAULT = "none"  # a placeholder in the queue: answer this request normally


@dataclass
class Fault:
    kind: str
    path: str


@dataclass
class StripeStandin(StripeEvents, StripeResources):
    """The stand-in's state and its HTTP server (``start()``/``stop()``, or ``with``)."""

    webhook_secret: str = "whsec_standin"  # noqa: S105 - a test secret
    webhook_url: str | None = None
    auto_deliver: bool = False
    available_pence: int = 10**12
    hang_seconds: float = 2.0
    # Seconds a created transfer's answer is held back (the transfer exists already), as a
    # slow Stripe would: lets a test kill a payment run between Stripe's commit and ours.
    transfer_answer_delay: float = 0.0
    port: int = 0
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    undelivered: deque[dict[str, Any]] = field(default_factory=deque)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    _idempotency: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    _in_flight: set[str] = field(default_factory=set)
    _faults: deque[Fault] = field(default_factory=deque)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    # Held while events go out one by one, so they arrive in order; never with ``_lock``.
    _delivering: threading.Lock = field(default_factory=threading.Lock)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> StripeStandin:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StripeStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- test controls --------------------------------------------------------------------

    def fail_next(
        self, kind: str, times: int = 1, path: str = "/v1/transfers", after: int = 0
    ) -> None:
        """Make ``times`` POSTs to ``path`` fail with ``kind`` (see FAULTS), once ``after``
        more have been answered normally."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind}; one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.extend(Fault(_NO_FAULT, path) for _ in range(after))
            self._faults.extend(Fault(kind, path) for _ in range(times))

    def transfer_count(self, transfer_group: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for t in self.transfers
                if transfer_group is None or t["transfer_group"] == transfer_group
            )

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The provider finished Stripe's onboarding: the account can now receive transfers."""
        with self._lock:
            account = self.accounts[account_id]
            account.update(details_submitted=True, payouts_enabled=True, charges_enabled=True)
            account["capabilities"] = {"transfers": "active"}
        # Outside the lock: the receiver reads the account back from us (as it does from Stripe).
        return self.emit("account.updated", account)

    def reverse_transfer(self, transfer_id: str) -> dict[str, Any]:
        with self._lock:
            transfer = next(t for t in self.transfers if t["id"] == transfer_id)
            transfer.update(reversed=True, amount_reversed=transfer["amount"])
            self.available_pence += transfer["amount"]
        return self.emit("transfer.reversed", transfer)

    # --- the API ------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, params: dict[str, Any], headers: Any
    ) -> tuple[int, dict[str, Any], dict[str, str], str | None]:
        """(status, body, extra headers, fault to act out after answering is decided)."""
        if not (headers.get("Authorization") or "").startswith("Bearer sk_"):
            raise StripeFailure(
                401,
                "invalid_request_error",
                "You did not provide an API key. You need to provide your API "
                "key in the Authorization header, using Bearer auth.",
            )
        key = headers.get("Idempotency-Key") if method == "POST" else None
        fingerprint = json.dumps([method, path, params], sort_keys=True)
        with self._lock:
            self.requests.append((method, path, key))
            if key is not None:
                if key in self._in_flight:
                    raise StripeFailure(
                        409,
                        "idempotency_error",
                        "There is currently another in-progress request using this "
                        "Idempotent Key (that probably means you submitted twice, and the "
                        "other request is still going through): " + key,
                    )
                stored = self._idempotency.get(key)
                if stored is not None:
                    if stored[0] != fingerprint:
                        raise StripeFailure(
                            400,
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same "
                            f"parameters they were first used with. Try using a key other than "
                            f"'{key}' if you meant to execute a different request.",
                        )
                    return stored[1], stored[2], {"Idempotent-Replayed": "true"}, None
                self._in_flight.add(key)
            fault = None
            if method == "POST" and self._faults and self._faults[0].path == path:
                fault = self._faults.popleft().kind
                fault = None if fault == _NO_FAULT else fault
        try:
            if fault == "rate_limit":  # refused before executing: nothing stored
                raise StripeFailure(
                    429,
                    "invalid_request_error",
                    "Too many requests hit the API too quickly.",
                    "rate_limit",
                )
            try:
                if fault == "api_error":
                    raise StripeFailure(
                        500, "api_error", "An unknown error occurred while processing your request."
                    )
                if fault == "balance_insufficient":
                    raise StripeFailure(
                        400,
                        "invalid_request_error",
                        "You have insufficient available funds in your Stripe account. Try "
                        "adding funds directly to your available balance.",
                        "balance_insufficient",
                    )
                status, body = self._route(method, path, params, key)
            except StripeFailure as failure:
                status, body = failure.status, failure.body
            if key is not None:
                with self._lock:
                    self._idempotency[key] = (fingerprint, status, body)
            return status, body, {}, fault
        finally:
            if key is not None:
                with self._lock:
                    self._in_flight.discard(key)

    def _route(
        self, method: str, path: str, params: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        match method, parts:
            case "POST", ["v1", "accounts"]:
                return 200, self._create_account(params)
            case "GET", ["v1", "accounts", account_id]:
                return 200, self._account(account_id)
            case "POST", ["v1", "account_links"]:
                return 200, self._account_link(params)
            case "POST", ["v1", "transfers"]:
                return 200, self._create_transfer(params, key)
            case "GET", ["v1", "transfers"]:
                return 200, self._page(
                    self.transfers, "/v1/transfers", params, ("destination", "transfer_group")
                )
            case "GET", ["v1", "transfers", transfer_id]:
                return 200, self._find(self.transfers, transfer_id, "transfer")
            case "GET", ["v1", "balance"]:
                return 200, self._balance()
            case "GET", ["v1", "events"]:
                return 200, self._page(self.events, "/v1/events", params, ("type",))
            case "GET", ["v1", "events", event_id]:
                return 200, self._find(self.events, event_id, "event")
        raise StripeFailure(
            404, "invalid_request_error", f"Unrecognized request URL ({method}: {path})."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--webhook-secret", default="whsec_standin")
    parser.add_argument(
        "--transfer-answer-delay",
        type=float,
        default=0.0,
        help="seconds to hold back the answer to each created transfer (a slow Stripe)",
    )
    args = parser.parse_args()
    standin = StripeStandin(
        webhook_secret=args.webhook_secret,
        webhook_url=args.webhook_url,
        auto_deliver=bool(args.webhook_url),
        port=args.port,
        transfer_answer_delay=args.transfer_answer_delay,
    )
    standin.start()
    print(f"Stripe stand-in on {standin.url} (webhooks -> {args.webhook_url or 'nowhere'})")
    try:
        standin._thread.join()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
