"""The stand-in answers the real stripe library the way Stripe does."""
# ruff: noqa: F811 - pytest fixtures imported from tests.isf.stripe_fixtures

import pytest
import stripe

from tests.isf.stripe_fixtures import API_KEY, standin  # noqa: F401


@pytest.fixture
def client(standin):
    return stripe.StripeClient(
        API_KEY,
        base_addresses={"api": standin.url, "connect": standin.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=1),
    )


def _enabled_account(client, standin):
    account = client.v1.accounts.create({"type": "express", "country": "GB"})
    standin.complete_onboarding(account.id)
    return account.id


def test_express_account_and_onboarding_link(client, standin):
    account = client.v1.accounts.create(
        {"type": "express", "country": "GB", "capabilities": {"transfers": {"requested": True}}}
    )
    assert account.id.startswith("acct_") and account.object == "account"
    assert account.payouts_enabled is False
    link = client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://x/r",
            "return_url": "https://x/d",
        }
    )
    assert link.object == "account_link" and link.url.startswith(standin.url)
    standin.complete_onboarding(account.id)
    assert client.v1.accounts.retrieve(account.id).payouts_enabled is True
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.accounts.retrieve("acct_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_a_repeated_idempotency_key_replays_the_first_transfer(client, standin):
    destination = _enabled_account(client, standin)
    params = {
        "amount": 3600,
        "currency": "gbp",
        "destination": destination,
        "metadata": {"invoice_id": "inv_1"},
        "transfer_group": "g1",
    }
    first = client.v1.transfers.create(params, {"idempotency_key": "invoice-inv_1-payout"})
    again = client.v1.transfers.create(params, {"idempotency_key": "invoice-inv_1-payout"})
    assert first.id == again.id and first.id.startswith("tr_")
    assert first.metadata["invoice_id"] == "inv_1"
    assert standin.transfer_count() == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.transfers.create(
            {**params, "amount": 3601}, {"idempotency_key": "invoice-inv_1-payout"}
        )


def test_injected_failures_come_back_as_stripe_errors(client, standin):
    destination = _enabled_account(client, standin)
    params = {"amount": 100, "currency": "gbp", "destination": destination}
    standin.fail_next("balance_insufficient")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(params, {"idempotency_key": "k1"})
    assert refused.value.code == "balance_insufficient" and refused.value.http_status == 400
    standin.fail_next("rate_limit")
    with pytest.raises(stripe.RateLimitError):
        client.v1.transfers.create(params, {"idempotency_key": "k2"})
    assert client.v1.transfers.create(params, {"idempotency_key": "k2"}).id  # not stored
    standin.fail_next("api_error")
    with pytest.raises(stripe.APIError):
        client.v1.transfers.create(params, {"idempotency_key": "k3"})
    with pytest.raises(stripe.APIError):  # a stored 500 is replayed, as Stripe documents
        client.v1.transfers.create(params, {"idempotency_key": "k3"})
    standin.fail_next("drop_after_commit")
    with pytest.raises(stripe.APIConnectionError):
        client.v1.transfers.create(params, {"idempotency_key": "k4"})
    standin.hang_seconds = 1.5
    standin.fail_next("timeout_after_commit")
    with pytest.raises(stripe.APIConnectionError):
        client.v1.transfers.create(params, {"idempotency_key": "k5"})
    assert standin.transfer_count() == 3  # k2, k4, k5 were made, whatever the client saw
    assert client.v1.transfers.create(params, {"idempotency_key": "k4"}).id  # replayed
    assert standin.transfer_count() == 3


def test_transfers_list_pages_newest_first(client, standin):
    destination = _enabled_account(client, standin)
    made = [
        client.v1.transfers.create({"amount": n, "currency": "gbp", "destination": destination}).id
        for n in range(1, 6)
    ]
    page = client.v1.transfers.list({"limit": 2})
    assert [t.id for t in page.data] == made[::-1][:2] and page.has_more is True
    rest = client.v1.transfers.list({"limit": 10, "starting_after": page.data[-1].id})
    assert [t.id for t in rest.data] == made[::-1][2:] and rest.has_more is False
    assert len(list(client.v1.transfers.list({"limit": 2}).auto_paging_iter())) == 5
    balance = client.v1.balance.retrieve()
    assert balance.object == "balance" and balance.available[0].currency == "gbp"
    events = client.v1.events.list({"type": "transfer.created"})
    assert len(events.data) == 5 and events.data[0].id.startswith("evt_")


def test_webhooks_are_signed_the_way_stripe_signs_them(client, standin):
    _enabled_account(client, standin)
    [event] = list(standin.undelivered)
    body, headers = standin.signed(event)
    verified = stripe.Webhook.construct_event(
        body, headers["Stripe-Signature"], standin.webhook_secret
    )
    assert verified.id == event["id"] and verified.type == "account.updated"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            body + b" ", headers["Stripe-Signature"], standin.webhook_secret
        )


def test_transfers_list_filters_by_created_as_stripe_does(client, standin):
    destination = _enabled_account(client, standin)
    made = [
        client.v1.transfers.create({"amount": n, "currency": "gbp", "destination": destination}).id
        for n in range(1, 4)
    ]
    for transfer, created in zip(standin.transfers, (100, 200, 300), strict=True):
        transfer["created"] = created

    def listed(created, **params):  # type: ignore[no-untyped-def]
        page = client.v1.transfers.list({"created": created, **params})
        return [t.id for t in page.data]

    assert listed({"gte": 200}) == made[:0:-1]
    assert listed({"gt": 200}) == [made[2]]
    assert listed({"lt": 200}) == [made[0]]
    assert listed({"lte": 200}) == made[1::-1]
    assert listed({"gte": 100, "lt": 300}) == made[1::-1]
    assert listed(200) == [made[1]]
    # Pages of a filtered list page through the filtered transfers only.
    first = client.v1.transfers.list({"created": {"gte": 200}, "limit": 1})
    assert [t.id for t in first.data] == [made[2]] and first.has_more is True
    assert listed({"gte": 200}, limit=1, starting_after=made[2]) == [made[1]]
    assert len(list(client.v1.transfers.list({"created": {"gte": 150}}).auto_paging_iter())) == 2
    for wrong, param, code in (
        ({"gte": "soon"}, "created[gte]", "parameter_invalid_integer"),
        ({"after": 1}, "created[after]", "parameter_unknown"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.transfers.list({"created": wrong})
        assert refused.value.http_status == 400
        assert (refused.value.code, refused.value.param) == (code, param)
