"""gunicorn, started with the project's gunicorn.conf.py and an access log asked for on the
command line, writes no raw path: a postcode in the URL must not reach its log lines.
(The Dockerfile's CMD asks for none: the app's JSON request log is the access log.)
What gunicorn refuses itself (a request line too long, a line that is not HTTP) is answered
in the API's JSON error format and logged without the client's address or the line."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def _free_port():  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):  # type: ignore[no-untyped-def]
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _get_postcode(port):  # type: ignore[no-untyped-def]
    return _get(f"http://127.0.0.1:{port}/postcodes/BS3%204AA?near=BS3%204AA")


def _serve_and_request(settings, *flags, send=_get_postcode):  # type: ignore[no-untyped-def]
    """gunicorn's whole output, and what ``send(port)`` returned while it served."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "LOG_LEVEL": "INFO"}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", *flags, "wsgi:app"],
        cwd=ROOT,  # where gunicorn finds gunicorn.conf.py, as in the image's working directory
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while _get_or_none(f"http://127.0.0.1:{port}/health/live") != 200:
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        sent = send(port)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    return output.decode(), sent


def _get_or_none(url):  # type: ignore[no-untyped-def]
    try:
        return _get(url)
    except OSError:
        return None


@pytest.mark.committed  # another process reads what the test wrote
def test_the_access_log_holds_no_postcode_even_when_turned_on(app, settings):
    log, _ = _serve_and_request(settings, "--access-logfile", "-")
    assert '"GET - HTTP/1.1"' in log  # the access line is there, without its path
    assert "BS3" not in log
    assert "/postcodes/<postcode>" in log  # the app's request log names the route template


@pytest.mark.committed  # another process reads what the test wrote
def test_by_default_gunicorn_writes_no_access_line(app, settings):
    log, _ = _serve_and_request(settings)
    assert "BS3" not in log
    assert "HTTP/1.1" not in log  # no gunicorn access line at all


def _raw(port, request_line):  # type: ignore[no-untyped-def]
    """Send one request line as bytes (no client library would send a broken one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request_line + b"\r\nHost: localhost\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *headers = head.decode("latin-1").split("\r\n")
    return int(status_line.split()[1]), headers, json.loads(body)


@pytest.mark.committed  # another process reads what the test wrote
def test_what_gunicorn_refuses_is_answered_in_json_and_logged_without_the_line(app, settings):
    long_query = b"GET /directory/providers?outcode=BS3&page=" + b"9" * 5000 + b" HTTP/1.1"
    lines = (
        long_query,
        b"GET /postcodes/BS3 4AA HTTP/1.1",
        b"GET /care-seekers/skr_7\x01 HTTP/1.1",
        b"GET /health/live HTTP/1.1\r\nX-Long: " + b"a" * 9000,  # one header past 8,190 bytes
    )
    log, answers = _serve_and_request(
        settings, "--access-logfile", "-", send=lambda port: [_raw(port, line) for line in lines]
    )
    (status, headers, body), *broken, too_large = answers
    assert status == 414 and "Content-Type: application/json" in headers
    assert body == {
        "code": "uri_too_long",
        "message": "The request line (method, path and query string) is too long.",
        "status": 414,
    }
    for status, headers, body in broken:
        assert status == 400 and "Content-Type: application/json" in headers
        assert body["code"] == "bad_request" and body["status"] == 400
    assert too_large[0] == 431 and too_large[2]["code"] == "headers_too_large"
    assert log.count("Refused a request gunicorn could not read") == 4
    # gunicorn's own warning quotes the client's address and the line: neither is logged.
    assert "BS3" not in log and "4AA" not in log and "skr_7" not in log and "ip=" not in log
