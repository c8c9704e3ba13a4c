"""Stripe Connect through the official library: Express accounts and transfers to them.

``stripe_api_base`` points the library at another host (the local stand-in in tests).
The library's own network retries are off: retrying is the payment run's job, always
with the invoice's idempotency key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import stripe

from agency.isf.gateway import Onboarding, PaymentRefused, PaymentUncertain

TIMEOUT_SECONDS = 20.0


class StripeConnectGateway:
    name = "stripe"

    def __init__(
        self, api_key: str, api_base: str | None = None, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        base = {"api": api_base, "connect": api_base} if api_base else None
        self.client = stripe.StripeClient(
            api_key,
            base_addresses=base,  # type: ignore[arg-type]
            http_client=stripe.RequestsClient(timeout=timeout),
            max_network_retries=0,
        )

    @classmethod
    @lru_cache(maxsize=8)
    def cached(
        cls, api_key: str, api_base: str | None, timeout: float = TIMEOUT_SECONDS
    ) -> StripeConnectGateway:
        return cls(api_key, api_base, timeout)

    def onboard(
        self, provider_id: str, email: str | None, existing_account_id: str | None
    ) -> Onboarding:
        account_id = existing_account_id
        if account_id is None:
            params: dict[str, object] = {
                "type": "express",
                "country": "GB",
                "capabilities": {"transfers": {"requested": True}},
                "metadata": {"provider_id": provider_id},
            }
            if email:
                params["email"] = email
            account = self.client.v1.accounts.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": f"onboard-{provider_id}"},
            )
            account_id = account.id
        link = self.client.v1.account_links.create(
            {
                "account": account_id,
                "type": "account_onboarding",
                "refresh_url": "https://agency.example/payout-account/refresh",
                "return_url": "https://agency.example/payout-account/done",
            }
        )
        state = self.account_state(account_id)
        return Onboarding(account_id, link.url, state.details_submitted, state.payouts_enabled)

    def account_state(self, account_id: str) -> Onboarding:
        account = self.client.v1.accounts.retrieve(account_id).to_dict()
        return Onboarding(
            account["id"],
            None,
            bool(account.get("details_submitted")),
            bool(account.get("payouts_enabled")),
        )

    def pay(
        self,
        *,
        amount_pence: int,
        destination: str,
        idempotency_key: str,
        transfer_group: str,
        metadata: dict[str, str],
    ) -> str | None:
        try:
            transfer = self.client.v1.transfers.create(
                {
                    "amount": amount_pence,
                    "currency": "gbp",
                    "destination": destination,
                    "transfer_group": transfer_group,
                    "metadata": metadata,
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.APIConnectionError as error:
            raise PaymentUncertain("connection_error", str(error)) from error
        except stripe.RateLimitError as error:
            raise PaymentUncertain("rate_limit", str(error)) from error
        except stripe.APIError as error:
            raise PaymentUncertain("api_error", str(error)) from error
        except stripe.IdempotencyError as error:
            # The key was used with other parameters: do not guess, leave it for a person.
            raise PaymentUncertain("idempotency_error", str(error)) from error
        except stripe.StripeError as error:
            if error.http_status is not None and error.http_status >= 500:
                raise PaymentUncertain("api_error", str(error)) from error
            raise PaymentRefused(error.code or type(error).__name__, str(error)) from error
        return str(transfer.id)

    def list_payments(self, created_from: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
        """The transfers made at or after ``created_from`` (all without it), newest first,
        page by page (``starting_after`` / ``has_more``).

        Stripe filters by ``created[gte]`` (whole seconds, its own clock) before paging, so
        a window costs the transfers in it, not the account's whole history.
        """
        params: dict[str, Any] = {"limit": 100}
        if created_from is not None:
            params["created"] = {"gte": int(created_from.timestamp())}
        for transfer in self.client.v1.transfers.list(params).auto_paging_iter():  # type: ignore[arg-type]
            yield transfer.to_dict()

    def find_payment(self, transfer_group: str) -> str | None:
        found = self.client.v1.transfers.list({"transfer_group": transfer_group, "limit": 1})
        return str(found.data[0].id) if found.data else None
