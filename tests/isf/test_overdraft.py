"""An ISF goes below zero only as far as its council's auditor approved, never further."""

import datetime as dt

import pytest
from sqlalchemy import select

from agency.audit.models import AuditEntry
from agency.errors import Conflict
from agency.isf.invoices import approve_invoice
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_auditor,
    make_manager,
    make_partner,
    principal_of,
)
from tests.isf.money_factories import fund, make_isf_account, make_isf_arrangement


@pytest.fixture
def world(session):
    agency = make_agency(session)
    isf = make_isf_account(session, agency)
    fund(session, isf, 1_000)
    arrangement = make_isf_arrangement(session, isf)
    manager = make_manager(session, agency)
    return {
        "isf": isf,
        "arrangement": arrangement,
        "manager_user": manager,
        "manager": bearer(session, manager),
        "auditor": bearer(session, make_auditor(session, agency.council)),
        "other_auditor": bearer(session, make_auditor(session)),
    }


def invoice(session, world, pence, day):
    return approve_invoice(
        session,
        principal_of(session, world["manager_user"]),
        arrangement_id=world["arrangement"].id,
        period_start=dt.date(2026, 11, day),
        period_end=dt.date(2026, 11, day),
        lines=[{"service": "companionship", "amount_pence": pence}],
        total_pence=pence,
    )


def test_an_approved_overdraft_lets_an_invoice_through_up_to_its_limit(client, session, world):
    with pytest.raises(Conflict) as refused:
        invoice(session, world, 1_500, 2)
    assert refused.value.code == "insufficient_funds"
    session.rollback()
    url = f"/isf-accounts/{world['isf'].id}/overdraft"
    body = {"limit_pence": 1_000, "reason": "December allocation delayed by the council"}
    response = client.post(url, json=body, headers=world["auditor"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["overdraft_limit_pence"] == 1_000
    invoice(session, world, 1_500, 3)
    account = client.get(f"/isf-accounts/{world['isf'].id}", headers=world["manager"]).get_json()
    assert account["balance_pence"] == -500
    with pytest.raises(Conflict) as beyond:
        invoice(session, world, 600, 4)  # would reach -1,100: past the limit
    assert beyond.value.code == "insufficient_funds"
    session.rollback()
    [entry] = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "isf.overdraft_approved")
    )
    assert entry.after["overdraft_limit_pence"] == 1_000 and entry.principal_kind == "auditor"


def test_only_the_councils_auditor_sets_an_overdraft(client, session, world):
    url = f"/isf-accounts/{world['isf'].id}/overdraft"
    body = {"limit_pence": 5_000, "reason": "because"}
    assert client.post(url, json=body, headers=world["manager"]).status_code == 403
    assert client.post(url, json=body, headers=world["other_auditor"]).status_code == 404
    _, secret = make_partner(session)
    assert client.post(url, json=body, headers=api_key(secret)).status_code == 403
    other_manager = bearer(session, make_manager(session, make_agency(session)))
    assert client.post(url, json=body, headers=other_manager).status_code == 403


def test_an_overdraft_needs_a_whole_non_negative_amount_and_a_reason(client, world):
    url = f"/isf-accounts/{world['isf'].id}/overdraft"
    negative = client.post(
        url, json={"limit_pence": -1, "reason": "x" * 5}, headers=world["auditor"]
    )
    assert negative.status_code == 422 and "limit_pence" in negative.get_json()["errors"]
    no_reason = client.post(url, json={"limit_pence": 100}, headers=world["auditor"])
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    fractional = client.post(
        url, json={"limit_pence": 10.5, "reason": "half"}, headers=world["auditor"]
    )
    assert fractional.status_code == 422
