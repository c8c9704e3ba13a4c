"""Schemathesis' own CLI (``st run ...``), with ``ast.parse`` serialised across threads.

CPython 3.11 keeps the AST builder's recursion depth in interpreter-wide state (see
python/cpython#106905 and #95185), so two threads parsing source at the same moment can
make one of them raise ``SystemError: AST constructor recursion depth mismatch``. With
``--workers 2`` schemathesis' generator threads do exactly that: Hypothesis parses a
lambda's source to describe each ``.filter(...)`` it builds. A lock around ``ast.parse``
removes the race and changes nothing else; the CLI, its options and its checks are the
released ones.
"""

from __future__ import annotations

import ast
import sys
import threading
from typing import Any

_parse = ast.parse
_lock = threading.Lock()


def _serialised_parse(*args: Any, **kwargs: Any) -> Any:
    with _lock:
        return _parse(*args, **kwargs)


if __name__ == "__main__":
    ast.parse = _serialised_parse  # type: ignore[assignment]
    from schemathesis.cli import schemathesis

    sys.argv[0] = "st"
    sys.exit(schemathesis())
