"""Read-only lists the console shows, each narrowed with ``visible_to`` as the API's lists.

Where the API already has a list (care requests, introductions, listings, invoices, ISF
accounts, the audit log) the console calls that service's query; only the lists the API
has no single endpoint for (every submitted timesheet of an agency, compliance about to
expire, recent payment runs) are written here. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.access import Principal, visible_to
from agency.directory.models import ServiceType
from agency.isf.models import PaymentRun, Payout
from agency.providers.models import ComplianceItem, ComplianceStatus, Provider, ProviderListing
from agency.visits.models import Timesheet, TimesheetStatus

EXPIRY_DAYS = 30


def submitted_timesheets(session: Session, principal: Principal, limit: int = 50) -> list[Any]:
    """Timesheets waiting for the manager, oldest first, with their provider's name."""
    stmt = (
        select(Timesheet, Provider.trading_name)
        .join(Provider, Provider.id == Timesheet.provider_id)
        .where(visible_to(Timesheet, principal), Timesheet.status == TimesheetStatus.SUBMITTED)
        .order_by(Timesheet.submitted_at, Timesheet.id)
        .limit(limit)
    )
    return list(session.execute(stmt))


def expiring_compliance(
    session: Session, principal: Principal, today: dt.date, days: int = EXPIRY_DAYS
) -> list[Any]:
    """Verified compliance items of listed providers that expire within ``days``."""
    listed = select(ProviderListing.provider_id).where(visible_to(ProviderListing, principal))
    stmt = (
        select(ComplianceItem, Provider.trading_name)
        .join(Provider, Provider.id == ComplianceItem.provider_id)
        .where(
            ComplianceItem.provider_id.in_(listed),
            ComplianceItem.status == ComplianceStatus.VERIFIED,
            ComplianceItem.expires_on >= today,
            ComplianceItem.expires_on <= today + dt.timedelta(days=days),
        )
        .order_by(ComplianceItem.expires_on, ComplianceItem.id)
    )
    return list(session.execute(stmt))


def pending_compliance(session: Session, provider: Provider) -> list[ComplianceItem]:
    return [i for i in provider.compliance_items if i.status is ComplianceStatus.PENDING]


def recent_payment_runs(session: Session, principal: Principal, limit: int = 10) -> list[Any]:
    """Payment runs with their payout count, newest first."""
    payouts = (
        select(func.count())
        .where(Payout.payment_run_id == PaymentRun.id)
        .correlate(PaymentRun)
        .scalar_subquery()
    )
    stmt = (
        select(PaymentRun, payouts)
        .where(visible_to(PaymentRun, principal))
        .order_by(PaymentRun.created_at.desc(), PaymentRun.id)
        .limit(limit)
    )
    return list(session.execute(stmt))


def service_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(ServiceType.key, ServiceType.name)).all())


def provider_names(session: Session, provider_ids: list[str]) -> dict[str, str]:
    if not provider_ids:
        return {}
    stmt = select(Provider.id, Provider.trading_name).where(Provider.id.in_(provider_ids))
    return dict(session.execute(stmt).all())
