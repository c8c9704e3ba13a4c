"""Fairness of work: how the weekly hours in active arrangements spread across providers.

The pool is every provider listed and approved with an agency in scope (offering the
service, with a service filter), with zero hours when they have no work. Hours are the
current terms' ``minutes_per_week`` of active arrangements with that agency. Per agency and
in total (a provider listed with two agencies counts once in the total, with both agencies'
hours): the share going to the top 10 % of providers (rounded up: 1 of 5, 2 of 11), the Gini
coefficient and how many providers have any work. The arithmetic is all in SQL: ranks come
from window functions, Gini = 2·Σ(rank·hours) / (n·Σhours) − (n + 1) / n over ascending ranks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, exists, func, literal_column, select
from sqlalchemy.orm import Session

from agency.directory.models import Agency
from agency.introductions.models import Arrangement, ArrangementVersion
from agency.providers.models import ListingStatus, ProviderListing, ProviderService
from agency.reports.scope import ReportScope, offers
from agency.reports.workload import active_minutes
from agency.seekers.models import CareRequest


def _pool(scope: ReportScope) -> Any:
    """(agency_id, provider_id, minutes) for every approved listing in scope."""
    work = active_minutes(Arrangement.agency_id, Arrangement.provider_id).where(
        *scope.owned(Arrangement.agency_id, Arrangement.council_id)
    )
    if scope.neighbourhood_id:
        work = work.join(CareRequest, CareRequest.id == Arrangement.care_request_id).where(
            CareRequest.neighbourhood_id == scope.neighbourhood_id
        )
    if scope.service:
        work = work.where(offers(ArrangementVersion.services, scope.service))
    work = work.subquery()
    stmt = (
        select(
            ProviderListing.agency_id.label("agency_id"),
            ProviderListing.provider_id.label("provider_id"),
            func.coalesce(work.c.minutes, 0).label("minutes"),
        )
        .outerjoin(
            work,
            and_(
                work.c.agency_id == ProviderListing.agency_id,
                work.c.provider_id == ProviderListing.provider_id,
            ),
        )
        .where(
            ProviderListing.status == ListingStatus.APPROVED,
            *scope.owned(ProviderListing.agency_id, ProviderListing.council_id),
        )
    )
    if scope.service:
        stmt = stmt.where(
            exists().where(
                ProviderService.provider_id == ProviderListing.provider_id,
                ProviderService.service_key == scope.service,
            )
        )
    return stmt.subquery()


def _distribution(session: Session, pool: Any, key: Any) -> dict[Any, dict[str, Any]]:
    """Figures per ``key`` over ``pool`` (columns key, minutes), computed in SQL."""
    ranked = select(
        key.label("key"),
        pool.c.minutes,
        func.row_number().over(partition_by=key, order_by=pool.c.minutes).label("up"),
        func.row_number().over(partition_by=key, order_by=pool.c.minutes.desc()).label("down"),
        func.count().over(partition_by=key).label("n"),
        func.ntile(10).over(partition_by=key, order_by=pool.c.minutes).label("decile"),
    ).subquery()
    minutes = ranked.c.minutes
    # Top 10 %, rounded up: rank <= ceil(n / 10)  <=>  rank * 10 <= n + 9.
    top = case((ranked.c.down * 10 <= ranked.c.n + 9, minutes), else_=0)
    stmt = select(
        ranked.c.key,
        func.count(),
        func.sum(minutes),
        func.sum(ranked.c.up * minutes),
        func.sum(top),
        func.sum(case((minutes > 0, 1), else_=0)),
    ).group_by(ranked.c.key)
    deciles = select(ranked.c.key, ranked.c.decile, func.count(), func.sum(minutes)).group_by(
        ranked.c.key, ranked.c.decile
    )
    curves: dict[Any, list[dict[str, Any]]] = {}
    for k, decile, n, total in session.execute(deciles.order_by(ranked.c.key, ranked.c.decile)):
        curves.setdefault(k, []).append(
            {"decile": int(decile), "providers": int(n), "hours_per_week": _hours(total)}
        )
    result = {}
    for k, n, total, weighted, top_total, working in session.execute(stmt):
        n, total = int(n), int(total or 0)
        gini = (2 * int(weighted) / (n * total) - (n + 1) / n) if total else 0.0
        result[k] = {
            "providers": n,
            "providers_with_work": int(working),
            "hours_per_week": _hours(total),
            "top_decile_providers": -(-n // 10),
            "top_decile_share": round(int(top_total) / total, 4) if total else 0.0,
            "gini": round(gini, 4),
            "deciles": curves.get(k, []),
        }
    return result


def _hours(minutes: Any) -> float:
    return round(int(minutes or 0) / 60, 2)


def fairness(session: Session, scope: ReportScope) -> dict[str, Any]:
    """Hours per provider: top-10 % share, Gini and providers with work, per agency and total."""
    pool = _pool(scope)
    per_agency = _distribution(session, pool, pool.c.agency_id)
    per_provider = (
        select(pool.c.provider_id, func.sum(pool.c.minutes).label("minutes"))
        .group_by(pool.c.provider_id)
        .subquery()
    )
    total = _distribution(session, per_provider, literal_column("'all'"))
    names = dict(
        session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(per_agency))).all()
    )
    empty = {
        "providers": 0,
        "providers_with_work": 0,
        "hours_per_week": 0.0,
        "top_decile_providers": 0,
        "top_decile_share": 0.0,
        "gini": 0.0,
        "deciles": [],
    }
    return {
        "scope": scope.as_dict(),
        "total": total.get("all", empty),
        "agencies": [
            {"agency_id": agency_id, "agency_name": names.get(agency_id), **figures}
            for agency_id, figures in sorted(per_agency.items(), key=lambda kv: names[kv[0]])
        ],
    }


def csv_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["agency_id", "agency_name", "providers", "providers_with_work", "hours_per_week"]
    header += ["top_decile_providers", "top_decile_share", "gini"]
    blocks = [{"agency_id": "", "agency_name": "all", **report["total"]}, *report["agencies"]]
    return header, [[block[h] for h in header] for block in blocks]
