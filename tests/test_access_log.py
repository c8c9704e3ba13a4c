"""gunicorn, started with the project's gunicorn.conf.py and an access log asked for on the
command line, writes no raw path: a postcode in the URL must not reach its log lines.
(The Dockerfile's CMD asks for none: the app's JSON request log is the access log.)"""

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


def _serve_and_request(settings, *flags):  # type: ignore[no-untyped-def]
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
        _get(f"http://127.0.0.1:{port}/postcodes/BS3%204AA?near=BS3%204AA")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    return output.decode()


def _get_or_none(url):  # type: ignore[no-untyped-def]
    try:
        return _get(url)
    except OSError:
        return None


@pytest.mark.committed  # another process reads what the test wrote
def test_the_access_log_holds_no_postcode_even_when_turned_on(app, settings):
    log = _serve_and_request(settings, "--access-logfile", "-")
    assert '"GET - HTTP/1.1"' in log  # the access line is there, without its path
    assert "BS3" not in log
    assert "/postcodes/<postcode>" in log  # the app's request log names the route template


@pytest.mark.committed  # another process reads what the test wrote
def test_by_default_gunicorn_writes_no_access_line(app, settings):
    log = _serve_and_request(settings)
    assert "BS3" not in log
    assert "HTTP/1.1" not in log  # no gunicorn access line at all
