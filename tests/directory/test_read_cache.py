"""The public read cache never serves a page older than the last committed change."""

import json

from sqlalchemy import update

from agency.directory import feed_version
from agency.providers.models import ComplianceItem, ComplianceStatus, ListingStatus
from tests.factories import api_key, make_agency, make_partner, make_provider


def _names(client, url, headers=None):
    body = client.get(url, headers=headers or {}).get_json()
    items = body["contents"] if isinstance(body, dict) else body
    return sorted(item.get("name") or item["trading_name"] for item in items)


def test_a_committed_change_shows_at_once(client, session):
    agency = make_agency(session)
    first = make_provider(session, agency, trading_name="First")
    _, secret = make_partner(session)
    session.commit()
    headers = api_key(secret)
    assert _names(client, "/oruk/services") == ["First"]
    assert _names(client, "/directory/providers", headers) == ["First"]
    before = feed_version.current(session)
    make_provider(session, agency, trading_name="Second")
    session.commit()
    assert feed_version.current(session) > before
    assert _names(client, "/oruk/services") == ["First", "Second"]
    assert _names(client, "/directory/providers", headers) == ["First", "Second"]
    first.listings[0].status = ListingStatus.SUSPENDED
    session.commit()
    assert _names(client, "/oruk/services") == ["Second"]
    assert client.get(f"/oruk/services/{first.oruk_id}").status_code == 404


def test_a_bulk_update_refreshes_the_pages_too(client, session):
    agency = make_agency(session)
    provider = make_provider(session, agency, trading_name="Only")
    session.commit()
    assert _names(client, "/oruk/services") == ["Only"]
    session.execute(
        update(ComplianceItem)
        .where(ComplianceItem.provider_id == provider.id)
        .values(status=ComplianceStatus.REJECTED)
    )
    session.commit()
    assert _names(client, "/oruk/services") == []


def test_a_rolled_back_change_moves_nothing(client, session):
    agency = make_agency(session)
    provider = make_provider(session, agency)
    session.commit()
    before = feed_version.current(session)
    provider.trading_name = "Renamed"
    session.flush()
    session.rollback()
    assert feed_version.current(session) == before


def test_a_cached_page_keeps_its_headers_and_cors(client, session):
    agency = make_agency(session)
    for name in ("A", "B", "C"):
        make_provider(session, agency, trading_name=name)
    _, secret = make_partner(session)
    session.commit()
    for _ in range(2):  # a miss, then a hit
        response = client.get("/directory/providers?page_size=2", headers=api_key(secret))
        assert json.loads(response.headers["X-Pagination"])["total"] == 3
        oruk = client.get("/oruk/services?per_page=2")
        assert oruk.headers["Access-Control-Allow-Origin"] == "*"
        assert oruk.get_json()["total_items"] == 3 and oruk.get_json()["size"] == 2
    assert client.get("/directory/providers").status_code == 401  # auth before the cache
