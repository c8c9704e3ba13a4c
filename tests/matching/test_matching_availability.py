"""Weekly slot masks: building, overlap, round trip and validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.availability import (
    InvalidWindow,
    mask_from_slots,
    mask_from_windows,
    mask_hours,
    mask_minutes,
    overlap_slots,
    slots_of_mask,
    windows_from_mask,
)


def test_monday_midnight_is_slot_zero_and_sunday_ends_at_slot_335() -> None:
    assert slots_of_mask(mask_from_windows([(0, "00:00", "00:30")])) == [0]
    assert slots_of_mask(mask_from_windows([(6, "23:30", "24:00")])) == [335]


def test_hours_and_minutes_of_a_mask() -> None:
    mask = mask_from_windows([(d, "09:00", "12:30") for d in range(5)])
    assert mask_minutes(mask) == 5 * 210
    assert mask_hours(mask) == 17.5


@pytest.mark.parametrize(
    "window",
    [
        (0, "09:15", "10:00"),
        (0, "10:00", "10:00"),
        (0, "11:00", "10:00"),
        (7, "09:00", "10:00"),
        (0, "24:00", "24:00"),
        (0, "9:00", "10:00"),
        (0, "09:00", "24:30"),
    ],
)
def test_bad_windows_are_refused(window: tuple[int, str, str]) -> None:
    with pytest.raises(InvalidWindow):
        mask_from_windows([window])


def test_overlap_is_counted_per_provider_row() -> None:
    request = mask_from_windows([(0, "09:00", "11:00")])
    providers = np.stack(
        [
            mask_from_windows([(0, "08:00", "10:00")]),
            mask_from_windows([(1, "09:00", "11:00")]),
            mask_from_windows([(0, "00:00", "24:00")]),
        ]
    )
    assert overlap_slots(providers, request).tolist() == [2, 0, 4]


def test_windows_round_trip_and_merge() -> None:
    mask = mask_from_windows([(2, "09:00", "10:00"), (2, "10:00", "11:30"), (6, "22:00", "24:00")])
    assert windows_from_mask(mask) == [(2, "09:00", "11:30"), (6, "22:00", "24:00")]


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(0, 335)), st.sets(st.integers(0, 335)))
def test_masks_behave_like_sets_of_slots(a: set[int], b: set[int]) -> None:
    mask_a, mask_b = mask_from_slots(a), mask_from_slots(b)
    assert slots_of_mask(mask_a) == sorted(a)
    assert int(overlap_slots(mask_a[None, :], mask_b)[0]) == len(a & b)
    assert mask_from_windows(windows_from_mask(mask_a)).tolist() == mask_a.tolist()
