"""The stand-in delivers webhooks outside its lock, as Stripe does: the receiver may call back."""

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standin.stripe_server import StripeStandin
from tests.isf.stripe_fixtures import API_KEY


def _receiver(standin_url: str, seen: list, arrived: threading.Event):
    """A webhook receiver that reads the account back from the stand-in before answering."""

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_POST(self):  # noqa: N802
            event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            account_id = event["data"]["object"]["id"]
            request = urllib.request.Request(
                f"{standin_url}/v1/accounts/{account_id}",
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                seen.append((event["type"], json.load(answer)["payouts_enabled"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            arrived.set()

    return ThreadingHTTPServer(("127.0.0.1", 0), Receiver)


def test_visiting_the_onboarding_link_delivers_account_updated_to_a_receiver_that_calls_back():
    seen: list = []
    arrived = threading.Event()
    standin = StripeStandin(auto_deliver=True).start()
    receiver = _receiver(standin.url, seen, arrived)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    standin.webhook_url = f"http://127.0.0.1:{receiver.server_address[1]}/webhooks/stripe"
    try:
        request = urllib.request.Request(
            f"{standin.url}/v1/accounts",
            data=b"type=express&country=GB",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            account_id = json.load(answer)["id"]
        # The provider opens the onboarding link; the page must answer while the event is out.
        with urllib.request.urlopen(f"{standin.url}/onboarding/{account_id}", timeout=5) as page:  # noqa: S310
            assert page.status == 200
        assert arrived.wait(5)
        assert seen == [("account.updated", True)]
    finally:
        receiver.shutdown()
        standin.stop()
