"""Unmet need: open and unmatched care requests, their weekly hours and how long they wait.

A request is unmet while it is open or matching and has no active arrangement. Requests are
counted by neighbourhood (those no agency covers as "not covered by any agency", by outcode)
and by service (a request asking for two services counts under both). The period filters on
when requests were made; waits are measured to now. Supply per service and neighbourhood is
the spare weekly hours of the approved providers listed with the covering agency who offer
the service: capacity minus hours in active arrangements (anywhere), never below zero. An
agency's spare hours are shared by all its neighbourhoods, so each pair is compared with the
agency's whole spare supply.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, and_, case, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from agency.db import UTCDateTime
from agency.directory.models import Neighbourhood, ServiceType
from agency.introductions.models import Arrangement, ArrangementStatus
from agency.providers.models import ListingStatus, Provider, ProviderListing, ProviderService
from agency.reports.portable import grouped_percentiles, hours_between
from agency.reports.scope import ReportScope, offers
from agency.reports.workload import active_minutes
from agency.seekers.models import CareRequest, RequestStatus

NOT_COVERED = "not covered by any agency"
SHORTEST = 5


def unmet_conditions(scope: ReportScope) -> list[Any]:
    return [
        CareRequest.status.in_([RequestStatus.OPEN, RequestStatus.MATCHING]),
        ~exists().where(
            Arrangement.care_request_id == CareRequest.id,
            Arrangement.status == ArrangementStatus.ACTIVE,
        ),
        *scope.during(CareRequest.created_at),
        *scope.owned(CareRequest.agency_id, CareRequest.council_id),
        *scope.for_requests(CareRequest),
    ]


def unmet_need(session: Session, scope: ReportScope) -> dict[str, Any]:
    """Unmet requests and hours by neighbourhood and service, waits, and supply shortage."""
    uncovered_outcode = case((CareRequest.agency_id.is_(None), CareRequest.outcode), else_=None)
    keys = (CareRequest.neighbourhood_id, CareRequest.agency_id, uncovered_outcode)
    now = literal(scope.now, UTCDateTime())
    waits = grouped_percentiles(
        session,
        select(
            *(k.label(f"k{i}") for i, k in enumerate(keys)),
            (hours_between(session, now, CareRequest.created_at) / 24.0).label("value"),
        ).where(*unmet_conditions(scope)),
        ["k0", "k1", "k2"],
    )
    stmt = (
        select(*keys, Neighbourhood.name, func.count(), func.sum(CareRequest.minutes_per_week))
        .outerjoin(Neighbourhood, Neighbourhood.id == CareRequest.neighbourhood_id)
        .where(*unmet_conditions(scope))
        .group_by(*keys, Neighbourhood.name)
    )
    areas = []
    for hood_id, agency_id, outcode, name, n, minutes in session.execute(stmt):
        wait = waits.get((hood_id, agency_id, outcode), {})
        areas.append(
            {
                "neighbourhood_id": hood_id,
                "neighbourhood_name": name,
                "covered": agency_id is not None,
                "agency_id": agency_id,
                "outcode": outcode,
                "label": name if agency_id else f"{NOT_COVERED} ({name or outcode})",
                "requests": int(n),
                "hours_per_week": round(int(minutes) / 60, 2),
                "median_wait_days": round(float(wait.get("median", 0.0)), 1),
                "max_wait_days": round(float(wait.get("max", 0.0)), 1),
            }
        )
    areas.sort(key=lambda a: (-a["hours_per_week"], a["label"]))
    by_service = _by_service(session, scope)
    shortage = _shortage(session, by_service)
    return {
        "scope": scope.as_dict(),
        "requests": sum(a["requests"] for a in areas),
        "hours_per_week": round(sum(a["hours_per_week"] for a in areas), 2),
        "areas": areas,
        "shortage": shortage,
        "shortest": shortage[:SHORTEST],
    }


def _by_service(session: Session, scope: ReportScope) -> list[dict[str, Any]]:
    stmt = (
        select(
            CareRequest.neighbourhood_id,
            CareRequest.agency_id,
            ServiceType.key,
            func.count(),
            func.sum(CareRequest.minutes_per_week),
        )
        .join(ServiceType, offers(CareRequest.services, ServiceType.key))
        .where(*unmet_conditions(scope))
        .group_by(CareRequest.neighbourhood_id, CareRequest.agency_id, ServiceType.key)
    )
    if scope.service:
        stmt = stmt.where(ServiceType.key == scope.service)
    return [
        {
            "neighbourhood_id": hood_id,
            "agency_id": agency_id,
            "service": key,
            "requests": int(n),
            "minutes": int(minutes),
        }
        for hood_id, agency_id, key, n, minutes in session.execute(stmt)
    ]


def _spare_minutes(session: Session, agency_ids: set[str]) -> dict[tuple[str, str], float]:
    """Spare weekly minutes per (agency, service) of approved, listed providers."""
    committed = active_minutes(Arrangement.provider_id).subquery()
    left = cast(Provider.capacity_hours_per_week, Float) * 60.0 - func.coalesce(
        committed.c.minutes, 0
    )
    stmt = (
        select(
            ProviderListing.agency_id,
            ProviderService.service_key,
            func.sum(case((left > 0, left), else_=0.0)),
        )
        .join(Provider, Provider.id == ProviderListing.provider_id)
        .join(ProviderService, ProviderService.provider_id == Provider.id)
        .outerjoin(committed, committed.c.provider_id == Provider.id)
        .where(
            and_(
                ProviderListing.status == ListingStatus.APPROVED,
                ProviderListing.agency_id.in_(agency_ids),
            )
        )
        .group_by(ProviderListing.agency_id, ProviderService.service_key)
    )
    return {(a, s): float(m or 0) for a, s, m in session.execute(stmt)}


def _shortage(session: Session, by_service: list[dict[str, Any]]) -> list[dict[str, Any]]:
    covered = [row for row in by_service if row["agency_id"]]
    spare = _spare_minutes(session, {row["agency_id"] for row in covered})
    names = dict(
        session.execute(
            select(Neighbourhood.id, Neighbourhood.name).where(
                Neighbourhood.id.in_({row["neighbourhood_id"] for row in covered})
            )
        ).all()
    )
    rows = []
    for row in covered:
        available = spare.get((row["agency_id"], row["service"]), 0.0)
        requested = row["minutes"] / 60
        rows.append(
            {
                "neighbourhood_id": row["neighbourhood_id"],
                "neighbourhood_name": names.get(row["neighbourhood_id"]),
                "agency_id": row["agency_id"],
                "service": row["service"],
                "requests": row["requests"],
                "requested_hours": round(requested, 2),
                "available_hours": round(available / 60, 2),
                # Requested per available hour; null when no spare supply at all.
                "ratio": round(requested / (available / 60), 3) if available > 0 else None,
            }
        )
    rows.sort(
        key=lambda r: (
            r["ratio"] is not None,
            -(r["ratio"] or 0),
            -r["requested_hours"],
            r["neighbourhood_name"] or "",
            r["service"],
        )
    )
    return rows


def csv_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = [
        "neighbourhood_id",
        "label",
        "covered",
        "outcode",
        "requests",
        "hours_per_week",
        "median_wait_days",
        "max_wait_days",
    ]
    return header, [[area[h] for h in header] for area in report["areas"]]
