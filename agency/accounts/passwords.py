"""Which new passwords we accept: NIST SP 800-63B (section 3.1.1.2), not composition rules.

- at least ``MIN_PASSWORD_LENGTH`` characters and at most ``MAX_PASSWORD_LENGTH``
  (any characters, spaces included: pass phrases are welcome);
- not a common or breached password: the shipped list (``data/README.md`` names its
  source and licence), compared case-insensitively, also once trailing digits and
  symbols are removed (``monkey12345678`` is ``monkey`` with a counter);
- not built from context: the account's email address or its name part (the part
  before the @), names given with it, or the service's own name.
No rules about digits, capitals or symbols, and no forced expiry (NIST advises against
both: they push people to predictable patterns).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200  # the sign-in schema's limit; well above NIST's 64
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"
# The service's own names: "agency" is what people type when asked for one here.
SERVICE_WORDS = ("agency", "introductory", "makeitlocal", "make it local")
_TRAILING_NOISE = re.compile(r"[\W\d_]+\Z")
_SEPARATORS = re.compile(r"[\W_]+")


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _squashed(text: str) -> str:
    return _SEPARATORS.sub("", text.casefold())


def _context_words(email: str | None, names: Iterable[str]) -> set[str]:
    words = {_squashed(w) for w in SERVICE_WORDS}
    if email:
        local = email.casefold().partition("@")[0]
        words |= {_squashed(email), _squashed(local)}
        words |= {_squashed(part) for part in re.split(r"[._+-]", local)}
    for name in names:
        words |= {_squashed(name), *(_squashed(part) for part in name.split())}
    return {w for w in words if len(w) >= 4}


def password_problems(
    password: str, *, email: str | None = None, names: Iterable[str] = ()
) -> list[str]:
    """Why ``password`` is refused ([] when it is fine), in words a user can act on."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"Use at least {MIN_PASSWORD_LENGTH} characters (a few words make a good one)."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Use at most {MAX_PASSWORD_LENGTH} characters."]
    lowered = password.casefold().strip()
    common = common_passwords()
    if lowered in common or _TRAILING_NOISE.sub("", lowered) in common:
        return ["This password is on a list of common or breached passwords; choose another."]
    squashed = _squashed(password)
    if any(word in squashed for word in _context_words(email, names)):
        return [
            "Do not build the password from your email address, your name or the "
            "service's name; choose something others could not guess from them."
        ]
    return []
