"""The console in a real browser: headless Chromium against gunicorn on the seeded demo.

Each page visited is screenshotted (tests/console/artifacts/) and checked with axe-core:
no violation of serious or critical impact is allowed.
"""

from __future__ import annotations

import time

from selenium.webdriver.support.expected_conditions import staleness_of
from sqlalchemy import select

from agency.introductions.models import Introduction, IntroductionStatus
from agency.isf.models import Invoice, PaymentRun, PaymentRunStatus, Payout
from agency.providers.models import ListingStatus, ProviderListing
from agency.seekers.models import CareRequest
from agency.visits.models import Timesheet, TimesheetStatus
from tests.console.conftest import AUDITOR, SOUTHMEAD


def assert_accessible(browser, name: str) -> None:  # type: ignore[no-untyped-def]
    blocking = browser.check_page(name)
    assert blocking == [], f"axe-core on {name}: {blocking}"


def test_the_manager_approves_the_top_suggestion_of_the_most_urgent_request_in_four_clicks(
    browser, db
):
    browser.sign_in(*SOUTHMEAD)
    assert browser.driver.current_url.endswith("/console/today")
    assert_accessible(browser, "manager-today")
    browser.clicks = 0

    first = browser.find("section[aria-labelledby=new-requests] tbody tr a")
    request_id = first.get_attribute("href").rsplit("/", 1)[-1]
    browser.click(first)  # 1: open the most urgent request
    assert "Hospital discharge" in browser.text()
    assert_accessible(browser, "manager-care-request")
    explanation = browser.find("#suggestion-1 table.explain")
    assert explanation.is_displayed()  # the top suggestion's explanation is open at once
    assert "Distance" in explanation.text and " of " in explanation.text
    reason = browser.find("#note-1")
    browser.click(reason, navigates=False)  # 2: into the reason box
    reason.send_keys("Lives two streets away and is free on the discharge days")
    browser.click(browser.find("#suggestion-1 form.approve button[type=submit]"))  # 3: approve

    assert "Introduction approved" in browser.text()
    assert browser.clicks <= 4
    introduction = db.scalar(
        select(Introduction)
        .where(Introduction.care_request_id == request_id)
        .order_by(Introduction.created_at.desc())
        .limit(1)
    )
    assert introduction.status is IntroductionStatus.AWAITING_PROVIDER
    assert introduction.note == "Lives two streets away and is free on the discharge days"


def test_the_manager_reads_why_a_provider_was_not_suggested(browser, db):
    browser.sign_in(*SOUTHMEAD)
    browser.click(browser.find("section[aria-labelledby=new-requests] tbody tr a"))
    provider_id = db.scalar(select(Introduction.provider_id).limit(1))
    field = browser.find("#provider_id")
    field.send_keys(provider_id)
    browser.click(browser.find("section[aria-labelledby=why-not] button"))
    assert "Why not another provider?" in browser.text()
    assert_accessible(browser, "manager-why-not")


def test_the_manager_approves_a_timesheet(browser, db, demo_site):
    browser.sign_in(*SOUTHMEAD)
    browser.open("/console/money")
    assert_accessible(browser, "manager-money")
    form = browser.find(f"form[action$='/timesheets/{demo_site.timesheet_id}/approve']")
    browser.click(form.find_element("css selector", "button"))
    assert "Timesheet approved and invoiced." in browser.text()
    timesheet = db.get(Timesheet, demo_site.timesheet_id)
    assert timesheet.status is TimesheetStatus.APPROVED


def test_the_manager_runs_a_payment_run_to_the_end(browser, db, demo_site):
    browser.sign_in(*SOUTHMEAD)
    browser.open("/console/money#runs")
    browser.click(browser.find("form[action$='/console/payment-runs'] button"))
    deadline = time.monotonic() + 60
    while browser.find_all("#refresh-status") and time.monotonic() < deadline:
        time.sleep(0.5)
        browser.click(browser.find("#refresh-status"))
    assert browser.find("#run-status").text == "Finished"
    assert_accessible(browser, "manager-payment-run")
    run_id = browser.driver.current_url.rsplit("/", 1)[-1]
    run = db.get(PaymentRun, run_id)
    assert run.status is PaymentRunStatus.FINISHED
    # The invoice of the timesheet approved in the browser is paid by this run.
    invoice = db.scalar(
        select(Invoice)
        .join(Timesheet, Timesheet.arrangement_id == Invoice.arrangement_id)
        .where(
            Timesheet.id == demo_site.timesheet_id, Invoice.period_start == Timesheet.period_start
        )
    )
    payout = db.scalar(select(Payout).where(Payout.invoice_id == invoice.id))
    assert payout is not None and payout.payment_run_id == run_id
    assert str(payout.amount_pence // 100) in browser.text().replace(",", "")


def test_every_manager_page_has_no_serious_accessibility_violation(browser, db):
    browser.sign_in(*SOUTHMEAD)
    for path, name in [
        ("/console/requests", "manager-requests"),
        ("/console/providers", "manager-providers"),
        ("/console/reports", "manager-reports"),
        ("/console/reports/local-spend", "manager-report-local-spend"),
        ("/console/audit-log", "manager-audit-log"),
    ]:
        browser.open(path)
        assert_accessible(browser, name)
    browser.open("/console/providers")
    browser.click(browser.find("section[aria-labelledby=queue] tbody a"))
    assert_accessible(browser, "manager-vetting")
    browser.open("/console/money")
    browser.click(browser.find("section[aria-labelledby=isf] tbody a"))
    assert "Statement" in browser.text()
    assert_accessible(browser, "manager-isf-statement")
    browser.open("/console/today")
    browser.screenshot("manager-today-tablet", size=(820, 1180))


def test_the_manager_vets_a_provider_and_a_missing_reason_is_tied_to_its_field(browser, db):
    browser.sign_in(*SOUTHMEAD)
    browser.open("/console/providers")
    link = browser.find("section[aria-labelledby=queue] tbody a")
    listing_id = link.get_attribute("href").rsplit("/", 1)[-1]
    browser.click(link)
    browser.click(browser.find("input[name=decision][value=request_info]"), navigates=False)
    browser.click(browser.find("section[aria-labelledby=decide] button[type=submit]"))

    reason = browser.find("#reason")
    assert reason.get_attribute("aria-invalid") == "true"
    assert reason.get_attribute("aria-describedby") == "reason-error"
    assert "Give a reason for this decision." in browser.find("#reason-error").text
    assert_accessible(browser, "manager-vetting-error")

    browser.click(browser.find("input[name=decision][value=request_info]"), navigates=False)
    browser.find("#reason").send_keys("Please upload your public liability insurance")
    browser.click(browser.find("section[aria-labelledby=decide] button[type=submit]"))
    assert "Decision recorded." in browser.text()
    listing = db.get(ProviderListing, listing_id)
    assert listing.status is ListingStatus.MORE_INFO_REQUESTED
    assert listing.reason == "Please upload your public liability insurance"


def test_a_manager_cannot_reach_another_agencys_request_by_url(browser, db):
    browser.sign_in(*SOUTHMEAD)
    southmead = browser.find("section[aria-labelledby=new-requests] tbody tr a")
    own_agency = db.get(CareRequest, southmead.get_attribute("href").rsplit("/", 1)[-1]).agency_id
    other = db.scalar(
        select(CareRequest.id).where(
            CareRequest.agency_id.is_not(None), CareRequest.agency_id != own_agency
        )
    )
    browser.open(f"/console/requests/{other}")
    assert browser.find("h1").text == "Not found"
    assert_accessible(browser, "manager-not-found")


def test_a_form_posted_without_its_csrf_token_is_refused(browser, db, demo_site):
    browser.sign_in(*SOUTHMEAD)
    browser.open("/console/money")
    runs_before = len(db.scalars(select(PaymentRun.id)).all())
    # The page's own form, minus its token, submitted by the browser itself.
    page = browser.find("html")
    browser.driver.execute_script(
        "const form = document.querySelector(\"form[action$='/console/payment-runs']\");"
        "form.querySelector('input[name=csrf_token]').remove(); form.submit();"
    )
    browser.wait_for(staleness_of(page))
    assert browser.find("h1").text == "Form expired"
    assert_accessible(browser, "csrf-refused")
    assert len(db.scalars(select(PaymentRun.id)).all()) == runs_before


def test_the_auditor_downloads_the_isf_register_csv_and_a_chart(browser, db):
    browser.sign_in(*AUDITOR)
    assert browser.driver.current_url.endswith("/console/register")
    assert_accessible(browser, "auditor-isf-register")
    href = browser.find("#register-csv").get_attribute("href")
    csv = browser.fetch(href)
    assert csv["status"] == 200 and csv["type"].startswith("text/csv")
    assert 'filename="isf-register.csv"' in csv["disposition"]
    lines = csv["text"].splitlines()
    assert lines[0].startswith("seeker") and lines[-1].startswith("total")
    assert "skr_" not in csv["text"]  # pseudonymised: no seeker id reaches the council

    browser.open("/console/reports/funnel")
    assert_accessible(browser, "auditor-report-funnel")
    chart = browser.fetch(browser.find("#report-png").get_attribute("href"))
    assert chart["status"] == 200 and chart["type"] == "image/png"
    assert (
        chart["head"] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] and chart["size"] > 1000
    )
    loaded = browser.driver.execute_script(
        "const img = document.querySelector('figure.chart img'); return img.complete && img.naturalWidth;"
    )
    assert loaded > 0


def test_every_auditor_page_has_no_serious_accessibility_violation(browser, db):
    browser.sign_in(*AUDITOR)
    for path, name in [
        ("/console/approved-providers", "auditor-approved-providers"),
        ("/console/reports", "auditor-reports"),
        ("/console/audit-log", "auditor-audit-log"),
    ]:
        browser.open(path)
        assert_accessible(browser, name)
    assert "Chain verified" in browser.text()
    browser.open("/console/register")
    browser.click(browser.find("table tbody a"))
    assert_accessible(browser, "auditor-isf-statement")
    browser.driver.delete_all_cookies()
    browser.open("/console/sign-in")
    assert_accessible(browser, "sign-in")


def test_the_console_works_from_the_keyboard_alone(browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.driver.delete_all_cookies()
    browser.open("/console/sign-in")
    keys = ActionChains(browser.driver)
    keys.send_keys(Keys.TAB).perform()
    active = browser.driver.switch_to.active_element
    assert active.text == "Skip to main content"  # the first stop is the skip link
    keys.send_keys(Keys.TAB, Keys.TAB).perform()  # the brand link, then the email field
    assert browser.driver.switch_to.active_element.get_attribute("id") == "email"
    page = browser.find("html")
    keys.send_keys(SOUTHMEAD[0], Keys.TAB, SOUTHMEAD[1], Keys.ENTER).perform()
    browser.wait_for(staleness_of(page))
    assert browser.driver.current_url.endswith("/console/today")
    # The focus ring is drawn: a focused link has an outline.
    link = browser.find("nav[aria-label=Main] a")
    browser.driver.execute_script("arguments[0].focus()", link)
    ActionChains(browser.driver).send_keys(Keys.TAB).perform()  # the next link, by keyboard
    focused = browser.driver.switch_to.active_element
    assert focused.tag_name == "a" and focused.text == "Care requests"
    outline = browser.driver.execute_script(
        "return getComputedStyle(document.activeElement).outlineStyle"
    )
    assert outline == "solid"
