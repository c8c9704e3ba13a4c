"""How providers get paid: one interface, a Stripe Connect and a manual bank transfer gateway.

A gateway answers each payment definitively (an id, or :class:`PaymentRefused`: nothing
was paid) or not at all (:class:`PaymentUncertain`: it may have been paid, so the caller
must retry with the SAME idempotency key and never with a new one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from agency.config import Settings


@dataclass(frozen=True)
class Onboarding:
    account_id: str
    onboarding_url: str | None
    details_submitted: bool = False
    payouts_enabled: bool = False


class PaymentRefused(Exception):  # noqa: N818 - an outcome, not a bug
    """The gateway definitively refused: no money moved; a new attempt needs a new key."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class PaymentUncertain(Exception):  # noqa: N818
    """No definitive answer (time-out, 5xx, rate limit): retry with the same key."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class PaymentGateway(Protocol):
    name: str

    def onboard(
        self, provider_id: str, email: str | None, existing_account_id: str | None
    ) -> Onboarding: ...

    def account_state(self, account_id: str) -> Onboarding: ...

    def pay(
        self,
        *,
        amount_pence: int,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> str | None: ...

    def find_payment(self, transfer_group: str) -> str | None: ...

    def list_payments(self, created_from: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
        """The payments the gateway knows of, made at or after ``created_from`` (all of them
        without it): {"id", "amount", "created", "metadata", "reversed"}."""
        ...


def gateway_for(settings: Settings) -> PaymentGateway:
    """Stripe Connect when a Stripe key is configured, else manual bank transfer."""
    if settings.stripe_api_key:
        from agency.isf.stripe_gateway import StripeConnectGateway

        timeout = float(settings.extra.get("stripe_timeout_seconds", 20))  # type: ignore[arg-type]
        return StripeConnectGateway.cached(
            settings.stripe_api_key, settings.stripe_api_base, timeout
        )
    from agency.isf.manual_gateway import ManualBankTransferGateway

    return ManualBankTransferGateway()


def gateway_of(session: Session, settings: Settings) -> PaymentGateway:
    """The gateway the composition root put beside ``session`` (``agency.bootstrap``).

    A session the composition root did not make (a script's own) gets the one
    ``settings`` name.
    """
    provider = session.info.get("gateway")
    return provider() if provider is not None else gateway_for(settings)
