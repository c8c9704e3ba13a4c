"""gunicorn reads this file from the working directory on start (``wsgi:app``, any command line).

The access log stays off: the app's JSON request log is the access log, with route
templates instead of raw paths (a path can hold a postcode or a person's id). If an
access log is asked for anyway, ``PathFreeLogger`` leaves paths, queries, referrers and
addresses out of it.
"""

accesslog = None
logger_class = "agency.access_log.PathFreeLogger"
