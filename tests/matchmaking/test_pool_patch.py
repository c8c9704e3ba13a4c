"""The stored pool patched with the changed providers is the pool a full build gives (issue 15)."""

import dataclasses
import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, select

from agency.introductions import pool_cache, pool_patch
from agency.introductions.pool_cache import MatchPoolCache, MatchPoolChange
from agency.introductions.pools import london_today
from agency.providers.models import (
    AvailabilityException,
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    ListingStatus,
    ProviderService,
)
from agency.schedule import mask_to_hex, windows_to_mask
from matching import index as matching_index
from tests.factories import make_agency, make_provider

DAY = dt.date(2027, 1, 4)


def _same_pool(a, b):
    """Every array of the day's pools and their engine indexes equal (patterns by value)."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name
    ia, ib = matching_index.pool_index(a), matching_index.pool_index(b)
    for f in dataclasses.fields(ia):
        x, y = getattr(ia, f.name), getattr(ib, f.name)
        if f.name in ("pattern", "pattern_small", "patterns"):
            continue
        np.testing.assert_array_equal(x, y, err_msg=f.name)
    np.testing.assert_array_equal(ia.patterns[ia.pattern], ib.patterns[ib.pattern])


@pytest.fixture
def agency_of_five(session):
    agency = make_agency(session)
    providers = [make_provider(session, agency) for _ in range(5)]
    return agency, providers


def _stored_then_changed(session, agency, change):
    """The stored snapshot, then ``change(session)`` committed: (loaded, fresh build)."""
    today = london_today()
    pool_cache.load_snapshot(session, agency.id, today)  # builds and stores
    session.commit()
    change(session)
    session.commit()
    state = session.get(MatchPoolCache, agency.id)
    session.refresh(state)
    assert state.built_generation < state.generation
    loaded = pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    return loaded, pool_cache.build_snapshot(session, agency.id, today)


def _patched_equals_build(session, agency, change):
    calls = []
    real = pool_patch.patch

    def spy(*args):
        result = real(*args)
        calls.append(result is not None)
        return result

    pool_patch.patch = spy
    try:
        loaded, built = _stored_then_changed(session, agency, change)
    finally:
        pool_patch.patch = real
    for day in (DAY, dt.date(2026, 12, 25)):
        _same_pool(loaded.on(day, {}), built.on(day, {}))
    return calls


def test_profile_services_compliance_and_time_off_are_patched(session, agency_of_five):
    agency, (a, b, c, d, e) = agency_of_five
    evenings = [{"weekday": 2, "start": "17:00", "end": "21:00"}]

    def change(s):
        a.lat, a.travel_radius_km, a.capacity_hours_per_week = 51.47, 2.5, 7.5
        b.weekly_availability = evenings
        b.availability_mask = mask_to_hex(windows_to_mask(evenings, "w"))
        c.services[0].rate_pence = 2500
        s.delete(c.services[1])
        item = s.scalar(
            select(ComplianceItem).where(
                ComplianceItem.provider_id == d.id, ComplianceItem.kind == ComplianceKind.DBS
            )
        )
        item.expires_on = dt.date(2026, 12, 31)
        s.add(
            AvailabilityException(
                id="avx_patch_test_000000000001", provider_id=e.id, reason="holiday",
                starts_on=dt.date(2026, 12, 20), ends_on=dt.date(2027, 1, 3),
            )
        )  # fmt: skip

    assert _patched_equals_build(session, agency, change) == [True]
    # Kept as a delta beside the arrays: the change log stays until the arrays are stored.
    assert session.scalar(select(func.count()).select_from(MatchPoolChange)) == 5


def test_a_suspended_listing_and_a_cqc_registration_are_patched(session, agency_of_five):
    agency, (a, b, *_) = agency_of_five

    def change(s):
        a.listings[0].status = ListingStatus.SUSPENDED
        s.add(
            ComplianceItem(
                id="cmp_patch_test_000000000001", provider_id=b.id,
                kind=ComplianceKind.CQC_REGISTRATION, evidence_reference="cqc",
                issued_on=dt.date(2024, 1, 1), expires_on=dt.date(2027, 1, 1),
                status=ComplianceStatus.VERIFIED,
            )
        )  # fmt: skip

    assert _patched_equals_build(session, agency, change) == [True]


@pytest.mark.parametrize("what", ["joins", "leaves", "new service"])
def test_what_a_patch_cannot_express_is_rebuilt(session, agency_of_five, what):
    agency, (a, *_) = agency_of_five

    def change(s):
        if what == "joins":
            make_provider(s, agency)
        elif what == "leaves":
            s.delete(a.listings[0])
        else:
            s.add(ProviderService(provider_id=a.id, service_key="domestic_help", rate_pence=1500))

    assert True not in _patched_equals_build(session, agency, change)  # built afresh


def test_a_change_to_the_whole_agency_rebuilds(session, agency_of_five):
    from agency.introductions.match_triggers import provider_inputs_changed

    agency, _ = agency_of_five
    calls = _patched_equals_build(
        session, agency, lambda s: provider_inputs_changed(s, agency_ids=[agency.id])
    )
    assert calls == []  # not even tried: the change log names no provider


def _state(session, agency):
    state = session.get(MatchPoolCache, agency.id)
    session.refresh(state)
    return state


def test_a_change_is_kept_as_a_delta_the_next_job_applies_without_reading_providers(
    session, agency_of_five
):
    """Issue 15: a job after one provider's change stores only that provider's rows, not the
    arrays again; the next job applies them in memory; a later change is never missed."""
    agency, (a, b, *_) = agency_of_five
    today = london_today()
    pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    payload = _state(session, agency).payload

    a.capacity_hours_per_week = 3.5
    session.commit()
    pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    state = _state(session, agency)
    assert state.payload == payload and state.built_generation < state.generation
    assert state.delta is not None and len(state.delta) < len(payload)

    def no_reads(*args, **kwargs):
        raise AssertionError("the stored delta is current: nothing to read")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pool_patch, "changed_providers", no_reads)
        patch.setattr(pool_patch, "build_snapshot", no_reads)
        patch.setattr(pool_cache, "build_snapshot", no_reads)
        again = pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    built = pool_cache.build_snapshot(session, agency.id, today)
    for day in (DAY, dt.date(2026, 12, 25)):
        _same_pool(again.on(day, {}), built.on(day, {}))
    assert again.base.capacity_hours[again.base.row_of[a.id]] == 3.5

    b.travel_radius_km = 1.5  # the delta is now a generation old: never applied as current
    session.commit()
    later = pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    built = pool_cache.build_snapshot(session, agency.id, today)
    for day in (DAY, dt.date(2026, 12, 25)):
        _same_pool(later.on(day, {}), built.on(day, {}))
    assert later.base.capacity_hours[later.base.row_of[a.id]] == 3.5
    assert later.base.radius_km[later.base.row_of[b.id]] == 1.5
    assert _state(session, agency).payload == payload


def test_past_max_delta_changed_providers_the_arrays_are_stored_whole(
    session, agency_of_five, monkeypatch
):
    agency, (a, b, *_) = agency_of_five
    monkeypatch.setattr(pool_cache, "MAX_DELTA", 1)
    today = london_today()
    pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    a.capacity_hours_per_week, b.capacity_hours_per_week = 4.0, 5.0
    session.commit()
    loaded = pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    state = _state(session, agency)
    assert state.built_generation == state.generation and state.delta is None
    assert session.scalar(select(func.count()).select_from(MatchPoolChange)) == 0  # cleaned
    _same_pool(loaded.on(DAY, {}), pool_cache.build_snapshot(session, agency.id, today).on(DAY, {}))


@pytest.fixture
def kept_in_memory():
    pool_cache.keep_in_memory()
    yield
    pool_cache.keep_in_memory(False)


def test_a_long_lived_worker_reuses_the_arrays_it_holds_and_never_a_stale_build(
    session, agency_of_five, kept_in_memory, monkeypatch
):
    """The in-process matching worker keeps the arrays it read: while the stored build is
    the one it holds, their bytes are not sent again; a delta applies on top of them; a
    new build replaces them."""
    agency, (a, b, c, *_) = agency_of_five
    today = london_today()

    def same_as_a_build(loaded):
        built = pool_cache.build_snapshot(session, agency.id, today)
        for day in (DAY, dt.date(2026, 12, 25)):
            _same_pool(loaded.on(day, {}), built.on(day, {}))

    pool_cache.load_snapshot(session, agency.id, today)  # built and stored, not read
    session.commit()
    read = pool_cache.load_snapshot(session, agency.id, today)  # read: now held
    session.commit()
    generation = _state(session, agency).built_generation
    held = pool_cache._fetch_state(session, agency.id, today, held=generation)
    session.commit()
    assert held.payload is None and held.built_today  # not sent again
    assert pool_cache._fetch_state(session, agency.id, today).payload is not None
    session.commit()
    again = pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    assert again is read
    same_as_a_build(again)

    a.capacity_hours_per_week = 2.5  # a delta on top of the held arrays
    session.commit()
    patched = pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    assert patched is not read and patched.base.capacity_hours[patched.base.row_of[a.id]] == 2.5
    assert read.base.capacity_hours[read.base.row_of[a.id]] != 2.5  # the held ones untouched
    with monkeypatch.context() as m:  # the same delta again: applied once, then held
        m.setattr(pool_patch, "apply", lambda *args: pytest.fail("applied again"))
        assert pool_cache.load_snapshot(session, agency.id, today) is patched
    session.commit()
    same_as_a_build(patched)

    monkeypatch.setattr(pool_cache, "MAX_DELTA", 1)  # two more: the arrays stored whole
    b.capacity_hours_per_week, c.capacity_hours_per_week = 4.0, 5.0
    session.commit()
    pool_cache.load_snapshot(session, agency.id, today)
    session.commit()
    assert _state(session, agency).built_generation > generation
    newer = pool_cache.load_snapshot(session, agency.id, today)  # the new build, read
    session.commit()
    assert newer is not read
    assert newer.base.capacity_hours[newer.base.row_of[c.id]] == 5.0
    same_as_a_build(newer)
    assert pool_cache.load_snapshot(session, agency.id, today) is newer
    session.commit()


def test_a_long_lived_worker_under_a_stream_of_changes_patches_only_the_newest(
    session, agency_of_five, kept_in_memory, monkeypatch
):
    """Each change patches the held arrays with that change's provider alone, not with every
    provider changed since the build; the result is what a build reads."""
    agency, (a, b, c, *_) = agency_of_five
    today = london_today()
    pool_cache.load_snapshot(session, agency.id, today)  # built and stored
    session.commit()
    pool_cache.load_snapshot(session, agency.id, today)  # read: now held
    session.commit()
    read: list[set[str]] = []
    original = pool_patch.build_snapshot

    def recording(*args, only=None, **kwargs):
        read.append(set(only))
        return original(*args, only=only, **kwargs)

    monkeypatch.setattr(pool_patch, "build_snapshot", recording)
    for provider, hours in ((a, 2.5), (b, 3.5), (c, 4.5)):
        provider.capacity_hours_per_week = hours
        session.commit()
        loaded = pool_cache.load_snapshot(session, agency.id, today)
        session.commit()
    assert read == [{a.id}, {b.id}, {c.id}]
    monkeypatch.setattr(pool_patch, "build_snapshot", original)
    built = pool_cache.build_snapshot(session, agency.id, today)
    for day in (DAY, dt.date(2026, 12, 25)):
        _same_pool(loaded.on(day, {}), built.on(day, {}))
    assert loaded.base.capacity_hours[loaded.base.row_of[c.id]] == 4.5
