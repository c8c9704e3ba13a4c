"""Manual bank transfer: the embedded default when no Stripe key is configured.

The agency downloads a CSV payment file for a payment run, pays it through its own bank,
and records each payment's bank reference; recording it settles the payout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from agency.isf.gateway import Onboarding

# The gateway's name on payment runs, payouts and payout accounts (as the API documents it).
MANUAL_BANK_TRANSFER = "manual_bank_transfer"


class ManualBankTransferGateway:
    name = MANUAL_BANK_TRANSFER

    def onboard(
        self, provider_id: str, email: str | None, existing_account_id: str | None
    ) -> Onboarding:
        # Bank details stay with the agency's bank, not here; the account only marks intent.
        return Onboarding(
            account_id=existing_account_id or f"bank_{provider_id}",
            onboarding_url=None,
            details_submitted=True,
            payouts_enabled=True,
        )

    def account_state(self, account_id: str) -> Onboarding:
        return Onboarding(account_id, None, True, True)

    def pay(
        self,
        *,
        amount_pence: int,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> str | None:
        return None  # it goes in the payment file; the bank reference comes later

    def find_payment(self, transfer_group: str) -> str | None:
        return None

    def list_payments(self, created_from: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
        return iter(())  # the bank statement is the agency's to compare
