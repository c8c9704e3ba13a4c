"""Opaque, prefixed identifiers for everything the API exposes.

A prefix tells a reader what kind of object an id names (``agy_`` an agency,
``prv_`` a provider); the random part carries 96 bits, so ids cannot be guessed
or enumerated, unlike sequential integers.
"""

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"
