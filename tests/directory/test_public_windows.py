"""The public windows kept per provider hold the eligibility rule, on every day, and stay
current through each way a provider's inputs change (agency.directory.public_windows)."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from agency.access import Kind, Principal
from agency.directory import eligibility
from agency.directory.public_windows import PublicWindow, rebuild, windows_of
from agency.ids import new_id
from agency.providers.compliance_documents import reject_item
from agency.providers.models import (
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    ListingStatus,
    Provider,
    ProviderListing,
    ProviderService,
)
from agency.providers.vetting import decide
from tests.factories import make_agency, make_manager, make_provider

BASE = dt.date(2026, 12, 1)
DAY = dt.timedelta(days=1)
REGULATED = frozenset({"personal_care"})

dates = st.one_of(st.none(), st.integers(-6, 6).map(lambda n: BASE + n * DAY))
items = st.lists(
    st.tuples(
        st.sampled_from(list(ComplianceKind)),
        dates,
        dates,
        st.sampled_from(list(ComplianceStatus)),
    ),
    max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(
    approved=st.booleans(),
    services=st.sets(st.sampled_from(["companionship", "personal_care"])),
    provider_items=items,
    day=st.integers(-8, 8),
)
def test_windows_hold_the_eligibility_rule_on_every_day(approved, services, provider_items, day):
    """In a window on exactly the days ``eligibility.is_eligible`` says (with a service)."""
    provider = Provider(id="prv_x")
    provider.services = [ProviderService(service_key=key, rate_pence=1) for key in services]
    provider.listings = [
        ProviderListing(status=ListingStatus.APPROVED if approved else ListingStatus.SUSPENDED)
    ]
    provider.compliance_items = [
        ComplianceItem(kind=kind, issued_on=issued, expires_on=expires, status=status)
        for kind, issued, expires, status in provider_items
    ]
    windows = windows_of(
        approved,
        services,
        REGULATED,
        [
            (kind, issued, expires)
            for kind, issued, expires, status in provider_items
            if status == "verified"
        ],
    )
    on = BASE + day * DAY
    expected = bool(services) and eligibility.is_eligible(provider, on, None, REGULATED)
    assert any(first <= on <= last for first, last in windows) == expected
    # Sorted, disjoint and not adjacent: one row per stretch of days.
    for (_, last), (first, _) in zip(windows, windows[1:], strict=False):
        assert first.toordinal() > last.toordinal() + 1


def _windows(session, provider):
    return list(
        session.execute(
            select(PublicWindow.starts_on, PublicWindow.ends_on)
            .where(PublicWindow.provider_id == provider.id)
            .order_by(PublicWindow.starts_on)
        )
    )


def test_a_renewal_after_a_gap_keeps_both_stretches(session):
    agency = make_agency(session)
    provider = make_provider(session, agency, compliant_until=dt.date(2027, 1, 31))
    assert _windows(session, provider) == [(dt.date(2024, 1, 1), dt.date(2027, 1, 31))]
    provider.compliance_items.append(
        ComplianceItem(
            id=new_id("cmp"),
            kind=ComplianceKind.DBS,
            evidence_reference="renewal",
            issued_on=dt.date(2027, 2, 10),
            expires_on=dt.date(2030, 1, 1),
            status=ComplianceStatus.VERIFIED,
        )
    )
    provider.compliance_items[1].expires_on = dt.date(2030, 1, 1)  # insurance renewed too
    session.commit()
    # The DBS lapses 1-9 February 2027: two stretches, the second found with no job run.
    assert _windows(session, provider) == [
        (dt.date(2024, 1, 1), dt.date(2027, 1, 31)),
        (dt.date(2027, 2, 10), dt.date(2030, 1, 1)),
    ]


def test_a_new_regulated_service_needs_a_cqc_registration(session):
    agency = make_agency(session)
    provider = make_provider(session, agency)
    assert _windows(session, provider)
    provider.services.append(ProviderService(service_key="personal_care", rate_pence=2400))
    session.commit()
    assert _windows(session, provider) == []


def test_decisions_by_core_update_recompute_the_providers_windows(session):
    agency = make_agency(session)
    manager = make_manager(session, agency)
    principal = Principal(kind=Kind.MANAGER, id=manager.id, agency_id=agency.id)
    provider = make_provider(session, agency)
    other = make_provider(session, agency)
    before_other = _windows(session, other)
    reject_item(session, principal, provider.id, provider.compliance_items[0].id, "unreadable")
    assert _windows(session, provider) == []
    assert _windows(session, other) == before_other

    listed = make_provider(session, agency)
    assert _windows(session, listed)
    decide(session, principal, listed.listings[0].id, "suspend", "under review")
    assert _windows(session, listed) == []


def test_a_bulk_update_through_the_session_recomputes_everyone(session):
    agency = make_agency(session)
    provider = make_provider(session, agency)
    session.execute(
        update(ComplianceItem)
        .where(ComplianceItem.provider_id == provider.id)
        .values(status=ComplianceStatus.REJECTED)
    )
    session.commit()
    assert _windows(session, provider) == []


def test_a_rolled_back_change_leaves_the_windows_and_no_mark(session):
    agency = make_agency(session)
    provider = make_provider(session, agency)
    before = _windows(session, provider)
    provider.listings[0].status = ListingStatus.SUSPENDED
    session.flush()
    session.rollback()
    assert _windows(session, provider) == before
    assert not any(key.startswith("public_windows") for key in session.info)


def test_rebuild_computes_what_the_hooks_keep(session):
    agency = make_agency(session)
    providers = [make_provider(session, agency) for _ in range(3)]
    make_provider(session, agency, status=ListingStatus.APPLIED)
    kept = {p.id: _windows(session, p) for p in providers}
    assert rebuild(session) == 3
    session.commit()
    assert {p.id: _windows(session, p) for p in providers} == kept
