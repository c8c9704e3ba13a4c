"""Every ORUK endpoint's responses against the vendored uk-profile schemas: 0 errors.

Over the Bristol demo and over generated edge cases (no bio, no services, a full
calendar, max page, every filter). Each test prints what it validated, so the run
shows the counts (``pytest -s tests/oruk``).
"""

import json

from agency import create_app
from agency.providers.models import ComplianceKind
from tests.factories import make_agency, make_arrangement, make_partner, make_provider, make_seeker
from tests.oruk.conformance import Tally

FILTERS = (
    "search=companion",
    "text=companion",
    "taxonomy_term_id=companionship",
    "taxonomy_id=introductory-agency-services",
    "postcode=BS3 4AB",
    "postcode=BS3&proximity=2000",
    "day=TU",
    "day=saturday&start_time=10:00&end_time=12:00",
    "start_time=09:00",
    "end_time=12:00",
    "modified_after=2020-01-01T00:00:00Z",
    "full=true",
    "minimal=true",
    "per_page=100",
    "page=2&per_page=1",
    "page=100000&per_page=100",
)


def _crawl(client, tally: Tally, per_page: int = 50) -> None:
    tally.check(client, "/oruk/")
    for listing in ("/oruk/services", "/oruk/service_at_locations"):
        page, last = 1, False
        while not last:
            body = tally.check(client, f"{listing}?page={page}&per_page={per_page}")
            for item in body["contents"]:
                tally.check(client, f"{listing}/{item['id']}")
            last, page = body["last_page"], page + 1
    tally.check(client, f"/oruk/services?full=true&per_page={per_page}")
    tally.check(client, "/oruk/services?minimal=true&per_page=100")
    taxonomies = tally.check(client, "/oruk/taxonomies")
    for taxonomy in taxonomies["contents"]:
        tally.check(client, f"/oruk/taxonomies/{taxonomy['id']}")
    terms = tally.check(client, "/oruk/taxonomy_terms?per_page=100")
    for term in terms["contents"]:
        tally.check(client, f"/oruk/taxonomy_terms/{term['id']}")
    for query in FILTERS:
        for listing in ("/oruk/services", "/oruk/service_at_locations"):
            tally.check(client, f"{listing}?{query}")


def test_the_demo_feed_validates_against_the_uk_profile(demo_copy):
    demo_settings, _ = demo_copy  # a copy of the demo seed-demo made
    client = create_app(demo_settings).test_client()
    tally = Tally()
    _crawl(client, tally)
    print(f"\nORUK demo: {tally.responses} responses validated, {len(tally.errors)} errors")
    assert tally.errors == []
    assert tally.by_path["/oruk/services"] > 5
    services = client.get("/oruk/services?per_page=1").get_json()["total_items"]
    assert services > 100  # the demo's eligible providers are all there


def test_edge_cases_validate_against_the_uk_profile(client, session):
    agency = make_agency(session)
    make_provider(session, agency, bio=None, trading_name="No Bio")
    make_provider(session, agency, trading_name="No Services").services = []
    make_provider(session, agency, languages=[], trading_name="No Languages")
    make_provider(
        session,
        agency,
        trading_name="Always Free",
        windows=[{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
        capacity_hours_per_week=0.0,
    )
    make_provider(session, agency, windows=[], trading_name="Never Free")
    carer = make_provider(session, agency, rates={"personal_care": 2500}, trading_name="Carer")
    carer.compliance_items.append(
        _item(ComplianceKind.CQC_REGISTRATION, expires_on=None, reference="1-101")
    )
    busy = make_provider(session, agency, trading_name="Busy")
    partner, _ = make_partner(session)
    make_arrangement(session, agency, busy, make_seeker(session, partner.id))
    session.commit()
    tally = Tally()
    _crawl(client, tally, per_page=2)
    print(f"\nORUK edge cases: {tally.responses} responses validated, {len(tally.errors)} errors")
    assert tally.errors == []


def test_no_bio_no_services_and_capacity(client, session):
    agency = make_agency(session)
    quiet = make_provider(session, agency, bio=None, trading_name="Quiet")
    empty = make_provider(session, agency, trading_name="Empty")
    empty.services = []
    busy = make_provider(session, agency, trading_name="Busy", capacity_hours_per_week=16.0)
    partner, _ = make_partner(session)
    make_arrangement(session, agency, busy, make_seeker(session, partner.id), minutes_per_week=360)
    session.commit()
    service = client.get(f"/oruk/services/{quiet.oruk_id}").get_json()
    assert "Quiet" in service["description"] and "BS3" in service["description"]
    assert service["organization"]["description"] == service["description"]
    assert client.get(f"/oruk/services/{empty.oruk_id}").status_code == 404
    capacity = client.get(f"/oruk/services/{busy.oruk_id}").get_json()["capacity"]
    # WEEKDAY_MORNINGS in the factories: 5 x 4 hours, capped at the 16 hours the provider takes.
    assert capacity["weekly_hours_available"] == 16.0
    assert capacity["weekly_hours_arranged"] == 6.0 and capacity["weekly_hours_spare"] == 10.0
    assert {s["service_type"] for s in capacity["by_service"]} == {
        "companionship",
        "shopping_errands",
    }
    text = json.dumps(capacity)
    assert "seeker" not in text and "arrangement" not in text


def _item(kind, expires_on, reference):
    import datetime as dt

    from agency.ids import new_id
    from agency.providers.models import ComplianceItem, ComplianceStatus

    return ComplianceItem(
        id=new_id("cmp"),
        kind=kind,
        evidence_reference=reference,
        issued_on=dt.date(2024, 1, 1),
        expires_on=expires_on,
        status=ComplianceStatus.VERIFIED,
    )
