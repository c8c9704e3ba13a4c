"""A report that outgrows the web's statement timeout, computed by a worker instead.

A report route that meets the bound (PostgreSQL cancels the statement: ``57014``) rolls
back, records a ``report`` job with the same query for the same principal, and answers
``503 query_timeout`` naming the job. The worker's session is not bounded; the finished
job keeps the report's JSON in its result, served at its ``result_path``
(``GET /reports/results/{job_id}``), readable by whoever may read the job (the asking
manager's agency, the auditor's council, admins). Nothing is retried on the web side, so
no request holds a worker past the bound.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agency.access import Kind, Principal, Scope
from agency.errors import DomainError
from agency.jobs.models import JobRecord
from agency.jobs.queue import job, jobs_for
from agency.reports.registry import FILTERS, REPORTS
from agency.reports.scope import resolve_scope
from agency.unit_of_work import unit_of_work

REPORT_JOB = "report"


class ReportQueued(DomainError):
    """503: the report ran past the web's bound and is being prepared as a job."""

    status = 503
    code = "query_timeout"
    message = (
        "This report takes longer than a request may: it is being prepared as a job. "
        "Poll the job, then read the report at its result_path."
    )


def result_path(job_id: str) -> str:
    return f"/reports/results/{job_id}"


def run_later(
    session: Session, report: str, query: dict[str, str], principal: Principal
) -> ReportQueued:
    """Record the job (committed) and the 503 that names it."""
    arguments = {
        "report": report,
        "query": query,
        "principal": {
            "kind": principal.kind.value,
            "id": principal.id,
            "agency_id": principal.agency_id,
            "council_id": principal.council_id,
        },
    }
    scope = Scope.of(agency_ids=[principal.agency_id], council_ids=[principal.council_id])
    with unit_of_work(session) as uow:
        record = jobs_for(session).enqueue(session, REPORT_JOB, arguments, scope=scope)
        uow.commit()
    return ReportQueued(job_id=record.id, job_path=f"/jobs/{record.id}")


@job(REPORT_JOB)
def run_report(
    session: Session,
    record: JobRecord,
    *,
    settings: Any,
    report: str,
    query: dict[str, str],
    principal: dict[str, Any],
) -> dict[str, Any]:
    """The report as its route would have answered it (JSON), for the same principal."""

    entry = REPORTS[report]
    args = entry.query().load(query)
    who = Principal(
        kind=Kind(principal["kind"]),
        id=principal["id"],
        agency_id=principal.get("agency_id"),
        council_id=principal.get("council_id"),
    )
    scope = resolve_scope(session, who, **{k: args.get(k) for k in FILTERS})
    body = entry.compute(session, scope, **{k: args[k] for k in entry.options if k in args})
    return {
        "result_path": result_path(record.id),
        "report": report,
        "body": entry.schema().dump(body),
    }
