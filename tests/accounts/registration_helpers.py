"""Reading what registration mailed: the .eml files of the outbox mailer."""

from __future__ import annotations

import email
import re
from email.message import Message
from pathlib import Path

TOKEN = re.compile(r"\birg_[A-Za-z0-9_-]+")


def outbox(directory: str | Path) -> list[Message]:
    paths = sorted(Path(directory).glob("*.eml"))
    return [email.message_from_bytes(path.read_bytes()) for path in paths]


def mailed_token(directory: str | Path, to: str) -> str:
    """The confirmation code in the latest message to ``to``."""
    for message in reversed(outbox(directory)):
        if message["To"] == to:
            found = TOKEN.search(message.get_payload(decode=True).decode())
            assert found, message.get_payload()
            return found.group(0)
    raise AssertionError(f"nothing was mailed to {to}")
