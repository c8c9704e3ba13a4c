"""Pseudonyms for what auditors see: stable per seeker, meaningless outside this service."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(secret_key: str, object_id: str, prefix: str = "P") -> str:
    digest = hmac.new(secret_key.encode(), object_id.encode(), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:10].upper()}"
