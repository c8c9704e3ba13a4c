"""A provider's payout account: a Stripe Express connected account, or manual bank transfer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.access import Kind, Principal
from agency.accounts.models import User
from agency.errors import Forbidden, NotFound
from agency.ids import new_id
from agency.isf.gateway import PaymentGateway
from agency.isf.models import PayoutAccount, PayoutAccountStatus
from agency.providers.models import Provider
from agency.unit_of_work import unit_of_work


def _own_provider(session: Session, principal: Principal) -> Provider:
    if principal.kind is not Kind.PROVIDER or not principal.provider_id:
        raise Forbidden("Only a provider manages its own payout account.")
    provider = session.get(Provider, principal.provider_id)
    if provider is None:
        raise NotFound()
    return provider


def _state(enabled: bool, details: bool) -> PayoutAccountStatus:
    if enabled:
        return PayoutAccountStatus.ENABLED
    return PayoutAccountStatus.RESTRICTED if details else PayoutAccountStatus.ONBOARDING


def open_payout_account(
    session: Session, principal: Principal, gateway: PaymentGateway
) -> tuple[PayoutAccount, str | None]:
    """Create (or resume) the provider's payout account; returns it and an onboarding link."""
    provider = _own_provider(session, principal)
    account = session.scalar(select(PayoutAccount).where(PayoutAccount.provider_id == provider.id))
    user = session.get(User, provider.user_id)
    onboarding = gateway.onboard(
        provider.id, user.email if user else None, account.external_id if account else None
    )
    with unit_of_work(session) as uow:
        if account is None:
            account = PayoutAccount(
                id=new_id("poa"),
                provider_id=provider.id,
                gateway=gateway.name,
                external_id=onboarding.account_id,
            )
            session.add(account)
        account.details_submitted = onboarding.details_submitted
        account.payouts_enabled = onboarding.payouts_enabled
        account.status = _state(onboarding.payouts_enabled, onboarding.details_submitted)
        uow.commit()
    return account, onboarding.onboarding_url


def get_payout_account(session: Session, principal: Principal) -> PayoutAccount:
    provider = _own_provider(session, principal)
    account = session.scalar(select(PayoutAccount).where(PayoutAccount.provider_id == provider.id))
    if account is None:
        raise NotFound("No payout account yet: POST /payout-accounts to open one.")
    return account
