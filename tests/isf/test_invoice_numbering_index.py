"""Invoice numbering counts the month's invoices by prefix through an index, not a scan."""

import datetime as dt

import pytest
from sqlalchemy import event

from agency.visits.timesheets import next_invoice_number
from tests.factories import make_agency


@pytest.mark.postgres
def test_the_months_count_is_served_by_the_prefix_index_whatever_the_collation(session):
    agency = make_agency(session)
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        captured.append((statement, parameters))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", capture)
    try:
        number = next_invoice_number(session, agency, dt.datetime(2026, 12, 2, tzinfo=dt.UTC))
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    assert number.endswith("-202612-0001")
    [(statement, parameters)] = captured
    # A table this small is scanned when scanning is allowed; with it priced out, only an
    # index that can serve the LIKE avoids it (the unique index cannot, unless the
    # database's collation is C).
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(
        row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
    )
    assert "ix_invoices_number_prefix" in plan, plan
