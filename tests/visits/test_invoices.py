"""Invoices written on approval: pence to the penny, ISF money, who sees them, JSON and CSV."""

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from agency.ids import new_id
from agency.introductions.models import ArrangementVersion
from agency.isf.isf_accounts import figures_for
from agency.isf.models import EntryKind, Invoice, JournalEntry
from agency.visits.models import Timesheet
from agency.visits.pricing import line_amount, split_minutes
from agency.visits.visit_rules import LONDON
from tests.factories import api_key, bearer, make_auditor, make_manager, make_partner
from tests.visits.visit_helpers import (
    days_ago,
    log,
    make_isf_world,
    make_world,
    other_provider_headers,
    submit,
)


def _three_visits_approved(client, world):  # type: ignore[no-untyped-def]
    """45, 90 and 50 minutes at 1850 p/h: 1387.5 -> 1388, 2775, 1541.67 -> 1542."""
    log(client, world, day=6, start="09:00", end="09:45")
    log(client, world, day=4, start="10:00", end="11:30")
    log(client, world, day=2, start="14:10", end="15:00")
    timesheet = submit(client, world, first=10).json
    return client.post(f"/timesheets/{timesheet['id']}/approve", headers=world.manager_headers)


def test_lines_are_rounded_half_up_to_the_penny_and_the_total_is_their_sum(client, session):
    world = make_world(session)
    approved = _three_visits_approved(client, world)
    assert approved.status_code == 200, approved.json
    invoice = client.get(
        f"/invoices/{approved.json['invoice_id']}", headers=world.manager_headers
    ).json
    assert [line["minutes"] for line in invoice["lines"]] == [45, 90, 50]
    assert [line["amount_pence"] for line in invoice["lines"]] == [1388, 2775, 1542]
    assert invoice["total_pence"] == 5705
    assert invoice["total_minutes"] == 185
    month = dt.datetime.now(LONDON).strftime("%Y%m")
    short = world.agency.slug.upper().replace("-", "")
    assert invoice["number"] == f"INV-{short}-{month}-0001"
    assert invoice["funding"] == "self_funded"
    assert invoice["addressed_to"]["kind"] == "seeker"
    assert invoice["addressed_to"]["name"] == world.seeker.display_name


def test_the_rounding_rules_by_hand():
    assert line_amount(45, 1850) == 1388  # 1387.5 rounds up
    assert line_amount(50, 1850) == 1542  # 1541.67
    assert line_amount(1, 1850) == 31  # 30.83
    assert line_amount(3, 1810) == 91  # 90.5 rounds up
    assert split_minutes(25, ["a", "b"]) == [("a", 13), ("b", 12)]
    assert split_minutes(90, ["a", "b", "c"]) == [("a", 30), ("b", 30), ("c", 30)]


def test_a_visit_with_two_services_splits_its_minutes_equally(client, session):
    world = make_world(session, rates={"companionship": 1850, "shopping_errands": 2000})
    log(
        client,
        world,
        day=2,
        start="10:00",
        end="10:25",
        services=["shopping_errands", "companionship"],
    )
    timesheet = submit(client, world).json
    approved = client.post(f"/timesheets/{timesheet['id']}/approve", headers=world.manager_headers)
    invoice = session.get(Invoice, approved.json["invoice_id"])
    # 13 min of companionship (400.83 -> 401), 12 of shopping (400): the arrangement's order.
    assert [(x["service"], x["minutes"], x["amount_pence"]) for x in invoice.lines] == [
        ("companionship", 13, 401),
        ("shopping_errands", 12, 400),
    ]
    assert invoice.total_pence == 801


def test_each_visit_is_priced_at_the_terms_in_force_on_its_date(client, session):
    world = make_world(session)
    log(client, world, day=6)
    log(client, world, day=2)
    arrangement = world.arrangement
    first = arrangement.versions[0]
    arrangement.versions.append(
        ArrangementVersion(
            id=new_id("arv"),
            version=2,
            services=first.services,
            rates_pence={"companionship": 2400},
            minutes_per_week=300,
            schedule=first.schedule,
            schedule_mask=first.schedule_mask,
            effective_from=days_ago(3),
            created_by="test",
        )
    )
    arrangement.current_version = 2
    session.commit()
    timesheet = submit(client, world).json
    approved = client.post(f"/timesheets/{timesheet['id']}/approve", headers=world.manager_headers)
    invoice = session.get(Invoice, approved.json["invoice_id"])
    assert [(x["rate_pence"], x["terms_version"]) for x in invoice.lines] == [(1850, 1), (2400, 2)]
    assert invoice.total_pence == 4250


def test_an_isf_invoice_is_charged_to_the_isf_and_addressed_to_the_agency(client, session):
    world = make_isf_world(session, 10_000)
    approved = _three_visits_approved(client, world)
    assert approved.status_code == 200, approved.json
    invoice = client.get(
        f"/invoices/{approved.json['invoice_id']}", headers=world.manager_headers
    ).json
    assert invoice["isf_account_id"] == world.arrangement.isf_account_id
    assert invoice["addressed_to"] == {
        "kind": "agency",
        "agency_id": world.agency.id,
        "name": world.agency.name,
    }
    figures = figures_for(session, [world.arrangement.isf_account_id])
    assert figures[world.arrangement.isf_account_id].balance_pence == 10_000 - 5705


def test_too_little_in_the_isf_refuses_approval_and_writes_nothing(client, session):
    world = make_isf_world(session, 5704)  # one penny short
    approved = _three_visits_approved(client, world)
    assert approved.status_code == 409
    assert approved.json["code"] == "insufficient_funds"
    session.expire_all()
    timesheet = session.scalar(select(Timesheet))
    assert timesheet.status.value == "submitted"
    assert timesheet.invoice_id is None and timesheet.approved_at is None
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0
    charges = select(func.count()).where(JournalEntry.kind == EntryKind.INVOICE)
    assert session.scalar(charges) == 0
    figures = figures_for(session, [world.arrangement.isf_account_id])
    assert figures[world.arrangement.isf_account_id].balance_pence == 5704


def test_each_party_lists_only_the_invoices_it_may_see(client, session):
    world = make_world(session)
    invoice_id = _three_visits_approved(client, world).json["invoice_id"]
    other = make_world(session)
    other_id = _three_visits_approved(client, other).json["invoice_id"]
    auditor = bearer(session, make_auditor(session, world.agency.council))
    for headers in (world.manager_headers, world.provider_headers, world.partner_headers, auditor):
        listed = client.get("/invoices", headers=headers)
        assert listed.status_code == 200
        assert [i["id"] for i in listed.json] == [invoice_id]
        assert client.get(f"/invoices/{invoice_id}", headers=headers).status_code == 200
        assert client.get(f"/invoices/{other_id}", headers=headers).status_code == 404
    _, secret = make_partner(session)
    for headers in (
        other_provider_headers(session, world),
        bearer(session, make_manager(session)),
        api_key(secret),
        bearer(session, make_auditor(session)),
    ):
        assert client.get("/invoices", headers=headers).json == []
        assert client.get(f"/invoices/{invoice_id}", headers=headers).status_code == 404
        assert client.get(f"/invoices/{invoice_id}.csv", headers=headers).status_code == 404


def test_invoice_filters_and_their_validation(client, session):
    world = make_world(session)
    invoice_id = _three_visits_approved(client, world).json["invoice_id"]
    month = days_ago(2).strftime("%Y-%m")
    headers = world.manager_headers
    assert [i["id"] for i in client.get(f"/invoices?period={month}", headers=headers).json] == [
        invoice_id
    ]
    assert client.get("/invoices?period=2001-01", headers=headers).json == []
    assert client.get("/invoices?status=paid", headers=headers).json == []
    by_provider = client.get(f"/invoices?provider_id={world.provider.id}", headers=headers)
    assert len(by_provider.json) == 1
    bad = client.get("/invoices?period=2026-13", headers=headers)
    assert bad.status_code == 422 and "period" in bad.json["errors"]
    bad = client.get("/invoices?status=lost", headers=headers)
    assert bad.status_code == 422 and "status" in bad.json["errors"]


def test_auditors_see_a_pseudonym_not_the_seekers_name(client, session):
    world = make_world(session)
    invoice_id = _three_visits_approved(client, world).json["invoice_id"]
    auditor = bearer(session, make_auditor(session, world.agency.council))
    addressed = client.get(f"/invoices/{invoice_id}", headers=auditor).json["addressed_to"]
    assert addressed["seeker_pseudonym"].startswith("S-")
    assert "name" not in addressed and "seeker_id" not in addressed


def test_an_invoice_as_csv_has_a_header_its_lines_and_a_total(client, session):
    world = make_world(session)
    invoice_id = _three_visits_approved(client, world).json["invoice_id"]
    response = client.get(f"/invoices/{invoice_id}.csv", headers=world.partner_headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "invoice_number" and rows[0][-1] == "amount_gbp"
    assert [r[-1] for r in rows[1:4]] == ["13.88", "27.75", "15.42"]
    assert rows[-1][1] == "total" and rows[-1][-1] == "57.05"


@pytest.mark.committed  # the streamed body reads through a session of its own, after the request's
def test_the_invoice_list_as_csv_streams_with_the_same_filters(client, session):
    world = make_world(session)
    _three_visits_approved(client, world)
    make_world(session)
    response = client.get("/invoices.csv?status=approved", headers=world.manager_headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "invoice_number"
    assert len(rows) == 3
    assert rows[-1][0] == "total" and rows[-1][1] == "1" and rows[-1][-1] == "57.05"
    bad = client.get("/invoices.csv?period=nope", headers=world.manager_headers)
    assert bad.status_code == 422 and "period" in bad.json["errors"]


def test_invoice_numbers_count_up_per_agency_and_month(client, session):
    world = make_world(session)
    log(client, world, day=8)
    first = submit(client, world, first=9, last=7).json
    log(client, world, day=2)
    second = submit(client, world, first=3, last=0).json
    numbers = []
    for timesheet in (first, second):
        approved = client.post(
            f"/timesheets/{timesheet['id']}/approve", headers=world.manager_headers
        )
        numbers.append(session.get(Invoice, approved.json["invoice_id"]).number)
    assert [n[-4:] for n in numbers] == ["0001", "0002"]


def test_a_direct_payment_arrangement_is_invoiced_to_the_seeker_and_moves_no_isf_money(
    client, session
):
    world = make_world(session, funding="direct_payment")
    approved = _three_visits_approved(client, world)
    assert approved.status_code == 200, approved.json
    invoice = client.get(
        f"/invoices/{approved.json['invoice_id']}", headers=world.partner_headers
    ).json
    assert invoice["funding"] == "direct_payment" and invoice["isf_account_id"] is None
    assert invoice["addressed_to"]["kind"] == "seeker"
    assert invoice["addressed_to"]["partner_client_id"] == world.seeker.partner_client_id
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == 0


def test_the_invoice_id_comes_from_the_timesheet_so_a_retry_cannot_make_a_second(client, session):
    from agency.isf.invoices import approve_invoice
    from tests.factories import principal_of

    world = make_isf_world(session, 10_000)
    approved = _three_visits_approved(client, world).json
    assert approved["invoice_id"] == "inv_" + approved["id"].removeprefix("tms_")
    invoice = client.get(f"/invoices/{approved['invoice_id']}", headers=world.manager_headers).json
    assert invoice["timesheet_id"] == approved["id"]
    again = approve_invoice(
        session,
        principal_of(session, world.manager),
        arrangement_id=world.arrangement.id,
        period_start=days_ago(10),
        period_end=days_ago(0),
        lines=[],
        total_pence=5705,
        invoice_id=approved["invoice_id"],
    )
    assert again.id == approved["invoice_id"]
    assert session.scalar(select(func.count()).select_from(Invoice)) == 1
    charges = select(func.count()).where(JournalEntry.kind == EntryKind.INVOICE)
    assert session.scalar(charges) == 1
