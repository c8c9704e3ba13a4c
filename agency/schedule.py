"""Weekly time windows in the API <-> the matcher's 336-slot masks, stored as hex."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from marshmallow import validate

import matching
from agency.errors import InvalidInput

# A window's times on the wire: HH:MM on the half hour (matching's slots), Europe/London;
# 24:00 only ends a day. The document gives both as patterns.
WINDOW_START = validate.Regexp(
    r"^([01][0-9]|2[0-3]):(00|30)$", error="Use HH:MM on the half hour, 00:00 to 23:30."
)
WINDOW_END = validate.Regexp(
    r"^(([01][0-9]|2[0-3]):(00|30)|24:00)$",
    error="Use HH:MM on the half hour; 24:00 ends the day.",
)


def mask_to_hex(mask: matching.availability.Mask) -> str:
    return mask.astype(">u8").tobytes().hex()


def mask_from_hex(text: str) -> matching.availability.Mask:
    raw = bytes.fromhex(text)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def windows_to_mask(
    windows: Iterable[Mapping[str, object]], field: str
) -> matching.availability.Mask:
    """API windows [{"weekday", "start", "end"}] -> mask; 422 naming ``field`` when invalid."""
    try:
        return matching.mask_from_windows(
            [(int(w["weekday"]), str(w["start"]), str(w["end"])) for w in windows]  # type: ignore[call-overload]
        )
    except matching.InvalidWindow as error:
        raise InvalidInput(errors={field: [str(error)]}) from None


def mask_to_windows(mask: matching.availability.Mask) -> list[dict[str, object]]:
    return [{"weekday": d, "start": s, "end": e} for d, s, e in matching.windows_from_mask(mask)]
