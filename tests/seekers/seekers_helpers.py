"""Request bodies and small steps shared by the seekers tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from agency.seekers.request_schemas import london_today
from tests.factories import api_key, make_agency, make_neighbourhood


def consent_body(**overrides: Any) -> dict[str, Any]:
    return {
        "terms_version": "2026-01",
        "purposes": ["introductions", "share_with_providers"],
        "given_at": "2026-01-05T10:00:00Z",
        **overrides,
    }


def seeker_body(**overrides: Any) -> dict[str, Any]:
    return {
        "reference": "bs3c-00421",
        "display_name": "Maggie",
        "contact_preference": "via_partner",
        "postcode": "BS3 4AA",
        "consent": consent_body(),
        **overrides,
    }


def request_body(**overrides: Any) -> dict[str, Any]:
    return {
        "services": ["companionship", "shopping_errands"],
        "hours_per_week": 3,
        "windows": [
            {"weekday": 1, "start": "10:00", "end": "12:00"},
            {"weekday": 3, "start": "14:00", "end": "16:00"},
        ],
        "allow_split": False,
        "start_date": (london_today() + dt.timedelta(days=7)).isoformat(),
        "urgency": "soon",
        "funding": "isf",
        "max_rate_pence": 2200,
        "preferences": {"languages": ["en"], "gender": "female"},
        "notes": "Has a friendly cat.",
        **overrides,
    }


def register(client, secret: str, **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.post("/care-seekers", json=seeker_body(**overrides), headers=api_key(secret))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ask(client, secret: str, seeker_id: str, **overrides: Any):  # type: ignore[no-untyped-def]
    return client.post(
        f"/care-seekers/{seeker_id}/care-requests",
        json=request_body(**overrides),
        headers=api_key(secret),
    )


def covered_agency(session, outcodes: tuple[str, ...] = ("BS3",)):  # type: ignore[no-untyped-def]
    """An agency whose neighbourhood covers ``outcodes`` (BS3, Bedminster, by default)."""
    agency = make_agency(session)
    make_neighbourhood(session, agency, outcodes=outcodes)
    return agency
