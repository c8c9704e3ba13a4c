"""Stripe webhooks: verified with the library's own code, processed once per event id.

Stripe delivers at least once and in no particular order, so every handler is
idempotent and moves state only forward (a late ``transfer.created`` after a
``transfer.reversed`` changes nothing), and ``account.updated`` re-reads the account
from Stripe rather than trusting the order events arrive in.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.errors import Conflict, DomainError
from agency.isf.gateway import PaymentGateway
from agency.isf.models import Payout, PayoutAccount, PayoutAccountStatus, StripeEvent
from agency.isf.settlement import reverse_payout, settle_payout
from agency.unit_of_work import unit_of_work

log = logging.getLogger("agency.isf.webhooks")


class BadSignature(DomainError):
    status = 400
    code = "bad_signature"
    message = "The Stripe-Signature header does not match this payload."


def receive_stripe_event(
    session: Session,
    payload: bytes,
    signature: str | None,
    secret: str | None,
    gateway: PaymentGateway | None,
) -> bool:
    """Verify and apply one event; returns False when it was a duplicate delivery."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret or "")
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignature() from error
    if session.get(StripeEvent, event.id) is not None:
        return False
    try:
        with unit_of_work(session, integrity_error=_AppliedElsewhere) as uow:
            session.add(StripeEvent(id=event.id, type=event.type))
            obj = event.to_dict()["data"]["object"]  # plain dicts: StripeObjects are not dicts
            if event.type in ("transfer.created", "transfer.reversed"):
                _transfer_event(session, event.type, obj)
            elif event.type == "account.updated":
                _account_updated(session, obj, gateway)
            uow.commit()
    except _AppliedElsewhere:  # the same event processed concurrently: that one counts
        return False
    return True


class _AppliedElsewhere(Conflict):
    """The event's row exists already: a concurrent delivery of it applied it."""


def _payout_of(session: Session, transfer: Any) -> Payout | None:
    metadata = transfer.get("metadata") or {}
    payout = session.get(Payout, metadata.get("payout_id", ""))
    if payout is None:
        payout = session.scalar(select(Payout).where(Payout.external_id == transfer.get("id")))
    if payout is None:
        log.warning("transfer event for an unknown payout", extra={"transfer": transfer.get("id")})
        return None
    attempt = metadata.get("attempt")
    if attempt is not None and str(payout.attempt) != str(attempt):
        return None  # about an earlier, already settled-or-failed attempt
    return payout


def _transfer_event(session: Session, kind: str, transfer: Any) -> None:
    payout = _payout_of(session, transfer)
    if payout is None:
        return
    if kind == "transfer.created":
        settle_payout(session, payout, transfer.get("id"))
        return
    reversed_pence = int(transfer.get("amount_reversed") or 0)
    if reversed_pence >= payout.amount_pence or transfer.get("reversed"):
        reverse_payout(session, payout, f"Transfer {transfer.get('id')} reversed by Stripe")
    else:  # partial reversals need a person: record it, move no money
        payout.error_code = f"partial_reversal:{reversed_pence}"


def _account_updated(session: Session, account: Any, gateway: PaymentGateway | None) -> None:
    row = session.scalar(
        select(PayoutAccount).where(PayoutAccount.external_id == account.get("id"))
    )
    if row is None:
        return
    if gateway is not None and gateway.name == "stripe":
        state = gateway.account_state(row.external_id)  # the latest, whatever the event order
        details, enabled = state.details_submitted, state.payouts_enabled
    else:
        details = bool(account.get("details_submitted"))
        enabled = bool(account.get("payouts_enabled"))
    row.details_submitted = details
    row.payouts_enabled = enabled
    row.status = (
        PayoutAccountStatus.ENABLED
        if enabled
        else PayoutAccountStatus.RESTRICTED
        if details
        else PayoutAccountStatus.ONBOARDING
    )
