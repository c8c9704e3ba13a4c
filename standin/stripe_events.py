"""The stand-in's events and webhooks: events recorded as Stripe records them, signed as
Stripe signs them, delivered to the webhook URL in order (or by a test, on demand).

A mixin of :class:`standin.stripe_server.StripeStandin`, which holds the state and the lock.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from typing import Any

from stripe import WebhookSignature

from standin.stripe_wire import API_VERSION
from standin.stripe_wire import new_id as _new

log = logging.getLogger("standin.stripe_server")


class StripeEvents:
    webhook_secret: str
    webhook_url: str | None
    auto_deliver: bool
    events: list[dict[str, Any]]
    undelivered: deque[dict[str, Any]]
    _lock: threading.RLock
    _delivering: threading.Lock

    def emit(
        self, type_: str, obj: dict[str, Any], request: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        event = {
            "id": _new("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "type": type_,
            "livemode": False,
            "pending_webhooks": 1,
            "request": request or {"id": None, "idempotency_key": None},
            "data": {"object": json.loads(json.dumps(obj))},
        }
        with self._lock:
            self.events.append(event)
            self.undelivered.append(event)
        if self.auto_deliver and self.webhook_url:
            # Like Stripe, after the request that caused it and on another thread: the
            # receiver may call back into the stand-in before answering.
            threading.Thread(target=self._deliver_to_webhook_url, daemon=True).start()
        return event

    def _deliver_to_webhook_url(self) -> None:
        with self._delivering:
            try:
                self.deliver_pending(self.post_to_webhook_url)
            except OSError as error:  # the API is down: the next event retries the backlog
                log.warning("webhook delivery failed: %s", error)

    def signed(
        self, event: dict[str, Any], timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers Stripe would send for ``event``."""
        payload = json.dumps(event)
        header = WebhookSignature.generate_signature_header(
            payload, self.webhook_secret, timestamp=timestamp or int(time.time())
        )
        return payload.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}

    def deliver_pending(self, send: Callable[[bytes, dict[str, str]], Any]) -> list[Any]:
        """Send every not-yet-delivered event, oldest first, through ``send(body, headers)``."""
        answers = []
        while True:
            with self._lock:
                if not self.undelivered:
                    return answers
                event = self.undelivered.popleft()
            try:
                answers.append(send(*self.signed(event)))
            except Exception:
                with self._lock:
                    self.undelivered.appendleft(event)
                raise

    def post_to_webhook_url(self, body: bytes, headers: dict[str, str]) -> int:
        assert self.webhook_url
        request = urllib.request.Request(self.webhook_url, data=body, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
