"""Erasure reaches every column that can hold text about the person, and no column is forgotten.

``agency.privacy.TEXT_COLUMNS`` classifies every String, Text and JSON column that is not a
key. The first test fails when someone adds such a column without classifying it; the second
writes a marker into every column classified as seeker text (and into free text that goes
through the API, so the audit trail sees it), erases the seeker, and searches every text
column of every table for the marker.
"""

import datetime as dt

from sqlalchemy import JSON, Enum, String, Text, cast, func, select, update
from sqlalchemy import Text as TextType

import agency.models  # noqa: F401 - every model registered
from agency.audit.models import AuditEntry
from agency.db import Base
from agency.erasure import seeker_rows
from agency.ids import new_id
from agency.introductions.models import (
    Arrangement,
    ArrangementStatus,
    Introduction,
    IntroductionStatus,
    Suggestion,
)
from agency.isf.models import Invoice, JournalEntry
from agency.privacy import TEXT_COLUMNS, seeker_text_columns
from agency.seekers.models import CareRequest, RequestStatus
from tests.factories import make_care_request, make_provider
from tests.visits.visit_helpers import days_ago, log, make_isf_world, submit

MARKER = "AcaciaRd12"  # fits the narrowest column (a postcode sector, 10)


def _text_columns():
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.primary_key or column.foreign_keys or isinstance(column.type, Enum):
                continue
            if isinstance(column.type, (String, Text, JSON)):
                yield table, column


def test_every_column_that_can_hold_text_is_classified():
    unclassified = [
        f"{table.name}.{column.name}"
        for table, column in _text_columns()
        if column.name not in TEXT_COLUMNS.get(table.name, {})
    ]
    assert unclassified == [], "classify these in agency.privacy.TEXT_COLUMNS"
    every = {(t.name, c.name) for t, c in _text_columns()}
    stale = [
        f"{table}.{name}"
        for table, cols in TEXT_COLUMNS.items()
        for name in cols
        if (table, name) not in every
    ]
    assert stale == []
    assert set(seeker_text_columns()) <= set(seeker_rows("skr_x"))


def _world_with_everything(client, session):
    """A seeker with a request, a suggestion, a pending and a confirmed introduction, an
    ISF-funded arrangement with two versions, visits (one disputed), an approved timesheet
    (an invoice paid from the ISF) and a queried one."""
    world = make_isf_world(session, 50_000)
    request = session.get(CareRequest, world.arrangement.care_request_id)
    other = make_provider(session, world.agency)
    session.add(
        Suggestion(
            id=new_id("sug"),
            care_request_id=request.id,
            provider_id=other.id,
            agency_id=world.agency.id,
            council_id=world.agency.council_id,
            partner_client_id=world.seeker.partner_client_id,
            rank=1,
            score=0.9,
            explanation={},
        )
    )
    later = make_care_request(session, world.seeker, world.agency)
    session.add(
        Introduction(
            id=new_id("itr"),
            care_request_id=later.id,
            provider_id=other.id,
            agency_id=world.agency.id,
            council_id=world.agency.council_id,
            partner_client_id=world.seeker.partner_client_id,
            approved_by=world.manager.id,
            respond_by=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        )
    )
    session.commit()
    changed = client.post(
        f"/arrangements/{world.arrangement.id}/versions",
        json={"effective_from": days_ago(0).isoformat(), "change_reason": MARKER},
        headers=world.manager_headers,
    )
    assert changed.status_code == 201, changed.json
    assert log(client, world, day=12).status_code == 201
    approved = client.post(
        f"/timesheets/{submit(client, world, first=14, last=10).json['id']}/approve",
        headers=world.manager_headers,
    )
    assert approved.status_code == 200, approved.json
    visit = log(client, world, day=3, notes=MARKER).json
    disputed = client.post(
        f"/visits/{visit['id']}/dispute", json={"reason": MARKER}, headers=world.partner_headers
    )
    assert disputed.status_code == 200, disputed.json
    rated = log(client, world, day=5, start="14:00", end="15:00").json
    client.post(f"/visits/{rated['id']}/confirm", headers=world.partner_headers)
    feedback = client.post(
        f"/visits/{rated['id']}/feedback",
        json={"rating": 4, "comment": MARKER},
        headers=world.partner_headers,
    )
    assert feedback.status_code == 201, feedback.json
    return world, approved.json["invoice_id"]


def _plant(session, seeker_id):
    """The marker in every seeker-text column of every row of the seeker; each table has one."""
    rows = seeker_rows(seeker_id)
    for table_name, columns in seeker_text_columns().items():
        table = Base.metadata.tables[table_name]
        values = {
            name: ({"note": MARKER} if isinstance(table.c[name].type, JSON) else MARKER)
            for name in columns
        }
        done = session.execute(update(table).where(rows[table_name]).values(**values))
        assert done.rowcount >= 1, f"the world has no {table_name} row to erase"
    session.commit()


def _where_the_marker_is(session):
    found = []
    for table, column in _text_columns():
        hits = session.scalar(
            select(func.count()).select_from(table).where(cast(column, TextType).contains(MARKER))
        )
        if hits:
            found.append(f"{table.name}.{column.name}")
    return found


def test_erasure_leaves_no_text_of_the_person_in_any_column(client, session):
    world, invoice_id = _world_with_everything(client, session)
    _plant(session, world.seeker.id)
    assert "care_seekers.display_name" in _where_the_marker_is(session)  # the search works
    invoice_before = session.get(Invoice, invoice_id)
    pence, isf_id = invoice_before.total_pence, invoice_before.isf_account_id
    entries = session.scalar(select(func.count()).select_from(JournalEntry))

    erased = client.post(f"/care-seekers/{world.seeker.id}/erase", headers=world.partner_headers)
    assert erased.status_code == 200, erased.json

    session.expire_all()
    assert _where_the_marker_is(session) == []
    invoice = session.get(Invoice, invoice_id)  # money records keep their ids and pence
    assert (invoice.total_pence, invoice.isf_account_id) == (pence, isf_id)
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == entries


def test_erasure_ends_what_is_live_refuses_new_visits_and_is_audited_once(client, session):
    world, _ = _world_with_everything(client, session)
    erased = client.post(f"/care-seekers/{world.seeker.id}/erase", headers=world.partner_headers)
    assert erased.status_code == 200
    session.expire_all()
    arrangement = session.get(Arrangement, world.arrangement.id)
    assert arrangement.status is ArrangementStatus.ENDED and arrangement.end_reason == "erased"
    statuses = {
        i.status
        for i in session.scalars(
            select(Introduction).where(
                Introduction.partner_client_id == world.seeker.partner_client_id
            )
        )
    }
    assert IntroductionStatus.AWAITING_PROVIDER not in statuses
    assert IntroductionStatus.WITHDRAWN in statuses
    requests = session.scalars(
        select(CareRequest).where(CareRequest.seeker_id == world.seeker.id)
    ).all()
    assert {r.status for r in requests} == {RequestStatus.WITHDRAWN}
    refused = log(client, world, day=1)
    assert refused.status_code == 409 and refused.json["code"] == "arrangement_not_active"
    actions = session.scalars(select(AuditEntry.action)).all()
    assert actions.count("care_seeker.erased") == 1
    assert actions.count("care_request.status_changed") >= len(requests)
    assert "arrangement.ended" in actions and "introduction.withdrawn" in actions
    [entry] = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "care_seeker.erased")
    ).all()
    assert entry.object_id == world.seeker.id and entry.agency_id == world.agency.id
    assert entry.after["arrangements_ended"] == 1
