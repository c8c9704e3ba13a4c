"""Periodic jobs for `rq cron agency/cron.py --url $REDIS_URL` (RQ's own cron scheduler).

What breaks without it: no hourly re-plan (requests keep their first ranking),
introductions never expire (a provider who never answers blocks the request),
webhook retries wait for the next state change, and jobs written while Redis was
down stay queued until a worker restarts. Without Redis, call the same work from
the system's cron: `flask --app wsgi replan` (hourly), `expire-introductions`
(every 5 minutes), `deliver-due-webhooks` (every minute), `plan-visits` (hourly),
`mark-missed-visits` (every 5 minutes).

Each entry is a small RQ job on the queue of the work it starts; the work itself is
recorded as an ordinary job (a row in `jobs`), visible and retried like any other.
Those run within RQ's default job timeout (180 s). The audit checkpoint is the exception:
it does its work in the cron job itself, and the first checkpoint of a long chain walks the
whole chain, so it gets ``CHECKPOINT_TIMEOUT_SECONDS``.
"""

from rq import cron

from agency.audit.checkpoints import checkpoint_job
from agency.bootstrap import routes_for
from agency.config import Settings
from agency.worker import enqueue_periodic, replan_all_agencies, sweep_jobs

_routes = routes_for(Settings.from_env())
MATCHING = _routes.queue_of_kind("matching")
WEBHOOKS = _routes.queue_of_kind("webhooks")
PAYMENTS = _routes.queue_of_kind("payments")
# The checkpoint's walk costs about 50 us an entry: an hourly increment is milliseconds, a
# first (full) walk is some 100 s per year of a city's chain (two million entries). 30
# minutes walks some 36 million entries, and stays well inside the hour, so one run ends
# (or is stopped by RQ, and fails visibly) before the next is due. Longer: write the first
# checkpoint with `flask audit-checkpoint` from a shell, which has no timeout.
CHECKPOINT_TIMEOUT_SECONDS = 30 * 60

# Re-plan all open requests of every agency against provider capacity, hourly.
cron.register(
    replan_all_agencies, queue_name=MATCHING, cron="7 * * * *", name="replan-all-agencies"
)
# Introductions the provider did not answer in time expire (the manager may introduce another).
cron.register(
    enqueue_periodic,
    queue_name=MATCHING,
    args=("expire_introductions",),
    interval=300,
    name="expire-introductions",
)
# Webhook deliveries whose retry is due (the sweeper: no event is lost if a worker died).
cron.register(
    enqueue_periodic,
    queue_name=WEBHOOKS,
    args=("deliver_due_webhooks",),
    interval=60,
    name="deliver-due-webhooks",
)
# Planned visits reach four weeks ahead; unlogged ones become missed and partners are told.
cron.register(
    enqueue_periodic,
    queue_name=MATCHING,
    args=("visits.plan_horizon",),
    cron="23 * * * *",
    name="plan-visits",
)
cron.register(
    enqueue_periodic,
    queue_name=MATCHING,
    args=("visits.mark_missed",),
    interval=300,
    name="mark-missed-visits",
)
# The outbox sweep: jobs written while Redis was down are sent; jobs RQ gave up on
# (a killed work horse, retries spent) are recorded failed. On the first queue: it is quick.
cron.register(sweep_jobs, queue_name=PAYMENTS, interval=60, name="sweep-jobs")
# A signed checkpoint of the audit chain's head in AUDIT_CHECKPOINT_DIR (ship it elsewhere):
# `verify-audit` then catches deleted newest entries and a re-chained history.
cron.register(
    checkpoint_job,
    queue_name=PAYMENTS,
    cron="17 * * * *",
    job_timeout=CHECKPOINT_TIMEOUT_SECONDS,
    name="audit-checkpoint",
)
