"""Deliveries connect to the address that was checked, not to a second DNS answer
(DNS rebinding), while TLS still verifies the URL's own host name."""

import subprocess

import pytest

from agency.webhooks.transport import post
from tests.webhooks.webhook_receiver import Receiver

SIGNED = {"webhook-id": "msg_test", "content-type": "application/json"}


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=hooks.test",
            "-addext",
            "subjectAltName=DNS:hooks.test",
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def test_a_pinned_delivery_never_resolves_the_host_name(receiver):
    port = receiver.server.server_address[1]
    # .invalid never resolves: only the pinned address can have been used.
    status, error = post(f"http://hooks.invalid:{port}/hooks", b"{}", SIGNED, pin="127.0.0.1")
    assert (status, error) == (200, None)
    [received] = receiver.received
    assert received.headers["host"] == f"hooks.invalid:{port}"
    assert received.path == "/hooks"


def test_tls_checks_the_urls_host_name_on_a_pinned_connection(certificate):
    cert, key = certificate
    server = Receiver().start(certfile=cert, keyfile=key)
    try:
        port = server.server.server_address[1]
        url = f"https://hooks.test:{port}/hooks"
        assert post(url, b"{}", SIGNED, pin="127.0.0.1", verify=cert) == (200, None)
        assert server.received[0].headers["host"] == f"hooks.test:{port}"
        wrong = f"https://elsewhere.test:{port}/hooks"
        status, error = post(wrong, b"{}", SIGNED, pin="127.0.0.1", verify=cert)
        assert status is None and error == "SSLError"
        assert len(server.received) == 1
    finally:
        server.stop()
