"""Local spend in concentric circles: where the money paid to providers went.

Paid invoices (``status = paid``, ``paid_at`` in the period) summed by the provider's
local-spend circle (council area, combined authority, region, national), size and sector,
per agency and in total; with the VCSE share and the micro + sole-trader share, and how the
providers were placed (``Provider.locality_basis``). With a neighbourhood or service filter,
an invoice counts when its arrangement's care request is in that neighbourhood or asks for
that service (invoices are not split by service).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agency.directory.models import Agency, Locality, Sector, SupplierSize
from agency.introductions.models import Arrangement
from agency.isf.models import Invoice, InvoiceStatus
from agency.providers.models import Provider
from agency.reports.scope import ReportScope
from agency.seekers.models import CareRequest

DIMENSIONS = {"locality": Locality, "size": SupplierSize, "sector": Sector}
MICRO = (SupplierSize.SOLE_TRADER.value, SupplierSize.MICRO.value)


def paid_invoices(scope: ReportScope, stmt: Select[Any]) -> Select[Any]:
    """Restrict ``stmt`` (over invoices) to paid invoices of the scope and period."""
    stmt = stmt.where(
        Invoice.status == InvoiceStatus.PAID,
        *scope.during(Invoice.paid_at),
        *scope.owned(Invoice.agency_id, Invoice.council_id),
    )
    return with_request_filters(scope, stmt)


def with_request_filters(scope: ReportScope, stmt: Select[Any]) -> Select[Any]:
    if not (scope.neighbourhood_id or scope.service):
        return stmt
    return (
        stmt.join(Arrangement, Arrangement.id == Invoice.arrangement_id)
        .join(CareRequest, CareRequest.id == Arrangement.care_request_id)
        .where(*scope.for_requests(CareRequest))
    )


def local_spend(session: Session, scope: ReportScope) -> dict[str, Any]:
    """Amounts (pence) and shares by circle, size and sector, per agency and in total."""
    stmt = select(
        Invoice.agency_id,
        Provider.locality,
        Provider.size,
        Provider.sector,
        func.count(Invoice.id),
        func.sum(Invoice.total_pence),
    ).join(Provider, Provider.id == Invoice.provider_id)
    stmt = paid_invoices(scope, stmt).group_by(
        Invoice.agency_id, Provider.locality, Provider.size, Provider.sector
    )
    groups = [
        (agency_id, _value(locality), _value(size), _value(sector), int(n), int(pence))
        for agency_id, locality, size, sector, n, pence in session.execute(stmt)
    ]
    names = dict(
        session.execute(
            select(Agency.id, Agency.name).where(Agency.id.in_({g[0] for g in groups}))
        ).all()
    )
    per_agency: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for group in groups:
        per_agency[group[0]].append(group)
    return {
        "scope": scope.as_dict(),
        "total": _breakdown(groups),
        "agencies": [
            {"agency_id": agency_id, "agency_name": names.get(agency_id), **_breakdown(rows)}
            for agency_id, rows in sorted(per_agency.items(), key=lambda kv: names.get(kv[0], ""))
        ],
        "placement": _placement(session, scope),
    }


def _value(member: Any) -> str:
    return getattr(member, "value", member)


def _breakdown(groups: list[tuple[Any, ...]]) -> dict[str, Any]:
    total = sum(g[5] for g in groups)
    result: dict[str, Any] = {"amount_pence": total, "invoices": sum(g[4] for g in groups)}
    for position, (dimension, members) in enumerate(DIMENSIONS.items(), start=1):
        amounts = {m.value: 0 for m in members}
        for group in groups:
            amounts[group[position]] += group[5]
        result[f"by_{dimension}"] = [
            {"category": key, "amount_pence": pence, "share": _share(pence, total)}
            for key, pence in amounts.items()
        ]
    vcse = sum(g[5] for g in groups if g[3] == Sector.VCSE.value)
    micro = sum(g[5] for g in groups if g[2] in MICRO)
    result["vcse_amount_pence"], result["vcse_share"] = vcse, _share(vcse, total)
    result["micro_amount_pence"], result["micro_share"] = micro, _share(micro, total)
    return result


def _share(part: int, total: int) -> float:
    return round(part / total, 4) if total else 0.0


def _placement(session: Session, scope: ReportScope) -> list[dict[str, Any]]:
    """How the paid providers were placed in the circles: providers per circle and basis."""
    paid = paid_invoices(scope, select(Invoice.provider_id))
    stmt = (
        select(Provider.locality, Provider.locality_basis, func.count())
        .where(Provider.id.in_(paid))
        .group_by(Provider.locality, Provider.locality_basis)
    )
    return [
        {"locality": _value(locality), "locality_basis": basis, "providers": int(n)}
        for locality, basis, n in session.execute(
            stmt.order_by(Provider.locality, Provider.locality_basis)
        )
    ]


def csv_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["agency_id", "agency_name", "dimension", "category", "amount_pence", "share"]
    rows = []
    for block in [{"agency_id": "", "agency_name": "all", **report["total"]}, *report["agencies"]]:
        for dimension in DIMENSIONS:
            for item in block[f"by_{dimension}"]:
                rows.append(
                    [
                        block["agency_id"],
                        block["agency_name"],
                        dimension,
                        item["category"],
                        item["amount_pence"],
                        item["share"],
                    ]
                )
    return header, rows
