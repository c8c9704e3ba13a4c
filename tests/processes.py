"""Start the processes users start, with the commands the Dockerfile and Makefile give.

Shared by tests/test_processes.py and tests/acceptance/: each command is read from
the file that documents it (the Dockerfile's CMD, the Makefile's recipe), so a
test runs exactly what a user runs. Only the bind address of gunicorn is changed
(a free loopback port instead of 0.0.0.0:8000).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
STEP_TIMES: list[tuple[str, float]] = []  # (step, seconds) of the acceptance journey


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dockerfile_command(port: int) -> list[str]:
    """The Dockerfile's CMD (gunicorn), bound to 127.0.0.1:``port``."""
    text = (ROOT / "Dockerfile").read_text()
    [cmd] = re.findall(r"^CMD (\[.*\])$", text, flags=re.M)
    command = json.loads(cmd)
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    return command


def make_command(target: str) -> str:
    """``make <target>`` as a user types it; the install step is taken as done (-o)."""
    return f"make --no-print-directory -o .venv/.installed {target}"


def fresh_env(**settings: str) -> dict[str, str]:
    """A fresh shell's environment: PATH and HOME, the venv first, then only ``settings``."""
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        # The checkout under test (the same as the editable install in a clone; it matters
        # only when a copy of the tree is tested with another checkout's virtualenv).
        "PYTHONPATH": str(ROOT),
    }
    env.update({k: v for k, v in settings.items() if v is not None})
    return env


def start(command: list[str] | str, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start ``command`` (a shell line when a string) in its own process group."""
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process (see stop)
    process = subprocess.Popen(
        ["bash", "-c", command] if isinstance(command, str) else command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log_file = log  # type: ignore[attr-defined]
    return process


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the whole group (a warm shutdown), SIGKILL if it lingers."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
    # Children left behind (a work horse) go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.log_file.close()  # type: ignore[attr-defined]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def http_status(url: str, timeout: float = 3) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def children_of(pid: int, own_group: bool = False) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc); with ``own_group``, only those that
    lead a process group of their own (RQ's work horse does, its scheduler does not)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and (not own_group or int(fields[2]) == int(entry.name)):
            found.append(int(entry.name))
    return found


class TricklingReceiver:
    """An HTTP receiver on loopback that answers one byte every ``interval`` seconds."""

    def __init__(self, interval: float = 1.0, total_seconds: float = 40) -> None:
        self.interval = interval
        self.total_seconds = total_seconds
        self.connections = 0
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self.port = self._server.getsockname()[1]
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + b"X-Slow: " + b"." * 200
        started = time.monotonic()
        with connection:
            try:
                connection.recv(65536)
                for byte in answer:
                    if self._stopped.is_set() or time.monotonic() - started > self.total_seconds:
                        return
                    connection.sendall(bytes([byte]))
                    time.sleep(self.interval)
            except OSError:
                return

    def stop(self) -> None:
        self._stopped.set()
        self._server.close()
