"""The council's overdraft rule for one ISF: how far below zero approved invoices may take it.

Councils sometimes let an ISF run short for a while (a late four-weekly allocation, a change
of plan awaiting sign-off) so that a provider is not left unpaid. Only the council decides:
an auditor of the ISF's council (or an admin) sets the limit, with a reason, and it is audited.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, load
from agency.audit.service import record
from agency.db import utcnow
from agency.errors import Forbidden
from agency.isf.models import IsfAccount
from agency.unit_of_work import unit_of_work


def approve_overdraft(
    session: Session, principal: Principal, isf_account_id: str, *, limit_pence: int, reason: str
) -> IsfAccount:
    """Set (or, with 0, withdraw) the overdraft an ISF may use; the council's decision."""
    isf = load(session, principal, IsfAccount, isf_account_id, Action.READ)
    if principal.kind not in (Kind.AUDITOR, Kind.ADMIN):
        raise Forbidden("Only the council's auditors approve an ISF overdraft.")
    with unit_of_work(session) as uow:
        before = {"overdraft_limit_pence": isf.overdraft_limit_pence}
        isf.overdraft_limit_pence = limit_pence
        isf.overdraft_reason = reason
        isf.overdraft_approved_by = principal.id
        isf.overdraft_approved_at = utcnow()
        record(
            session,
            principal,
            "isf.overdraft_approved",
            isf,
            before,
            {"overdraft_limit_pence": limit_pence, "reason": reason},
        )
        uow.commit()
    return isf
