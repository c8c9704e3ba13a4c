"""Periodic jobs for `rq cron agency/cron.py --url $REDIS_URL` (RQ's own cron scheduler).

Without Redis, call the same work from the system's cron:
`flask --app wsgi replan` (hourly), `expire-introductions` (every 5 minutes),
`deliver-due-webhooks` (every minute).
"""

import os

from rq import cron

from agency.jobs.periodic import enqueue_periodic, replan_all_agencies

QUEUE = os.environ.get("RQ_QUEUE", "agency")

# Re-plan all open requests of every agency against provider capacity, hourly.
cron.register(replan_all_agencies, queue_name=QUEUE, cron="7 * * * *", name="replan-all-agencies")
# Introductions the provider did not answer in time expire (the manager may introduce another).
cron.register(
    enqueue_periodic,
    queue_name=QUEUE,
    args=("expire_introductions",),
    interval=300,
    name="expire-introductions",
)
# Webhook deliveries whose retry is due (the sweeper: no event is lost if a worker died).
cron.register(
    enqueue_periodic,
    queue_name=QUEUE,
    args=("deliver_due_webhooks",),
    interval=60,
    name="deliver-due-webhooks",
)
