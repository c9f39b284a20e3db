"""Signing in to the dashboard in Debian's Chromium on a 390-pixel phone: the emailed link, opened first by a
scanner, still signs in with its button; every page on the way passes axe-core (WCAG 2.1 AA) and the Nu checker."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

from chalicelib.dashboard import people
from localdev import dynamodb
from localdev.pagecheck import axe_violations, nu_errors
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, start_app
from tests.dashboard_support import browser_sign_in, sign_in_link

pytestmark = pytest.mark.browser

LEAD = "lead@closeloop-test.example"


@pytest.fixture
def app_url(db, monkeypatch, tmp_path) -> Iterator[str]:
    process, base = start_app(db, tmp_path / "chalice.log")
    monkeypatch.setenv("CLOSELOOP_BASE_URL", base)
    try:
        yield base
    finally:
        dynamodb.stop(process)


@pytest.fixture
def phone() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # bypass_csp lets axe-core's script into pages whose CSP allows only our own files
            context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
            context.set_default_timeout(15_000)
            yield context.new_page()
        finally:
            browser.close()


def checked(page: Page, name: str, pages: dict[str, str]) -> None:
    """Keep the page's HTML for the Nu checker; it must pass axe, fit 390 px and have a skip link."""
    pages[name] = page.content()
    assert axe_violations(page) == [], name
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    assert page.get_by_role("link", name="Skip to the content").count() == 1, name


def test_a_lead_signs_in_on_a_phone_after_a_scanner_opened_the_link(app_url, outbox, phone, tmp_path):
    people.add_person(LEAD, "Lead", "admin", time.time())
    pages: dict[str, str] = {}
    phone.goto(f"{app_url}/dashboard/people")
    assert "/dashboard/sign-in?next=%2Fdashboard%2Fpeople" in phone.url
    checked(phone, "sign-in form", pages)
    phone.get_by_label("Email address").fill(LEAD)
    phone.keyboard.press("Enter")
    phone.get_by_role("heading", name="Check your inbox").wait_for()
    checked(phone, "check your inbox", pages)
    link = sign_in_link(outbox, LEAD)
    with urllib.request.urlopen(link, timeout=10) as scanner:  # noqa: S310 - our own loopback server
        assert scanner.status == 200
    phone.goto(link)
    checked(phone, "sign-in button", pages)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url(f"{app_url}/dashboard/people")
    phone.get_by_role("heading", name="People").wait_for()
    checked(phone, "people", pages)
    phone.get_by_role("link", name="API tokens").click()
    phone.get_by_label("Name").fill("CRM sync")
    phone.get_by_role("button", name="Make a token").click()
    phone.get_by_text("Copy it now: it is not shown again.").wait_for()
    checked(phone, "tokens, one just made", pages)
    phone.goto(link)
    assert "already been used" in phone.content()
    checked(phone, "used link", pages)
    phone.goto(f"{app_url}/dashboard/people")
    phone.get_by_role("button", name="Sign out").click()
    phone.get_by_text("You are signed out.").wait_for()
    assert nu_errors(pages, tmp_path / "nu") == []


def test_browser_sign_in_helper_signs_in(app_url, outbox, phone):
    people.add_person(LEAD, "Lead", "viewer", time.time())
    browser_sign_in(phone, app_url, outbox, LEAD)
    phone.goto(f"{app_url}/dashboard/tokens")
    assert phone.get_by_role("heading", name="API tokens").is_visible()
    assert phone.get_by_role("button", name="Make a token").count() == 0  # a viewer
    assert axe_violations(phone) == []
