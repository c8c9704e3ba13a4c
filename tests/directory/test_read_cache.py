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


def test_a_cached_page_has_an_etag_and_answers_304_to_it(client, session):
    agency = make_agency(session)
    make_provider(session, agency, trading_name="Only")
    _, secret = make_partner(session)
    session.commit()
    for url, headers in (("/oruk/services", {}), ("/directory/providers", api_key(secret))):
        first = client.get(url, headers=headers)  # a miss: built, kept with its ETag
        hit = client.get(url, headers=headers)
        assert first.headers["ETag"] == hit.headers["ETag"] and hit.data == first.data
        same = client.get(url, headers={**headers, "If-None-Match": hit.headers["ETag"]})
        assert same.status_code == 304 and same.data == b""
        other = client.get(url, headers={**headers, "If-None-Match": '"elsewhere"'})
        assert other.status_code == 200 and other.data == first.data
    make_provider(session, agency, trading_name="Second")
    session.commit()
    changed = client.get("/oruk/services", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200  # a change makes a new page with a new ETag


def test_a_revoked_key_is_refused_a_cached_page(client, session):
    from agency.accounts.api_keys import revoke_api_key
    from agency.accounts.models import ApiKey

    agency = make_agency(session)
    make_provider(session, agency)
    partner, secret = make_partner(session)
    session.commit()
    assert client.get("/directory/providers", headers=api_key(secret)).status_code == 200
    assert client.get("/directory/providers", headers=api_key(secret)).status_code == 200
    key_id = session.query(ApiKey.id).filter_by(partner_client_id=partner.id).scalar()
    revoke_api_key(session, partner.id, key_id)
    assert client.get("/directory/providers", headers=api_key(secret)).status_code == 401


def test_an_agency_page_cached_for_its_manager_stays_hidden_from_others(client, session):
    from tests.factories import bearer, make_auditor, make_council, make_manager

    agency = make_agency(session)
    make_provider(session, agency)
    elsewhere = make_agency(session, make_council(session))
    own, other = make_manager(session, agency), make_manager(session, elsewhere)
    stranger = make_auditor(session, elsewhere.council)
    auditor = make_auditor(session, agency.council)
    session.commit()
    url = f"/agencies/{agency.id}/providers"
    for _ in range(2):
        assert client.get(url, headers=bearer(session, own)).status_code == 200
    assert client.get(url, headers=bearer(session, other)).status_code == 404
    assert client.get(url, headers=bearer(session, stranger)).status_code == 404
    assert client.get(url, headers=bearer(session, auditor)).status_code == 200
    assert client.get(url).status_code == 401
