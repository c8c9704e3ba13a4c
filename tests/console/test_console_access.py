"""The console refuses whoever the API refuses: the same object-level rules, through pages.

Without a browser (Flask's test client): sessions, CSRF, and a refusal per other principal
(a partner's key, a provider, another agency's manager, an auditor of another council).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text, update

from agency.accounts.models import AuthToken, Role
from agency.ids import new_id
from agency.isf.models import PaymentRun
from agency.providers.models import IsfApproval, ListingStatus
from agency.visits.models import Timesheet, TimesheetStatus
from tests.factories import (
    PASSWORD,
    api_key,
    bearer,
    make_agency,
    make_auditor,
    make_care_request,
    make_council,
    make_manager,
    make_partner,
    make_provider,
    make_user,
)
from tests.visits.visit_helpers import World, log, make_isf_world, submit

READ_PAGES = [
    "/console/today",
    "/console/requests",
    "/console/providers",
    "/console/money",
    "/console/reports",
    "/console/reports/funnel",
    "/console/reports/funnel.png",
    "/console/reports/funnel.csv",
    "/console/register",
    "/console/register.csv",
    "/console/approved-providers",
    "/console/audit-log",
]
MANAGER_ONLY = ["/console/today", "/console/requests", "/console/providers", "/console/money"]


@dataclass
class Scene:
    world: World
    request_id: str
    listing_id: str
    isf_account_id: str
    timesheet_id: str
    payment_run_id: str


def csrf_token(client, path: str = "/console/sign-in") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def sign_in(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/console/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )


def post(client, path: str, **data: str):  # type: ignore[no-untyped-def]
    """A console form post with the session's CSRF token, as the page would send it."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/console/reports")})


@pytest.fixture
def scene(client, session) -> Scene:  # type: ignore[no-untyped-def]
    world = make_isf_world(session, 100_000)
    assert log(client, world, day=2).status_code == 201
    timesheet = submit(client, world, first=5, last=1)
    assert timesheet.status_code == 201, timesheet.get_json()
    applicant = make_provider(session, world.agency, status=ListingStatus.APPLIED)
    care_request = make_care_request(session, world.seeker, world.agency)
    run = PaymentRun(
        id=new_id("prn"),
        agency_id=world.agency.id,
        council_id=world.agency.council_id,
        gateway="manual",
        created_by=world.manager.id,
        figures={},
    )
    session.add(run)
    session.commit()
    return Scene(
        world=world,
        request_id=care_request.id,
        listing_id=applicant.listings[0].id,
        isf_account_id=world.arrangement.isf_account_id,
        timesheet_id=timesheet.get_json()["id"],
        payment_run_id=run.id,
    )


def object_pages(scene: Scene) -> list[str]:
    return [
        f"/console/requests/{scene.request_id}",
        f"/console/providers/listings/{scene.listing_id}",
        f"/console/isf-accounts/{scene.isf_account_id}",
        f"/console/isf-accounts/{scene.isf_account_id}/statement.csv",
        f"/console/payment-runs/{scene.payment_run_id}",
    ]


def test_every_console_page_sends_a_visitor_without_a_console_session_to_sign_in(
    client, session, scene
):
    _partner, secret = make_partner(session)
    api_credentials = [
        {},
        api_key(secret),
        bearer(session, scene.world.manager),
        scene.world.provider_headers,
    ]
    for headers in api_credentials:  # the API's credentials do not open the console
        for path in READ_PAGES + object_pages(scene):
            response = client.get(path, headers=headers)
            assert response.status_code == 302, (path, headers)
            assert response.headers["Location"].startswith("/console/sign-in?next=")


def test_a_provider_cannot_sign_in_to_the_console(client, session, scene):
    provider_user = session.get(type(scene.world.manager), scene.world.provider.user_id)
    before = set(session.scalars(select(AuthToken.id).where(AuthToken.user_id == provider_user.id)))
    response = sign_in(client, provider_user.email)
    assert response.status_code == 401
    assert "for agency managers and council auditors" in response.get_data(as_text=True)
    assert client.get("/console/today").status_code == 302
    session.expire_all()
    tokens = session.scalars(select(AuthToken).where(AuthToken.user_id == provider_user.id))
    issued = [t for t in tokens if t.id not in before]
    assert issued and all(t.revoked_at is not None for t in issued)  # none left live


def test_a_partner_key_and_an_admin_cannot_use_the_console(client, session, scene):
    admin = make_user(session, Role.ADMIN)
    assert sign_in(client, admin.email).status_code == 401
    _partner, secret = make_partner(session)
    response = client.post(
        f"/console/timesheets/{scene.timesheet_id}/approve", headers=api_key(secret)
    )
    assert response.status_code == 400  # no CSRF token: refused before anything else
    assert session.get(Timesheet, scene.timesheet_id).status is TimesheetStatus.SUBMITTED


def test_a_wrong_password_is_refused_with_the_error_tied_to_the_form(client, scene):
    response = sign_in(client, scene.world.manager.email, "not the password at all")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "Wrong email or password." in page
    missing = client.post("/console/sign-in", data={"csrf_token": csrf_token(client)})
    assert missing.status_code == 422
    assert 'aria-describedby="email-error"' in missing.get_data(as_text=True)
    assert 'aria-invalid="true"' in missing.get_data(as_text=True)


def test_the_agencys_manager_sees_each_page_of_its_own_objects(client, scene):
    assert sign_in(client, scene.world.manager.email).status_code == 302
    for path in READ_PAGES + object_pages(scene):
        assert client.get(path).status_code == 200, path


def test_another_agencys_manager_gets_404_for_every_object_and_action(client, session, scene):
    other = make_manager(session, make_agency(session, scene.world.agency.council))
    assert sign_in(client, other.email).status_code == 302
    for path in object_pages(scene):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.get_data(as_text=True)
    actions = [
        (f"/console/timesheets/{scene.timesheet_id}/approve", {}),
        (f"/console/timesheets/{scene.timesheet_id}/query", {"reason": "Why?"}),
        (f"/console/providers/listings/{scene.listing_id}/decision", {"decision": "approve"}),
    ]
    for path, data in actions:
        assert post(client, path, **data).status_code == 404, path
    suggestion = post(
        client,
        f"/console/requests/{scene.request_id}/introductions",
        suggestion_id="sug_x",
        note="A reason",
    )
    assert suggestion.status_code == 404
    session.expire_all()
    assert session.get(Timesheet, scene.timesheet_id).status is TimesheetStatus.SUBMITTED
    # Its own lists hold none of the other agency's rows.
    money = client.get("/console/money").get_data(as_text=True)
    assert scene.timesheet_id not in money and scene.isf_account_id not in money


def test_an_auditor_of_another_council_gets_404_and_an_empty_register(client, session, scene):
    auditor = make_auditor(session, make_council(session))
    assert sign_in(client, auditor.email).status_code == 302
    for path in object_pages(scene)[2:]:  # ISF account, statement, payment run
        assert client.get(path).status_code == 404, path
    register = client.get("/console/register").get_data(as_text=True)
    assert "BCC-ISF-7" not in register
    csv = client.get("/console/register.csv").get_data(as_text=True)
    assert "BCC-ISF-7" not in csv


def test_the_councils_auditor_reads_the_register_pseudonymised_and_may_not_write(
    client, session, scene
):
    auditor = make_auditor(session, scene.world.agency.council)
    assert sign_in(client, auditor.email).status_code == 302
    assert client.get("/console/").headers["Location"] == "/console/register"
    csv = client.get("/console/register.csv").get_data(as_text=True)
    assert "BCC-ISF-7" in csv and scene.world.seeker.id not in csv
    statement = client.get(f"/console/isf-accounts/{scene.isf_account_id}")
    assert statement.status_code == 200
    assert scene.world.seeker.id not in statement.get_data(as_text=True)
    for path in MANAGER_ONLY + [f"/console/requests/{scene.request_id}"]:
        assert client.get(path).status_code == 403, path
    writes = [
        f"/console/timesheets/{scene.timesheet_id}/approve",
        "/console/payment-runs",
        f"/console/providers/listings/{scene.listing_id}/decision",
    ]
    for path in writes:
        assert post(client, path, decision="approve").status_code == 403, path
    session.expire_all()
    assert session.get(Timesheet, scene.timesheet_id).status is TimesheetStatus.SUBMITTED


def test_the_auditor_records_the_councils_isf_approval_and_a_manager_may_not(
    client, session, scene
):
    provider_id = scene.world.provider.id
    path = f"/console/approved-providers/{provider_id}/isf-approval"
    assert sign_in(client, scene.world.manager.email).status_code == 302
    assert post(client, path, approved="y", reason="Panel").status_code == 403
    client.post("/console/sign-out", data={"csrf_token": csrf_token(client, "/console/reports")})

    auditor = make_auditor(session, scene.world.agency.council)
    assert sign_in(client, auditor.email).status_code == 302
    assert post(client, path, approved="y", reason="ISF panel, December").status_code == 302
    approval = session.scalar(select(IsfApproval).where(IsfApproval.provider_id == provider_id))
    assert approval.approved and approval.reason == "ISF panel, December"


def test_the_manager_approves_a_timesheet_through_the_same_service_as_the_api(
    client, session, scene
):
    assert sign_in(client, scene.world.manager.email).status_code == 302
    response = post(client, f"/console/timesheets/{scene.timesheet_id}/approve")
    assert response.status_code == 302
    assert "Timesheet approved" in client.get("/console/money").get_data(as_text=True)
    session.expire_all()
    assert session.get(Timesheet, scene.timesheet_id).status is TimesheetStatus.APPROVED
    again = post(client, f"/console/timesheets/{scene.timesheet_id}/approve")
    assert again.status_code == 302  # refused by the service's state machine, said on the page
    assert "Timesheet not approved" in client.get("/console/money").get_data(as_text=True)


def test_a_vetting_decision_needs_a_reason_except_to_approve(client, session, scene):
    assert sign_in(client, scene.world.manager.email).status_code == 302
    path = f"/console/providers/listings/{scene.listing_id}/decision"
    refused = post(client, path, decision="reject")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Give a reason for this decision." in page and 'aria-invalid="true"' in page
    assert post(client, path, decision="reject", reason="No references").status_code == 302


def test_a_form_post_without_its_csrf_token_is_refused(client, session, scene):
    assert sign_in(client, scene.world.manager.email).status_code == 302
    response = client.post(f"/console/timesheets/{scene.timesheet_id}/approve")
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    forged = client.post(
        f"/console/timesheets/{scene.timesheet_id}/approve", data={"csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert session.get(Timesheet, scene.timesheet_id).status is TimesheetStatus.SUBMITTED


def test_the_session_cookie_is_httponly_samesite_lax_and_scoped_to_the_console(client, scene):
    response = sign_in(client, scene.world.manager.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP in development; production sets it (below)


def test_production_marks_the_session_cookie_secure(settings):
    from dataclasses import replace

    from agency import create_app

    if settings.database_url.startswith("sqlite"):
        pytest.skip("production refuses SQLite; runs on PostgreSQL")
    app = create_app(replace(settings, env="production", secret_key="p" * 48))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_an_expired_session_sends_the_user_back_to_sign_in(client, session, scene):
    assert sign_in(client, scene.world.manager.email).status_code == 302
    session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == scene.world.manager.id)
        .values(access_expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    )
    session.commit()
    response = client.get("/console/money")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/sign-in")
    assert "Your session has ended" in client.get("/console/sign-in").get_data(as_text=True)


def test_signing_out_revokes_the_session_even_for_a_copied_cookie(client, scene):
    assert sign_in(client, scene.world.manager.email).status_code == 302
    copied = client.get_cookie("agency_console", path="/console").value
    signed_out = client.post(
        "/console/sign-out", data={"csrf_token": csrf_token(client, "/console/reports")}
    )
    assert signed_out.status_code == 302
    client.set_cookie("agency_console", copied, path="/console")
    assert client.get("/console/money").status_code == 302  # the token behind it is revoked


def test_a_sign_in_never_redirects_off_the_console(client, scene):
    token = csrf_token(client)
    response = client.post(
        "/console/sign-in?next=https://evil.example/",
        data={"email": scene.world.manager.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/console/"


def test_failed_console_sign_ins_are_throttled_like_the_apis(settings, session):
    from dataclasses import replace

    from agency import create_app

    app = create_app(replace(settings, login_limit_per_account="2 per 15 minutes"))
    client = app.test_client()
    manager = make_manager(session)
    for _ in range(2):
        assert sign_in(client, manager.email, "a wrong password!").status_code == 401
    throttled = sign_in(client, manager.email, PASSWORD)
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.get_data(as_text=True)
    assert throttled.headers.get("Retry-After")


def test_the_audit_log_page_shows_whether_the_chain_holds(client, session, scene):
    from agency.audit.models import AuditEntry

    assert sign_in(client, scene.world.manager.email).status_code == 302
    assert post(client, f"/console/timesheets/{scene.timesheet_id}/approve").status_code == 302
    assert "Chain verified" in client.get("/console/audit-log").get_data(as_text=True)
    # Tampering as someone with direct database access would: past the append-only trigger.
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.action == "timesheet.approved")
        .values(action="timesheet.queried")
    )
    if postgres:
        session.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
    session.commit()
    page = client.get("/console/audit-log").get_data(as_text=True)
    assert "Chain broken" in page and "edited" in page


def test_the_manager_approves_ticked_timesheets_at_once_through_the_bulk_service(
    client, session, scene
):
    assert sign_in(client, scene.world.manager.email).status_code == 302
    money = client.get("/console/money").get_data(as_text=True)
    assert f'name="timesheet_id" value="{scene.timesheet_id}" form="bulk-approve"' in money
    token = csrf_token(client, "/console/money")
    response = client.post(
        "/console/timesheets/approvals",
        data={"timesheet_id": [scene.timesheet_id, "tms_not_mine"], "csrf_token": token},
    )
    assert response.status_code == 302
    page = client.get("/console/money").get_data(as_text=True)
    assert "1 timesheet approved and invoiced." in page and "Timesheet not approved" in page
    session.expire_all()
    assert session.get(Timesheet, scene.timesheet_id).status is TimesheetStatus.APPROVED
    nothing = client.post("/console/timesheets/approvals", data={"csrf_token": token})
    assert nothing.status_code == 302
    assert "Tick at least one timesheet" in client.get("/console/money").get_data(as_text=True)


def test_the_manager_verifies_or_rejects_a_providers_pending_evidence(client, session, scene):
    from agency.providers.models import ComplianceItem, ComplianceKind, ComplianceStatus

    applicant = make_provider(
        session, scene.world.agency, status=ListingStatus.APPLIED, compliant_until=None
    )
    items = [
        ComplianceItem(
            id=new_id("cmp"),
            provider_id=applicant.id,
            kind=kind,
            evidence_reference=f"{kind.value}-evidence",
            issued_on=dt.date(2026, 1, 1),
            expires_on=dt.date(2029, 1, 1),
            status=ComplianceStatus.PENDING,
        )
        for kind in (ComplianceKind.DBS, ComplianceKind.INSURANCE)
    ]
    session.add_all(items)
    session.commit()
    listing_id = applicant.listings[0].id
    assert sign_in(client, scene.world.manager.email).status_code == 302
    page = client.get(f"/console/providers/listings/{listing_id}").get_data(as_text=True)
    assert "dbs-evidence" in page and "Pending" in page
    base = f"/console/providers/listings/{listing_id}/compliance"
    assert post(client, f"{base}/{items[0].id}", decision="verify", note="Seen").status_code == 302
    rejected = post(client, f"{base}/{items[1].id}", decision="reject", note="Expired policy")
    assert rejected.status_code == 302
    session.expire_all()
    assert session.get(ComplianceItem, items[0].id).status is ComplianceStatus.VERIFIED
    assert session.get(ComplianceItem, items[1].id).status is ComplianceStatus.REJECTED
    # A decision already taken is refused by the service, and said on the page.
    post(client, f"{base}/{items[0].id}", decision="verify")
    assert "cannot become verified" in client.get(
        f"/console/providers/listings/{listing_id}"
    ).get_data(as_text=True)


def test_console_pages_are_not_cached_not_framed_and_load_nothing_from_elsewhere(client, scene):
    sign_in_page = client.get("/console/sign-in")
    assert sign_in_page.headers["Cache-Control"] == "no-store"
    assert sign_in_page.headers["X-Frame-Options"] == "DENY"
    policy = sign_in_page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert "http" not in sign_in_page.get_data(as_text=True).split("<body>")[0]  # no CDN
    assert sign_in(client, scene.world.manager.email).status_code == 302
    assert client.get("/console/money").headers["Cache-Control"] == "no-store"


def _planned_visit(session, world: World, day: dt.date, status: str, **extra):  # type: ignore[no-untyped-def]
    from agency.dates import LONDON
    from agency.visits.planned_models import PlannedStatus, PlannedVisit

    arrangement = world.arrangement
    starts = dt.datetime.combine(day, dt.time(9, 0), LONDON).astimezone(dt.UTC)
    visit = PlannedVisit(
        id=new_id("pvi"),
        arrangement_id=arrangement.id,
        provider_id=arrangement.provider_id,
        agency_id=arrangement.agency_id,
        council_id=arrangement.council_id,
        partner_client_id=arrangement.partner_client_id,
        seeker_id=arrangement.seeker_id,
        terms_version=1,
        date=day,
        start_time="09:00",
        end_time="10:00",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        minutes=60,
        status=PlannedStatus(status),
        **extra,
    )
    session.add(visit)
    session.commit()
    return visit


def test_today_lists_missed_visits_and_visits_needing_cover_for_the_agency_only(
    client, session, scene
):
    from agency.dates import london_today

    world = scene.world
    today = london_today()
    missed_day, cancelled_day = today - dt.timedelta(days=1), today + dt.timedelta(days=3)
    _planned_visit(session, world, missed_day, "missed", missed_at=dt.datetime.now(dt.UTC))
    _planned_visit(
        session,
        world,
        cancelled_day,
        "cancelled",
        cancelled_at=dt.datetime.now(dt.UTC),
        cancel_reason="Unwell",
    )
    missed_text = missed_day.strftime("%a %d %b") + " 09:00"
    cancelled_text = cancelled_day.strftime("%a %d %b") + " 09:00"

    assert sign_in(client, world.manager.email).status_code == 302
    page = client.get("/console/today").get_data(as_text=True)
    missed_section = page.split('id="missed"')[1].split("</section>")[0]
    cover_section = page.split('id="cover"')[1].split("</section>")[0]
    assert missed_text in missed_section and world.provider.trading_name in missed_section
    assert cancelled_text in cover_section and "Unwell" not in page  # the reason is not shown

    other = make_manager(session, make_agency(session, world.agency.council))
    client.post("/console/sign-out", data={"csrf_token": csrf_token(client, "/console/reports")})
    assert sign_in(client, other.email).status_code == 302
    theirs = client.get("/console/today").get_data(as_text=True)
    assert "No missed visits waiting." in theirs and "No cancelled visits without cover." in theirs
