"""What every provider service shares: who may touch a provider, its errors, London's today.

The rules themselves live by concern: ``profile`` (registration, profile, services,
availability), ``compliance`` (documents, verification, eligibility and
``compliance_valid_until``) and ``vetting`` (listings with agencies, ISF approval).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, load
from agency.dates import london_today as london_today
from agency.errors import Conflict, Forbidden, InvalidInput, ReadOnly
from agency.providers.models import Provider

# --- errors (one subclass per stable code, so callers and tests can name the refusal) ---------


class EmailTaken(Conflict):
    code = "email_taken"
    message = "An account with this email already exists."


class AlreadyApplied(Conflict):
    code = "already_applied"
    message = "This provider has already applied to this agency."


class ComplianceItemNotPending(Conflict):
    code = "compliance_item_not_pending"


class CqcRegistrationRequired(InvalidInput):
    code = "cqc_registration_required"


class NotOwnProvider(Forbidden):
    code = "provider_only"
    message = "Only the provider itself may change this."


# --- access ----------------------------------------------------------------------------------


def provider_for_read(session: Session, principal: Principal, provider_id: str) -> Provider:
    """The provider itself, managers and auditors where it applied, admins; others 404."""
    return load(session, principal, Provider, provider_id, Action.READ)


def provider_for_owner(session: Session, principal: Principal, provider_id: str) -> Provider:
    """Writes only the provider itself (or an admin) may make.

    A manager or auditor who can see the provider gets 403 (they know it exists);
    anyone else 404.
    """
    provider = load(session, principal, Provider, provider_id, Action.READ)
    if principal.kind is Kind.AUDITOR:
        raise ReadOnly()
    if principal.kind not in (Kind.PROVIDER, Kind.ADMIN):
        raise NotOwnProvider()
    return provider


def provider_for_manager(session: Session, principal: Principal, provider_id: str) -> Provider:
    """Writes a manager of an agency the provider applied to (or an admin) may make."""
    # READ then a kind check, so an auditor gets our ReadOnly rather than a generic error.
    provider = load(session, principal, Provider, provider_id, Action.READ)
    if principal.kind is Kind.AUDITOR:
        raise ReadOnly()
    if principal.kind not in (Kind.MANAGER, Kind.ADMIN):
        raise Forbidden("Only a manager of an agency this provider applied to may do this.")
    return provider
