"""A small world for the introductions tests: an agency, its manager, a provider, a partner
with a seeker and a care request, and a suggestion; plus credentials for each party."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agency.accounts.models import PartnerClient, User
from agency.directory.models import Agency
from agency.ids import new_id
from agency.introductions.models import Suggestion, SuggestionStatus
from agency.providers.models import Provider
from agency.seekers.models import CareRequest, CareSeeker
from tests.factories import (
    api_key,
    bearer,
    make_agency,
    make_care_request,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)


def make_suggestion(
    session: Session, care_request: CareRequest, provider: Provider, **overrides: Any
) -> Suggestion:
    suggestion = Suggestion(
        id=new_id("sug"),
        care_request_id=care_request.id,
        provider_id=provider.id,
        agency_id=care_request.agency_id,
        council_id=care_request.council_id,
        partner_client_id=care_request.partner_client_id,
        rank=1,
        score=0.8,
        explanation={},
        distance_km=0.5,
        status=SuggestionStatus.ACTIVE,
    )
    for key, value in overrides.items():
        setattr(suggestion, key, value)
    session.add(suggestion)
    session.commit()
    return suggestion


def provider_headers(session: Session, provider: Provider) -> dict[str, str]:
    return bearer(session, session.get(User, provider.user_id))


@dataclass
class World:
    agency: Agency
    manager: dict[str, str]
    provider: Provider
    provider_auth: dict[str, str]
    partner: PartnerClient
    partner_auth: dict[str, str]
    seeker: CareSeeker
    care_request: CareRequest
    suggestion: Suggestion


def make_world(session: Session, **request_overrides: Any) -> World:
    agency = make_agency(session)
    provider = make_provider(session, agency)
    partner, secret = make_partner(session)
    seeker = make_seeker(session, partner.id)
    care_request = make_care_request(session, seeker, agency, **request_overrides)
    return World(
        agency=agency,
        manager=bearer(session, make_manager(session, agency)),
        provider=provider,
        provider_auth=provider_headers(session, provider),
        partner=partner,
        partner_auth=api_key(secret),
        seeker=seeker,
        care_request=care_request,
        suggestion=make_suggestion(session, care_request, provider),
    )


def approve(client, world: World, **body: Any):  # type: ignore[no-untyped-def]
    payload = {"suggestion_id": world.suggestion.id, "note": "good fit", **body}
    return client.post(
        f"/care-requests/{world.care_request.id}/introductions",
        json=payload,
        headers=world.manager,
    )


def approved(client, world: World) -> str:  # type: ignore[no-untyped-def]
    response = approve(client, world)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def accepted(client, world: World) -> str:  # type: ignore[no-untyped-def]
    introduction_id = approved(client, world)
    response = client.post(f"/introductions/{introduction_id}/accept", headers=world.provider_auth)
    assert response.status_code == 200, response.get_json()
    return introduction_id


def confirmed(client, world: World, **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    introduction_id = accepted(client, world)
    response = client.post(
        f"/introductions/{introduction_id}/confirm", json=body, headers=world.partner_auth
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()
