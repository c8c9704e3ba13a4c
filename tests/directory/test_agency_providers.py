"""An agency's own provider directory: managers, their council's auditors, admins."""

import datetime as dt

from sqlalchemy import event

from agency.accounts.credential_cache import CredentialCache
from agency.accounts.models import User
from agency.directory.eligibility import london_today
from agency.providers.models import ComplianceStatus, ListingStatus
from agency.web import web_sessionmaker
from tests.factories import (
    api_key,
    bearer,
    make_admin,
    make_agency,
    make_auditor,
    make_manager,
    make_neighbourhood,
    make_partner,
    make_provider,
)

SOON = london_today() + dt.timedelta(days=10)
LAST_WEEK = london_today() - dt.timedelta(days=7)


def _url(agency, query=""):
    return f"/agencies/{agency.id}/providers{query}"


def _ids(response):
    assert response.status_code == 200, response.get_json()
    return [p["id"] for p in response.get_json()]


def test_a_manager_sees_every_provider_listed_at_their_agency(client, session):
    agency = make_agency(session)
    approved = make_provider(session, agency, trading_name="Alpha Care", capacity_hours_per_week=12)
    applied = make_provider(session, agency, status=ListingStatus.APPLIED, trading_name="Beta")
    make_provider(session, make_agency(session), trading_name="Elsewhere")
    response = client.get(_url(agency), headers=bearer(session, make_manager(session, agency)))
    assert _ids(response) == [approved.id, applied.id]
    first = response.get_json()[0]
    assert first["trading_name"] == "Alpha Care"
    assert first["listing"]["status"] == "approved"
    assert first["services"] == [
        {"service_key": "companionship", "rate_pence": 1800},
        {"service_key": "shopping_errands", "rate_pence": 1800},
    ]
    assert first["base_outcode"] == "BS3" and first["travel_radius_km"] == 5.0
    assert first["capacity_hours_per_week"] == 12
    assert {c["kind"] for c in first["compliance"]} == {"dbs", "insurance"}
    assert all(c["days_left"] > 0 and c["status"] == "verified" for c in first["compliance"])
    assert first["flags"] == [] and first["eligible"] is True
    assert "X-Pagination" in response.headers


def test_expired_and_missing_compliance_is_flagged(client, session):
    agency = make_agency(session)
    expired = make_provider(session, agency, compliant_until=LAST_WEEK)
    bare = make_provider(session, agency, compliant_until=None)
    body = {
        p["id"]: p
        for p in client.get(
            _url(agency), headers=bearer(session, make_manager(session, agency))
        ).get_json()
    }
    assert body[expired.id]["flags"] == [
        "dbs_expired",
        "dbs_missing",
        "insurance_expired",
        "insurance_missing",
    ]
    assert body[expired.id]["compliance"][0]["days_left"] == -7
    assert body[bare.id]["flags"] == ["dbs_missing", "insurance_missing"]
    assert not body[expired.id]["eligible"] and not body[bare.id]["eligible"]


def test_filters_by_service_status_neighbourhood_expiry_and_eligibility(client, session):
    agency = make_agency(session)
    headers = bearer(session, make_manager(session, agency))
    hood = make_neighbourhood(session, agency, outcodes=("BS3",))
    gardener = make_provider(session, agency, rates={"gardening_repairs": 2000})
    expiring = make_provider(session, agency, compliant_until=SOON)
    suspended = make_provider(session, agency, status=ListingStatus.SUSPENDED)
    far = make_provider(session, agency, base_outcode="BS35")
    unverified = make_provider(session, agency)
    unverified.compliance_items[0].status = ComplianceStatus.PENDING
    session.commit()

    assert _ids(client.get(_url(agency, "?service=gardening_repairs"), headers=headers)) == [
        gardener.id
    ]
    assert _ids(client.get(_url(agency, "?status=suspended"), headers=headers)) == [suspended.id]
    in_hood = _ids(client.get(_url(agency, f"?neighbourhood_id={hood.id}"), headers=headers))
    assert far.id not in in_hood and gardener.id in in_hood
    assert _ids(
        client.get(_url(agency, "?compliance_expiring_within_days=30"), headers=headers)
    ) == [expiring.id]
    assert (
        client.get(_url(agency, "?compliance_expiring_within_days=5"), headers=headers).get_json()
        == []
    )
    eligible = set(_ids(client.get(_url(agency, "?eligible=true"), headers=headers)))
    assert eligible == {gardener.id, expiring.id, far.id}
    everyone = client.get(_url(agency), headers=headers).get_json()
    assert {p["id"] for p in everyone if p["eligible"]} == eligible  # SQL and Python agree
    assert set(_ids(client.get(_url(agency, "?eligible=false"), headers=headers))) == {
        suspended.id,
        unverified.id,
    }


def test_sorts_and_pages(client, session):
    agency = make_agency(session)
    headers = bearer(session, make_manager(session, agency))
    for name in ("Carys", "Aled", "Bethan"):
        make_provider(session, agency, trading_name=name)
    names = [
        p["trading_name"]
        for p in client.get(_url(agency, "?sort=-trading_name"), headers=headers).get_json()
    ]
    assert names == ["Carys", "Bethan", "Aled"]
    page = client.get(_url(agency, "?page=2&page_size=2"), headers=headers)
    assert [p["trading_name"] for p in page.get_json()] == ["Carys"]
    assert '"total": 3' in page.headers["X-Pagination"]


def test_invalid_filters_are_422_naming_the_field(client, session):
    agency = make_agency(session)
    headers = bearer(session, make_manager(session, agency))
    for query, field in (
        ("?status=lapsed", "status"),
        ("?service=juggling", "service"),
        ("?neighbourhood_id=nbh_nope", "neighbourhood_id"),
        ("?compliance_expiring_within_days=-1", "compliance_expiring_within_days"),
        ("?eligible=perhaps", "eligible"),
        ("?sort=email", "sort"),
        ("?page_size=500", "page_size"),
    ):
        response = client.get(_url(agency, query), headers=headers)
        assert response.status_code == 422, query
        assert field in response.get_json()["errors"], query


def test_a_page_costs_the_same_few_queries_whatever_its_size(client, session, app):
    agency = make_agency(session)
    headers = bearer(session, make_manager(session, agency))
    engine = web_sessionmaker(app).kw["bind"]  # web requests' engine

    def count_queries():
        app.extensions["agency.credentials"] = CredentialCache()  # the token read each time
        statements = []

        def record(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get(_url(agency, "?page_size=50"), headers=headers).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    make_provider(session, agency)
    few = count_queries()
    for _ in range(6):
        make_provider(session, agency)
    assert count_queries() == few


def test_the_councils_auditor_and_admins_read_it(client, session):
    agency = make_agency(session)
    provider = make_provider(session, agency)
    for user in (make_auditor(session, agency.council), make_admin(session)):
        assert _ids(client.get(_url(agency), headers=bearer(session, user))) == [provider.id]


def test_everyone_else_is_refused(client, session):
    agency = make_agency(session)
    provider = make_provider(session, agency)
    other = make_agency(session)
    for user in (make_manager(session, other), make_auditor(session, other.council)):
        assert client.get(_url(agency), headers=bearer(session, user)).status_code == 404
    _, secret = make_partner(session)
    assert client.get(_url(agency), headers=api_key(secret)).status_code == 403
    provider_user = session.get(User, provider.user_id)
    assert client.get(_url(agency), headers=bearer(session, provider_user)).status_code == 403
    admin = bearer(session, make_admin(session))
    assert client.get("/agencies/agy_nope/providers", headers=admin).status_code == 404
