"""A webhook attempt has a total deadline: a receiver that trickles bytes cannot hold it."""

import time

from agency.webhooks.transport import post
from tests.processes import TricklingReceiver

SIGNED = {"webhook-id": "msg_1", "webhook-timestamp": "0", "webhook-signature": "v1,x"}


def test_a_trickling_receiver_fails_the_attempt_at_the_total_deadline():
    receiver = TricklingReceiver(interval=0.5)  # each byte well inside any per-read timeout
    try:
        started = time.monotonic()
        status, error = post(receiver.url, b"{}", SIGNED, deadline_seconds=2)
        elapsed = time.monotonic() - started
    finally:
        receiver.stop()
    assert (status, error) == (None, "deadline_exceeded")
    assert 1.9 < elapsed < 3.5


def test_a_prompt_receiver_is_unaffected_by_the_deadline():
    from tests.webhooks.webhook_receiver import Receiver

    receiver = Receiver().start()
    try:
        assert post(receiver.url, b"{}", SIGNED, deadline_seconds=2) == (200, None)
    finally:
        receiver.stop()
