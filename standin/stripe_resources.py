"""The Stripe objects the stand-in keeps: accounts, account links, transfers, lists, balance.

A mixin of :class:`standin.stripe_server.StripeStandin`, which holds the state and the lock.
"""

from __future__ import annotations

import operator
import threading
import time
from collections.abc import Callable
from typing import Any

from standin.stripe_wire import StripeFailure
from standin.stripe_wire import new_id as _new

# Stripe's list filter on ``created``: a timestamp, or ``created[gt|gte|lt|lte]=<timestamp>``.
_CREATED_BOUNDS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def _created_filter(params: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """Which items the ``created`` parameter keeps (all of them without one)."""
    created = params.get("created")
    if created is None:
        return lambda _item: True
    bounds = created if isinstance(created, dict) else {"": created}
    checks: list[tuple[Callable[[int, int], bool], int]] = []
    for bound, raw in bounds.items():
        name = f"created[{bound}]" if bound else "created"
        if bound and bound not in _CREATED_BOUNDS:
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"Received unknown parameter: {name}",
                "parameter_unknown",
                name,
            )
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"Invalid integer: {raw}",
                "parameter_invalid_integer",
                name,
            ) from None
        checks.append((_CREATED_BOUNDS[bound] if bound else operator.eq, value))
    return lambda item: all(compare(item["created"], value) for compare, value in checks)


class StripeResources:
    accounts: dict[str, dict[str, Any]]
    transfers: list[dict[str, Any]]
    available_pence: int
    _lock: threading.RLock

    @property
    def url(self) -> str:
        raise NotImplementedError

    def emit(
        self, type_: str, obj: dict[str, Any], request: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _create_account(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("type", "express") not in ("express", "standard", "custom"):
            raise StripeFailure(
                400, "invalid_request_error", "Invalid type", "parameter_invalid_string", "type"
            )
        account = {
            "id": _new("acct"),
            "object": "account",
            "type": params.get("type", "express"),
            "country": params.get("country", "GB"),
            "default_currency": "gbp",
            "email": params.get("email"),
            "details_submitted": False,
            "charges_enabled": False,
            "payouts_enabled": False,
            "capabilities": {"transfers": "inactive"},
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
        }
        with self._lock:
            self.accounts[account["id"]] = account
        return account

    def _account(self, account_id: str) -> dict[str, Any]:
        with self._lock:
            account = self.accounts.get(account_id)
        if account is None:
            raise StripeFailure(
                404,
                "invalid_request_error",
                f"No such account: '{account_id}'",
                "resource_missing",
                "id",
            )
        return account

    def _account_link(self, params: dict[str, Any]) -> dict[str, Any]:
        for name in ("account", "type"):
            if not params.get(name):
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {name}.",
                    "parameter_missing",
                    name,
                )
        self._account(params["account"])
        now = int(time.time())
        return {
            "object": "account_link",
            "created": now,
            "expires_at": now + 300,
            "url": f"{self.url}/onboarding/{params['account']}",
        }

    def _create_transfer(self, params: dict[str, Any], key: str | None) -> dict[str, Any]:
        try:
            amount = int(params.get("amount", ""))
        except ValueError:
            raise StripeFailure(
                400,
                "invalid_request_error",
                "Invalid integer: amount",
                "parameter_invalid_integer",
                "amount",
            ) from None
        if amount < 1:
            raise StripeFailure(
                400,
                "invalid_request_error",
                "This value must be greater than or equal to 1.",
                "parameter_invalid_integer",
                "amount",
            )
        if params.get("currency") != "gbp":
            raise StripeFailure(
                400,
                "invalid_request_error",
                "Invalid currency",
                "parameter_invalid_string",
                "currency",
            )
        with self._lock:
            destination = self.accounts.get(params.get("destination", ""))
            if destination is None:
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    f"No such destination: '{params.get('destination')}'",
                    "resource_missing",
                    "destination",
                )
            if destination["capabilities"].get("transfers") != "active":
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    "Your destination account needs to have at least one of the following "
                    "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                    "insufficient_capabilities_for_transfer",
                    "destination",
                )
            if amount > self.available_pence:
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    "You have insufficient available funds in your Stripe account.",
                    "balance_insufficient",
                )
            self.available_pence -= amount
            transfer_id = _new("tr")
            transfer = {
                "id": transfer_id,
                "object": "transfer",
                "amount": amount,
                "amount_reversed": 0,
                "balance_transaction": _new("txn"),
                "created": int(time.time()),
                "currency": "gbp",
                "description": params.get("description"),
                "destination": destination["id"],
                "livemode": False,
                "metadata": params.get("metadata", {}),
                "reversals": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "url": f"/v1/transfers/{transfer_id}/reversals",
                },
                "reversed": False,
                "transfer_group": params.get("transfer_group"),
            }
            self.transfers.append(transfer)
        self.emit("transfer.created", transfer, {"id": _new("req"), "idempotency_key": key})
        return transfer

    def _find(self, items: list[dict[str, Any]], object_id: str, label: str) -> dict[str, Any]:
        with self._lock:
            for item in items:
                if item["id"] == object_id:
                    return item
        raise StripeFailure(
            404,
            "invalid_request_error",
            f"No such {label}: '{object_id}'",
            "resource_missing",
            "id",
        )

    def _page(
        self,
        items: list[dict[str, Any]],
        url: str,
        params: dict[str, Any],
        filters: tuple[str, ...],
    ) -> dict[str, Any]:
        limit = max(1, min(100, int(params.get("limit", 10))))
        created = _created_filter(params)
        with self._lock:
            newest_first = [
                i
                for i in reversed(items)
                if all(params.get(f) in (None, i.get(f)) for f in filters) and created(i)
            ]
        after = params.get("starting_after")
        if after:
            ids = [i["id"] for i in newest_first]
            if after not in ids:
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    f"No such object: '{after}'",
                    "resource_missing",
                    "starting_after",
                )
            newest_first = newest_first[ids.index(after) + 1 :]
        page = newest_first[:limit]
        return {"object": "list", "url": url, "has_more": len(newest_first) > limit, "data": page}

    def _balance(self) -> dict[str, Any]:
        with self._lock:
            available = self.available_pence
        return {
            "object": "balance",
            "livemode": False,
            "available": [
                {"amount": available, "currency": "gbp", "source_types": {"card": available}}
            ],
            "pending": [{"amount": 0, "currency": "gbp", "source_types": {"card": 0}}],
        }
