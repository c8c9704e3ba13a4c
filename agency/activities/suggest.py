"""Which activities suit a seeker: near them, at times that fit their care, on their interests.

Plain data in, plain data out (no ORM, no Flask). Each activity session is either *free*
(it overlaps none of the seeker's care windows) or *alongside care* (it overlaps one: the
provider could come along); both are offered, free sessions first. An activity needs at
least one stated interest in common, room left, and to be within ``max_km``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import matching
from agency.schedule import windows_to_mask

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ActivityOffer:
    id: str
    name: str
    lat: float
    lon: float
    schedule: Sequence[dict[str, Any]]
    interests: Sequence[str]
    cost_pence: int
    places_left: int


def suggest(
    offers: Iterable[ActivityOffer],
    *,
    lat: float,
    lon: float,
    interests: Sequence[str],
    care_windows: Sequence[dict[str, Any]],
    max_km: float = 8.0,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Ranked suggestions (most interests shared, then free sessions, then nearest)."""
    care = windows_to_mask(care_windows, "care_windows")
    wanted = set(interests)
    ranked = []
    for offer in offers:
        shared = sorted(wanted.intersection(offer.interests))
        distance = float(matching.haversine_km(lat, lon, offer.lat, offer.lon))
        if not shared or offer.places_left <= 0 or distance > max_km:
            continue
        sessions = []
        for window in offer.schedule:
            overlaps = bool(np.any(windows_to_mask([window], "schedule") & care))
            sessions.append({**window, "timing": "alongside_care" if overlaps else "free"})
        free = sum(1 for s in sessions if s["timing"] == "free")
        ranked.append(
            (
                (-len(shared), -free, distance),
                {
                    "activity_id": offer.id,
                    "name": offer.name,
                    "distance_km": round(distance, 1),
                    "interests_matched": shared,
                    "sessions": sessions,
                    "cost_pence": offer.cost_pence,
                    "places_left": offer.places_left,
                    "explanation": _explain(offer, shared, distance, sessions),
                },
            )
        )
    ranked.sort(key=lambda pair: pair[0])
    return [suggestion for _, suggestion in ranked[:limit]]


def _explain(
    offer: ActivityOffer, shared: list[str], distance: float, sessions: list[dict[str, Any]]
) -> str:
    def when(s: dict[str, Any]) -> str:
        return f"{DAYS[int(s['weekday'])]} {s['start']}-{s['end']}"

    free = [when(s) for s in sessions if s["timing"] == "free"]
    alongside = [when(s) for s in sessions if s["timing"] == "alongside_care"]
    parts = [
        f"Shares {len(shared)} of your interests ({', '.join(shared).replace('_', ' ')})",
        f"{distance:.1f} km away",
    ]
    if free:
        parts.append(f"outside your care visits: {', '.join(free)}")
    if alongside:
        parts.append(
            f"during a care visit, so your provider could come along: {', '.join(alongside)}"
        )
    parts.append("free" if offer.cost_pence == 0 else f"£{offer.cost_pence / 100:.2f} a session")
    return "; ".join(parts) + "."
