"""Weekly availability as bit masks of 30-minute slots.

A week is 7 * 48 = 336 slots; slot 0 is Monday 00:00-00:30 in Europe/London
*local wall time* (so a "09:00" window stays 09:00 across clock changes). The
slots are packed into 6 uint64 words (384 bits, the last 48 unused): slot ``s``
is bit ``s % 64`` of word ``s // 64``. Overlap of many providers with one
request is a single vectorised ``bitwise_and`` + ``bitwise_count``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

SLOT_MINUTES = 30
SLOTS_PER_DAY = 48
SLOTS_PER_WEEK = 7 * SLOTS_PER_DAY
WORDS = 6
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Mask = npt.NDArray[np.uint64]
Window = tuple[int, str, str]

_TIME_RE = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])$")


class InvalidWindow(ValueError):  # noqa: N818 - domain name, as STYLE.md
    """A time window is malformed (not on 30-minute boundaries, end not after start...)."""

    code = "invalid_window"


def empty_mask() -> Mask:
    """A mask with no slot set."""
    return np.zeros(WORDS, dtype=np.uint64)


def _slot_of(text: str, allow_midnight_end: bool) -> int:
    match = _TIME_RE.match(text)
    if match is None:
        raise InvalidWindow(f"time must be HH:MM, got {text!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes % SLOT_MINUTES:
        raise InvalidWindow(f"time must be on a 30-minute boundary, got {text!r}")
    if hours == 24 and (minutes or not allow_midnight_end):
        raise InvalidWindow(f"24:00 is only allowed as an end time, got {text!r}")
    return (hours * 60 + minutes) // SLOT_MINUTES


def slots_from_windows(windows: Iterable[Window]) -> list[int]:
    """Validated slot numbers covered by windows [(weekday 0-6, "HH:MM", "HH:MM")]."""
    slots: list[int] = []
    for weekday, start, end in windows:
        if not 0 <= weekday <= 6:
            raise InvalidWindow(f"weekday must be 0 (Monday) to 6, got {weekday}")
        first = _slot_of(start, allow_midnight_end=False)
        last = _slot_of(end, allow_midnight_end=True)
        if last <= first:
            raise InvalidWindow(f"window end {end} must be after start {start}")
        base = weekday * SLOTS_PER_DAY
        slots.extend(range(base + first, base + last))
    return slots


def mask_from_slots(slots: Iterable[int]) -> Mask:
    """Pack slot numbers (0..335) into a 6-word mask."""
    mask = empty_mask()
    for slot in slots:
        if not 0 <= slot < SLOTS_PER_WEEK:
            raise InvalidWindow(f"slot out of range: {slot}")
        mask[slot // 64] |= np.uint64(1) << np.uint64(slot % 64)
    return mask


def mask_from_windows(windows: Iterable[Window]) -> Mask:
    """Build a mask from weekly windows; overlapping windows simply merge."""
    return mask_from_slots(slots_from_windows(windows))


def slots_of_mask(mask: Mask) -> list[int]:
    """The slot numbers set in a mask, ascending."""
    bits = np.unpackbits(mask.astype("<u8").view(np.uint8), bitorder="little")
    return [int(s) for s in np.flatnonzero(bits[:SLOTS_PER_WEEK])]


def _clock(slot_of_day: int) -> str:
    minutes = slot_of_day * SLOT_MINUTES
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def windows_from_mask(mask: Mask) -> list[Window]:
    """Turn a mask back into the fewest windows per day (for display).

    Runs are cut at midnight, so a Sunday-night-to-Monday run shows as two windows.
    """
    windows: list[Window] = []
    run_start: int | None = None
    previous = -2
    for slot in [*slots_of_mask(mask), -1]:
        continues = slot == previous + 1 and slot % SLOTS_PER_DAY != 0
        if run_start is not None and not continues:
            day, first = divmod(run_start, SLOTS_PER_DAY)
            windows.append((day, _clock(first), _clock(previous - day * SLOTS_PER_DAY + 1)))
            run_start = None
        if slot >= 0 and run_start is None:
            run_start = slot
        previous = slot
    return windows


def slot_count(mask: Mask) -> int:
    """Number of 30-minute slots set."""
    return int(np.bitwise_count(mask).sum())


def mask_minutes(mask: Mask) -> int:
    """Minutes per week covered by a mask."""
    return slot_count(mask) * SLOT_MINUTES


def mask_hours(mask: Mask) -> float:
    """Hours per week covered by a mask."""
    return mask_minutes(mask) / 60


def overlap_slots(provider_masks: Mask, request_mask: Mask) -> npt.NDArray[np.int64]:
    """Slots shared by each row of an (n, 6) provider matrix and one request mask."""
    shared = np.bitwise_count(np.bitwise_and(provider_masks, request_mask))
    counts: npt.NDArray[np.int64] = shared.sum(axis=-1, dtype=np.int64)
    return counts
