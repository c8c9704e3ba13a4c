"""Vetting and compliance decisions re-rank the open requests of the provider's agencies.

Each decision goes through the HTTP API of an app whose jobs run inline, so the re-match
a decision asks for has run by the time the response is back.
"""

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from agency import create_app
from agency.accounts.models import User
from agency.introductions.match_jobs import enqueue_match
from agency.introductions.models import Suggestion, SuggestionStatus
from agency.jobs.models import JobRecord
from agency.providers.models import ComplianceKind, ComplianceStatus, ListingStatus, ProviderListing
from tests.factories import (
    bearer,
    make_agency,
    make_care_request,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)


@pytest.fixture
def inline(settings):
    return create_app(replace(settings, redis_url=None))


@pytest.fixture
def db(inline, app):  # `app` empties the tables afterwards
    session = inline.extensions["agency"].sessionmaker()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def world(inline, db):
    agency = make_agency(db)
    manager = make_manager(db, agency)
    partner, _ = make_partner(db)
    care_request = make_care_request(db, make_seeker(db, partner.id), agency)
    return agency, bearer(db, manager), care_request


def suggested(db, care_request):
    db.expire_all()
    return [
        s.provider_id
        for s in db.scalars(
            select(Suggestion)
            .where(
                Suggestion.care_request_id == care_request.id,
                Suggestion.status == SuggestionStatus.ACTIVE,
            )
            .order_by(Suggestion.rank)
        )
    ]


def matched_once(inline, db, care_request):
    with inline.app_context():
        enqueue_match(db, care_request)
        db.commit()


def listing_of(db, provider):
    return db.scalar(select(ProviderListing).where(ProviderListing.provider_id == provider.id))


def decide(inline, headers, listing_id, decision):
    response = inline.test_client().post(
        f"/providers/listings/{listing_id}/decisions",
        json={"decision": decision, "reason": "checked"},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()


def test_approving_a_listing_puts_the_provider_into_open_requests_suggestions(inline, db, world):
    agency, headers, care_request = world
    provider = make_provider(db, agency, status=ListingStatus.APPLIED)
    matched_once(inline, db, care_request)
    assert suggested(db, care_request) == []
    decide(inline, headers, listing_of(db, provider).id, "approve")
    assert suggested(db, care_request) == [provider.id]


def test_suspending_takes_the_provider_out_and_reinstating_brings_it_back(inline, db, world):
    agency, headers, care_request = world
    provider = make_provider(db, agency)
    matched_once(inline, db, care_request)
    assert suggested(db, care_request) == [provider.id]
    listing_id = listing_of(db, provider).id
    decide(inline, headers, listing_id, "suspend")
    assert suggested(db, care_request) == []
    decide(inline, headers, listing_id, "reinstate")
    assert suggested(db, care_request) == [provider.id]


def test_asking_for_more_information_changes_nothing_the_matcher_reads(inline, db, world):
    agency, headers, care_request = world
    provider = make_provider(db, agency, status=ListingStatus.APPLIED)
    decide(inline, headers, listing_of(db, provider).id, "request_info")
    assert db.scalars(select(JobRecord).where(JobRecord.name == "rematch_agency")).all() == []


def test_verifying_the_last_missing_document_makes_the_provider_suggested(inline, db, world):
    agency, headers, care_request = world
    provider = make_provider(db, agency)
    dbs = next(i for i in provider.compliance_items if i.kind is ComplianceKind.DBS)
    dbs.status = ComplianceStatus.PENDING
    db.commit()
    matched_once(inline, db, care_request)
    assert suggested(db, care_request) == []
    response = inline.test_client().post(
        f"/providers/{provider.id}/compliance/{dbs.id}/verify",
        json={"note": "seen the certificate"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert suggested(db, care_request) == [provider.id]


def test_rejecting_a_verified_document_takes_the_provider_out(inline, db, world):
    agency, headers, care_request = world
    provider = make_provider(db, agency)
    insurance = next(i for i in provider.compliance_items if i.kind is ComplianceKind.INSURANCE)
    matched_once(inline, db, care_request)
    assert suggested(db, care_request) == [provider.id]
    response = inline.test_client().post(
        f"/providers/{provider.id}/compliance/{insurance.id}/reject",
        json={"reason": "the policy was cancelled"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert suggested(db, care_request) == []


def test_a_document_expiring_before_the_start_date_takes_the_provider_out(inline, db, world):
    agency, _, care_request = world
    provider = make_provider(db, agency)
    insurance = next(i for i in provider.compliance_items if i.kind is ComplianceKind.INSURANCE)
    matched_once(inline, db, care_request)
    assert suggested(db, care_request) == [provider.id]
    # The provider records the policy's real expiry, before the request's start date.
    response = inline.test_client().patch(
        f"/providers/{provider.id}/compliance/{insurance.id}",
        json={"expires_on": (care_request.start_date - dt.timedelta(days=1)).isoformat()},
        headers=bearer(db, db.get(User, provider.user_id)),
    )
    assert response.status_code == 200, response.get_json()
    assert suggested(db, care_request) == []
