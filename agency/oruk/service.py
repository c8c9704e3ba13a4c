"""Open Referral UK: approved, in-date providers as ORUK services (see docs/oruk.md).

One service per provider, offered by an organisation that is the provider itself
(micro-providers are sole traders and small groups). The rows come from the
public provider directory, so this view can never show more than seekers see:
no email, no contact, no compliance evidence, no exact location.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agency.directory import eligibility, provider_directory
from agency.directory.models import ServiceType
from agency.directory.provider_directory import PublicEntry
from agency.directory.service import list_service_types
from agency.errors import InvalidInput
from agency.pagination import page_of
from agency.providers.models import Provider

VOCABULARY = "introductory-agency-services"
ORUK_VERSION = "3.0"
PROFILE = "https://openreferraluk.org"
# Child records (languages, areas, costs, attributes) have no rows of their own here:
# their ids are UUIDv5 of the parent id and what they describe, so they are stable.
_NAMESPACE = uuid.UUID("6f1c1c56-6a43-4c0e-9a55-7f0e0ad1b1a7")
# Our filter names -> the ORUK query parameters they came from, for 422 bodies.
_PARAMETER = {"service": "taxonomy_term_id", "outcode": "postcode"}


@dataclass
class _Page:
    """What agency.pagination.page_of needs: page, page_size, and room for the total."""

    page: int
    page_size: int
    item_count: int | None = None


def list_services(
    session: Session, query: dict[str, Any], today: dt.date | None = None
) -> dict[str, Any]:
    """One ORUK page of services: ``page``, ``per_page``, ``taxonomy_term_id``, ``postcode``."""
    today = today or eligibility.london_today()
    filters = {"service": query.get("taxonomy_term_id"), "outcode": query.get("postcode")}
    try:
        stmt = provider_directory.public_query(session, filters, today)
    except InvalidInput as error:
        renamed = {_PARAMETER.get(k, k): v for k, v in (error.errors or {}).items()}
        raise InvalidInput(errors=renamed) from None
    stmt = stmt.options(*provider_directory.PAGE_LOADS).order_by(Provider.trading_name, Provider.id)
    pager = _Page(query["page"], query["per_page"])
    providers = page_of(session, stmt, pager)
    entries = provider_directory.public_entries(session, providers, today)
    terms = _terms(session)
    return envelope([to_service(e, terms) for e in entries], pager)


def get_service(session: Session, service_id: str, today: dt.date | None = None) -> dict[str, Any]:
    """One ORUK service; 404 unless the provider is approved and in date."""
    entry = provider_directory.public_provider(session, service_id, today)
    return to_service(entry, _terms(session))


def list_taxonomy_terms(session: Session, page: int, per_page: int) -> dict[str, Any]:
    """Our service types as terms of one taxonomy, in an ORUK page."""
    terms = [to_term(kind) for kind in list_service_types(session)]
    start = (page - 1) * per_page
    pager = _Page(page, per_page, len(terms))
    return envelope(terms[start : start + per_page], pager)


def envelope(contents: list[Any], pager: _Page) -> dict[str, Any]:
    """The ORUK v3 paged envelope."""
    total = pager.item_count or 0
    total_pages = math.ceil(total / pager.page_size)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": pager.page,
        "size": pager.page_size,
        "first_page": pager.page == 1,
        "last_page": pager.page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def to_term(kind: ServiceType) -> dict[str, Any]:
    return {
        "id": kind.key,
        "code": kind.key,
        "name": kind.name,
        "description": kind.description,
        "parent_id": None,
        "taxonomy": VOCABULARY,
        "vocabulary": VOCABULARY,
        "language": "en",
    }


def to_service(entry: PublicEntry, terms: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A provider as an ORUK service (the mapping is documented in docs/oruk.md)."""
    provider = entry.provider
    service_id = provider.id
    radius = f"{provider.travel_radius_km:g}"
    return {
        "id": service_id,
        "organization_id": provider.id,
        "name": provider.trading_name,
        "description": provider.bio,
        "status": "active",
        "url": None,
        "email": None,
        "fees_description": _fees(entry.services),
        "last_modified": provider.updated_at,
        "organization": {"id": provider.id, "name": provider.trading_name},
        "service_areas": [
            {
                "id": _child_id(service_id, "area", provider.base_outcode),
                "service_id": service_id,
                "name": provider.base_outcode,
                "description": (
                    f"Up to {radius} km from the centre of postcode district "
                    f"{provider.base_outcode}"
                ),
                "extent": None,
                "extent_type": None,
                "uri": None,
            }
        ],
        "languages": [
            {
                "id": _child_id(service_id, "language", code),
                "service_id": service_id,
                "name": code,
                "code": code.lower() if len(code) <= 3 else None,
            }
            for code in provider.languages or []
        ],
        "cost_options": [
            {
                "id": _child_id(service_id, "cost", s["service_key"]),
                "service_id": service_id,
                "option": s["name"],
                "currency": "GBP",
                "amount": s["rate_pence"] / 100,
                "amount_description": "per hour",
            }
            for s in entry.services
        ],
        "attributes": [
            {
                "id": _child_id(service_id, "attribute", s["service_key"]),
                "link_id": service_id,
                "link_type": "service",
                "link_entity": "service",
                "taxonomy_term_id": s["service_key"],
                "value": None,
                "taxonomy_term": terms[s["service_key"]],
            }
            for s in entry.services
        ],
    }


def _fees(services: list[dict[str, Any]]) -> str | None:
    if not services:
        return None
    lowest = min(s["rate_pence"] for s in services)
    return f"From £{lowest / 100:.2f} per hour"


def _terms(session: Session) -> dict[str, dict[str, Any]]:
    return {kind.key: to_term(kind) for kind in list_service_types(session)}


def _child_id(service_id: str, kind: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{service_id}/{kind}/{key}"))
