"""The council's ISF register and statements as CSV, and the ISF approved provider register."""

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from agency.accounts.models import Role
from agency.ids import new_id
from agency.isf.invoices import approve_invoice
from agency.isf.models import AccountKind, LedgerAccount, Posting
from agency.privacy import pseudonym
from agency.providers.models import IsfApproval
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_auditor,
    make_manager,
    make_partner,
    make_provider,
    make_user,
    principal_of,
)
from tests.isf.money_factories import fund, make_isf_account, make_isf_arrangement


def rows_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def world(session):
    agency = make_agency(session)
    first = make_isf_account(session, agency, council_reference="BCC-ISF-1")
    second = make_isf_account(session, agency, council_reference="BCC-ISF-2")
    fund(session, first, 50_000)
    fund(session, second, 30_000)
    provider = make_provider(session, agency)
    arrangement = make_isf_arrangement(session, first, provider)
    manager = make_manager(session, agency)
    approve_invoice(
        session,
        principal_of(session, manager),
        arrangement_id=arrangement.id,
        period_start=dt.date(2026, 11, 2),
        period_end=dt.date(2026, 11, 8),
        lines=[{"service": "companionship", "minutes": 120, "amount_pence": 3_600}],
        total_pence=3_600,
    )
    elsewhere = make_agency(session)
    fund(session, make_isf_account(session, elsewhere), 99_900)
    session.add(
        IsfApproval(
            id=new_id("isa"),
            provider_id=provider.id,
            council_id=agency.council_id,
            approved=True,
            reason="ISF panel, October",
            recorded_by=make_user(session).id,
        )
    )
    session.commit()
    return {
        "agency": agency,
        "first": first,
        "provider": provider,
        "auditor": bearer(session, make_auditor(session, agency.council)),
        "manager": bearer(session, manager),
        "other_manager": bearer(session, make_manager(session, elsewhere)),
        "other_auditor": bearer(session, make_auditor(session, elsewhere.council)),
    }


def test_the_register_csv_reconciles_to_the_ledger_to_the_penny(client, session, app, world):
    rows = rows_of(client.get("/isf-accounts.csv", headers=world["auditor"]))
    header, accounts, total = rows[0], rows[1:-1], rows[-1]
    assert header[:3] == ["seeker", "agency", "council_reference"]
    assert sorted(r[2] for r in accounts) == ["BCC-ISF-1", "BCC-ISF-2"]
    secret = app.extensions["agency"].settings.secret_key
    assert {r[0] for r in accounts} == {
        pseudonym(secret, world["first"].seeker_id),
        *[r[0] for r in accounts if r[2] == "BCC-ISF-2"],
    }
    assert all(r[0].startswith("S-") for r in accounts)  # never a seeker id for an auditor
    by_name = dict(zip(header, total, strict=True))
    assert by_name["allocated"] == "800.00"
    assert by_name["spent"] == "36.00"
    assert by_name["committed"] == "36.00"
    assert by_name["balance"] == "764.00"
    in_ledger = int(
        session.scalar(
            select(func.sum(Posting.amount_pence))
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(
                LedgerAccount.kind == AccountKind.ISF,
                LedgerAccount.council_id == world["agency"].council_id,
            )
        )
    )
    assert by_name["balance"] == f"{in_ledger // 100}.{in_ledger % 100:02d}"


def test_each_principal_sees_only_its_own_register(client, session, world):
    manager_rows = rows_of(client.get("/isf-accounts.csv", headers=world["manager"]))
    assert len(manager_rows) == 4 and manager_rows[1][0].startswith("skr_")
    other = rows_of(client.get("/isf-accounts.csv", headers=world["other_manager"]))
    assert [r[-1] for r in other[1:]] == ["999.00", "999.00"]  # its one account, and the total
    _, secret = make_partner(session)
    assert client.get("/isf-accounts.csv", headers=api_key(secret)).status_code == 403
    provider_user = bearer(session, make_user(session, role=Role.PROVIDER))
    assert client.get("/isf-accounts.csv", headers=provider_user).status_code == 403


def test_a_statement_csv_has_a_running_and_closing_balance(client, world):
    url = f"/isf-accounts/{world['first'].id}/statement.csv"
    rows = rows_of(client.get(url, headers=world["auditor"]))
    assert [(r[2], r[4], r[5]) for r in rows[1:-1]] == [
        ("allocation", "500.00", "500.00"),
        ("invoice", "-36.00", "464.00"),
    ]
    assert rows[-1] == ["closing balance", "", "", "", "", "464.00"]
    assert client.get(url, headers=world["other_auditor"]).status_code == 404
    assert client.get(url, headers=world["other_manager"]).status_code == 404


def test_the_approved_provider_register_shows_status_and_isf_money(client, world):
    [entry] = client.get("/isf-approved-providers", headers=world["auditor"]).get_json()
    assert entry["provider_id"] == world["provider"].id
    assert entry["isf_status"] == "approved" and entry["reason"] == "ISF panel, October"
    assert entry["isf_invoiced_pence"] == 3_600 and entry["isf_paid_pence"] == 0
    managers = client.get("/isf-approved-providers", headers=world["manager"]).get_json()
    assert [e["provider_id"] for e in managers] == [world["provider"].id]
    assert client.get("/isf-approved-providers", headers=world["other_auditor"]).get_json() == []
    rows = rows_of(client.get("/isf-approved-providers.csv", headers=world["auditor"]))
    assert rows[1][rows[0].index("isf_invoiced_pence")] == "36.00"
