"""Standard Webhooks signatures (https://www.standardwebhooks.com), in a few lines of hmac.

The secret is ``whsec_`` + base64 of random bytes; the key is those bytes. The
signature is base64(HMAC-SHA256(key, f"{msg_id}.{timestamp}.{body}")), sent as
``webhook-signature: v1,<signature>`` (space-separated when several keys sign).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secrets_in_use: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_in_use),
        "content-type": "application/json",
    }
