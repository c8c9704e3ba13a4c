"""Periodic jobs for `rq cron agency/cron.py --url $REDIS_URL` (RQ's own cron scheduler).

Without Redis, call the same work from the system's cron: `flask --app wsgi replan`.
"""

import os

from rq import cron

from agency.jobs.periodic import replan_all_agencies

QUEUE = os.environ.get("RQ_QUEUE", "agency")

# Re-plan all open requests of every agency against provider capacity, hourly.
cron.register(replan_all_agencies, queue_name=QUEUE, cron="7 * * * *", name="replan-all-agencies")
