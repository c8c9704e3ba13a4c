"""The public provider directory: only approved, in-date providers, only what seekers may see."""

import datetime as dt

from agency.accounts.models import User
from agency.directory.eligibility import london_today
from agency.ids import new_id
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    ListingStatus,
    ProviderListing,
)
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_manager,
    make_partner,
    make_provider,
)

URL = "/directory/providers"
YESTERDAY = london_today() - dt.timedelta(days=1)


def _partner(session):
    return api_key(make_partner(session)[1])


def _ids(response):
    assert response.status_code == 200, response.get_json()
    return {p["id"] for p in response.get_json()}


def test_only_approved_in_date_providers_are_listed(client, session):
    agency = make_agency(session)
    shown = make_provider(session, agency)
    make_provider(session, agency, status=ListingStatus.APPLIED)
    make_provider(session, agency, status=ListingStatus.SUSPENDED)
    make_provider(session, agency, compliant_until=YESTERDAY)
    make_provider(session, agency, compliant_until=None)
    make_provider(session, None)
    pending = make_provider(session, agency)
    pending.compliance_items[1].status = ComplianceStatus.PENDING
    session.commit()
    assert _ids(client.get(URL, headers=_partner(session))) == {shown.id}


def test_a_provider_approved_at_one_agency_and_suspended_at_another_is_listed_once(client, session):
    approving, suspending = make_agency(session, name="A"), make_agency(session, name="B")
    provider = make_provider(session, approving)
    session.add(
        ProviderListing(
            id=new_id("lst"),
            provider_id=provider.id,
            agency_id=suspending.id,
            council_id=suspending.council_id,
            status=ListingStatus.SUSPENDED,
        )
    )
    session.commit()
    [body] = client.get(URL, headers=_partner(session)).get_json()
    assert body["agencies"] == [{"id": approving.id, "name": "A"}]


def test_a_seeker_sees_no_contact_compliance_or_exact_place(client, session):
    agency = make_agency(session, name="BS3 Community")
    make_provider(
        session,
        agency,
        trading_name="Aled's Help",
        bio="Retired nurse, happy to help.",
        gender="man",
        languages=["en", "cy"],
        rates={"companionship": 1900},
    )
    [body] = client.get(URL, headers=_partner(session)).get_json()
    assert set(body) == {
        "id",
        "trading_name",
        "services",
        "languages",
        "gender",
        "bio",
        "area_served",
        "agencies",
    }
    assert body["services"] == [
        {"service_key": "companionship", "name": "Companionship", "rate_pence": 1900}
    ]
    assert body["area_served"] == {"base_outcode": "BS3", "travel_radius_km": 5.0}
    assert body["agencies"] == [{"id": agency.id, "name": "BS3 Community"}]
    assert body["languages"] == ["en", "cy"] and body["gender"] == "man"


def test_a_provider_listing_personal_care_is_shown_only_with_a_cqc_registration(client, session):
    # The matcher's rule (agency.providers.compliance): listing a regulated service makes
    # CQC registration required, so without it the provider is not shown at all.
    agency = make_agency(session)
    rates = {"personal_care": 2400, "companionship": 1800}
    unregistered = make_provider(session, agency, rates=rates)
    registered = make_provider(session, agency, rates=rates)
    registered.compliance_items.append(
        ComplianceItem(
            id=new_id("cmp"),
            kind=ComplianceKind.CQC_REGISTRATION,
            evidence_reference="1-123456789",
            expires_on=None,
            status=ComplianceStatus.VERIFIED,
        )
    )
    make_provider(session, agency, rates={"personal_care": 2400})  # nothing it may offer
    session.commit()
    headers = _partner(session)
    services = {
        p["id"]: [s["service_key"] for s in p["services"]]
        for p in client.get(URL, headers=headers).get_json()
    }
    assert unregistered.id not in services
    assert services[registered.id] == ["companionship", "personal_care"]
    assert _ids(client.get(f"{URL}?service=personal_care", headers=headers)) == {registered.id}


def test_filters_by_service_agency_outcode_and_language(client, session):
    first, second = make_agency(session), make_agency(session)
    gardener = make_provider(session, first, rates={"gardening_repairs": 2000})
    welsh = make_provider(session, second, languages=["en", "CY"])
    far_traveller = make_provider(
        session, second, base_outcode="BS35", lat=51.5975, lon=-2.5485, travel_radius_km=25.0
    )
    homebody = make_provider(
        session, first, base_outcode="BS35", lat=51.5975, lon=-2.5485, travel_radius_km=3.0
    )
    headers = bearer(session, make_manager(session, first))  # any signed-in user may read it
    assert _ids(client.get(f"{URL}?service=gardening_repairs", headers=headers)) == {gardener.id}
    assert _ids(client.get(f"{URL}?agency_id={first.id}", headers=headers)) == {
        gardener.id,
        homebody.id,
    }
    assert _ids(client.get(f"{URL}?outcode=bs3", headers=headers)) == {
        gardener.id,
        welsh.id,
        far_traveller.id,
    }
    assert _ids(client.get(f"{URL}?language=cy", headers=headers)) == {welsh.id}
    assert _ids(client.get(f"{URL}?language=cy&outcode=BS35", headers=headers)) == set()
    assert _ids(client.get(f"{URL}?outcode=BS35&agency_id={first.id}", headers=headers)) == {
        homebody.id
    }


def test_it_pages(client, session):
    agency = make_agency(session)
    for _ in range(3):
        make_provider(session, agency)
    page = client.get(f"{URL}?page=2&page_size=2", headers=_partner(session))
    assert len(page.get_json()) == 1
    assert '"total": 3' in page.headers["X-Pagination"]


def test_invalid_filters_are_422_naming_the_field(client, session):
    headers = _partner(session)
    for query, field in (
        ("?outcode=nowhere", "outcode"),
        ("?outcode=ZZ99", "outcode"),
        ("?service=juggling", "service"),
        ("?agency_id=agy_nope", "agency_id"),
        ("?page_size=101", "page_size"),
    ):
        response = client.get(URL + query, headers=headers)
        assert response.status_code == 422, query
        assert field in response.get_json()["errors"], query


def test_it_needs_credentials_but_any_principal_may_read(client, session):
    agency = make_agency(session)
    provider = make_provider(session, agency)
    assert client.get(URL).status_code == 401
    provider_user = session.get(User, provider.user_id)
    assert client.get(URL, headers=bearer(session, provider_user)).status_code == 200
