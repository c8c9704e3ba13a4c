"""One in-date compliance rule: the public directory, the ORUK feed and the matcher agree.

The matcher's view is ``introductions.pools.provider_record`` (what a match job builds);
the directory's and ORUK's are their SQL queries, seen through the API.
"""

import datetime as dt

import pytest

from agency.directory.eligibility import london_today
from agency.ids import new_id
from agency.introductions.pools import provider_record
from agency.providers.models import ComplianceItem, ComplianceKind, ComplianceStatus
from tests.factories import api_key, make_agency, make_partner, make_provider

TODAY = london_today()
DAY = dt.timedelta(days=1)
DBS, INS, CQC = ComplianceKind.DBS, ComplianceKind.INSURANCE, ComplianceKind.CQC_REGISTRATION
COMPANION = {"companionship": 1800}
CARE_ONLY = {"personal_care": 2400}
BOTH = {"personal_care": 2400, "companionship": 1800}


def item(kind, issued=TODAY - 400 * DAY, expires=TODAY + 300 * DAY, status="verified"):
    return (kind, issued, expires, ComplianceStatus(status))


ALL_GOOD = [item(DBS), item(INS)]
# name: (services, items, shown everywhere?)
CASES = {
    "in date": (COMPANION, ALL_GOOD, True),
    "expires today": (COMPANION, [item(DBS, expires=TODAY), item(INS)], True),
    "expired yesterday": (COMPANION, [item(DBS, expires=TODAY - DAY), item(INS)], False),
    "no expiry date": (COMPANION, [item(DBS, expires=None), item(INS)], True),
    "issued tomorrow": (COMPANION, [item(DBS, issued=TODAY + DAY), item(INS)], False),
    "issued today": (COMPANION, [item(DBS, issued=TODAY), item(INS)], True),
    "no issue date": (COMPANION, [item(DBS, issued=None), item(INS)], True),
    "pending DBS": (COMPANION, [item(DBS, status="pending"), item(INS)], False),
    "rejected insurance": (COMPANION, [item(DBS), item(INS, status="rejected")], False),
    "no insurance": (COMPANION, [item(DBS)], False),
    "renewal not yet issued": (
        COMPANION,
        [item(DBS, expires=TODAY - DAY), item(DBS, issued=TODAY + DAY), item(INS)],
        False,
    ),
    "renewal issued": (
        COMPANION,
        [item(DBS, expires=TODAY - DAY), item(DBS, issued=TODAY - DAY), item(INS)],
        True,
    ),
    "personal care only, no CQC": (CARE_ONLY, ALL_GOOD, False),
    "personal care and companionship, no CQC": (BOTH, ALL_GOOD, False),
    "personal care, CQC lapsed": (BOTH, [*ALL_GOOD, item(CQC, expires=TODAY - DAY)], False),
    "personal care, CQC not yet issued": (
        CARE_ONLY,
        [*ALL_GOOD, item(CQC, issued=TODAY + DAY)],
        False,
    ),
    "personal care, CQC in date": (CARE_ONLY, [*ALL_GOOD, item(CQC, expires=None)], True),
    "companionship, CQC lapsed (not needed)": (
        COMPANION,
        [*ALL_GOOD, item(CQC, expires=TODAY - DAY)],
        True,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_directory_oruk_and_matcher_agree(client, session, name):
    rates, items, expected = CASES[name]
    agency = make_agency(session)
    provider = make_provider(session, agency, rates=rates, compliant_until=None)
    provider.compliance_items = [
        ComplianceItem(
            id=new_id("cmp"),
            kind=kind,
            evidence_reference=f"{kind.value}-{i}",
            issued_on=issued,
            expires_on=expires,
            status=status,
        )
        for i, (kind, issued, expires, status) in enumerate(items)
    ]
    session.commit()
    _, secret = make_partner(session)
    directory = {
        p["id"] for p in client.get("/directory/providers", headers=api_key(secret)).get_json()
    }
    oruk = {s["id"] for s in client.get("/oruk/services").get_json()["contents"]}
    record = provider_record(provider, 0.0, TODAY, today=TODAY)
    matcher = (
        agency.id in record.approved_agencies
        and record.compliance_valid_until is not None
        and record.compliance_valid_until >= TODAY
    )
    assert (provider.id in directory, provider.oruk_id in oruk, matcher) == (expected,) * 3
    item_status = client.get(f"/oruk/services/{provider.oruk_id}").status_code
    assert item_status == (200 if expected else 404)
