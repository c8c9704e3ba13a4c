"""gunicorn's access log without personal data: no paths, queries, referrers or addresses.

A raw path is personal data here (``GET /postcodes/BS3%204AA``, a seeker's id in
``/care-seekers/...``), and gunicorn's default access line writes it, with the query
string, the referrer and the client address. The app's own JSON request log
(``agency.web``) already records each request's method, route *template*
(``/postcodes/<postcode>``), status and duration, so gunicorn's access log is off
(``gunicorn.conf.py``). Should someone turn it on (``--access-logfile -``), this
logger class, also set there, writes those atoms as ``-``.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

# Atoms of gunicorn's access_log_format that carry a path, a query, a referrer or an address.
_SCRUBBED_ATOMS = ("U", "q", "f", "h", "{referer}i", "{x-forwarded-for}i", "{x-real-ip}i")
_SCRUBBED_ENVIRON = ("path_info", "query_string", "raw_uri", "request_uri", "remote_addr")


class PathFreeLogger(Logger):
    """gunicorn's Logger, with the access line's path-bearing atoms replaced by ``-``."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _SCRUBBED_ATOMS:
            if name in atoms:
                atoms[name] = "-"
        for name in list(atoms):
            if name.endswith("}e") and name[1:-2].lower() in _SCRUBBED_ENVIRON:
                atoms[name] = "-"
        method = environ.get("REQUEST_METHOD", "-")
        atoms["r"] = f"{method} - {environ.get('SERVER_PROTOCOL', '-')}"
        return atoms
