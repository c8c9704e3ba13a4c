"""gunicorn reads this file from the working directory on start (``wsgi:app``, any command line).

The access log stays off: the app's JSON request log is the access log, with route
templates instead of raw paths (a path can hold a postcode or a person's id). If an
access log is asked for anyway, ``PathFreeLogger`` leaves paths, queries, referrers and
addresses out of it.
"""

accesslog = None
logger_class = "agency.access_log.PathFreeLogger"

# gunicorn's sync worker, answering the requests gunicorn itself refuses (a request line
# over limit_request_line, headers over their limits, a line that is not HTTP) in the API's
# JSON error format, and logging them without the client's address or the line.
worker_class = "agency.web.gunicorn_worker.Worker"
# gunicorn's default, stated because the API document gives it (414 uri_too_long).
limit_request_line = 4094
