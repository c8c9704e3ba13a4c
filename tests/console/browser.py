"""Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, with axe-core.

Chromium is never downloaded by the tests: ``.ci/run`` installs Debian's packages when they
are missing. Without them the browser tests skip locally and fail in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("CONSOLE_ARTIFACTS", HERE / "artifacts"))
REQUIRED = os.environ.get("CI") == "true" or os.environ.get("AGENCY_REQUIRE_SERVICES") == "1"
BLOCKING = ("serious", "critical")
LAPTOP = (1280, 900)
TABLET = (820, 1180)


def chromium_or_skip() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = (
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    )
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


def _replaced(page: Any) -> bool:
    """Whether the page's element is gone: Selenium's ``staleness_of``, also counting the
    error Chromium gives for a node asked about while the old document is torn down
    ("Node with given id does not belong to the document": a WebDriverException, not a
    StaleElementReferenceException)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        page.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


@dataclass
class Browser:
    """One Chromium with the helpers the tests share: clicks counted, axe run, screenshots."""

    driver: Any
    base_url: str
    clicks: int = 0
    axe_results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click(self, element: Any, *, navigates: bool = True) -> None:
        """Click, counted; when the click loads a page, wait until the new one replaced it."""
        self.clicks += 1
        if not navigates:
            element.click()
            return
        page = self.driver.find_element("tag name", "html")
        element.click()
        self.wait_for(lambda _: _replaced(page))

    def text(self) -> str:
        return str(self.driver.find_element("tag name", "body").text)

    def sign_in(self, email: str, password: str) -> None:
        self.driver.delete_all_cookies()
        self.open("/console/sign-in")
        self.find("#email").send_keys(email)
        self.find("#password").send_keys(password)
        self.click(self.find("main form button[type=submit]"))

    def wait_for(self, condition: Any, seconds: float = 30) -> Any:
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait

        # Polled again on a driver error: while a page is replaced, Chromium can answer an
        # element query with "Node with given id does not belong to the document" instead
        # of a stale reference. A condition never met still fails at the timeout.
        wait = WebDriverWait(self.driver, seconds, ignored_exceptions=(WebDriverException,))
        return wait.until(condition)

    def check_page(self, name: str) -> list[dict[str, Any]]:
        """Screenshot the page and run axe-core in it; return serious or critical violations."""
        self.screenshot(name)
        self.driver.execute_script(AXE.read_text())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))"
            ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"
        )
        self.axe_results[name] = result
        return [v for v in result if v["impact"] in BLOCKING]

    def screenshot(self, name: str, size: tuple[int, int] = LAPTOP) -> Path:
        """A full-page screenshot at ``size``'s width (the height grows to the page)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        width, height = size
        self.driver.set_window_size(width, height)
        full = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(width, max(height, min(int(full) + 140, 6000)))
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(width, height)
        return path

    def fetch(self, url: str) -> dict[str, Any]:
        """GET ``url`` from inside the page (its cookies, as a download would): status,
        content type, and the body as text or, for an image, its first bytes."""
        return dict(
            self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch(arguments[0], {credentials: 'same-origin'}).then(async r => {"
                " const type = r.headers.get('content-type') || '';"
                " const disposition = r.headers.get('content-disposition') || '';"
                " if (type.startsWith('image/')) {"
                "  const bytes = new Uint8Array(await r.arrayBuffer());"
                "  done({status: r.status, type, disposition, size: bytes.length,"
                "        head: Array.from(bytes.slice(0, 8))});"
                " } else { done({status: r.status, type, disposition, text: await r.text()}); }"
                "}).catch(e => done({status: 0, error: String(e)}));",
                url,
            )
        )


def start_chromium() -> tuple[Any, str]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",  # the tests run as root in CI
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={LAPTOP[0]},{LAPTOP[1]}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver, profile


def browser_session(base_url: str) -> Iterator[Browser]:
    chromium_or_skip()
    driver, profile = start_chromium()
    browser = Browser(driver, base_url)
    try:
        yield browser
    finally:
        driver.quit()
        # Every violation axe found, whatever its impact, as an artefact to read.
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "axe-results.json").write_text(json.dumps(browser.axe_results, indent=1))
        shutil.rmtree(profile, ignore_errors=True)
