"""The campaign settings page in Debian's Chromium against `chalice local`: an admin fixes a digest address
the API refused, adds a recipient and suppresses an address with the keyboard, and a viewer opens the page
read-only, and a page link changed by hand is said above the suppression list with its first page. Every
state of the page passes axe-core (WCAG 2.1 AA) and the Nu checker and fits 390 pixels
without scrolling sideways.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect, sync_playwright

from chalicelib.campaigns import suppression
from chalicelib.dashboard import people
from chalicelib.insight import digest_recipients
from localdev.pagecheck import nu_errors
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, PageChecks
from tests.dashboard_support import browser_sign_in
from tests.helpers import create_campaign

pytestmark = pytest.mark.browser

ADMIN, VIEWER = "lead@closeloop-test.example", "ana@closeloop-test.example"


def test_the_settings_page_works_with_a_keyboard_at_390_pixels_and_passes_axe_and_nu(app_url, outbox, tmp_path):
    campaign = create_campaign([{"email": "ada@example.com"}])
    now = time.time()
    digest_recipients.set_recipients(campaign.id, {"recipients": ["cx@acme.example"]}, now)
    suppression.suppress("gone@example.com", "bounced", now, source="ses", campaign_id=campaign.id)
    people.add_person(ADMIN, "Lead", "admin", now)
    people.add_person(VIEWER, "Ana", "viewer", now)
    url = f"{app_url}/dashboard/campaigns/{campaign.id}/settings"
    check = PageChecks(tmp_path, 390)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 900}, bypass_csp=True)
            context.set_default_timeout(15_000)
            page = context.new_page()
            browser_sign_in(page, app_url, outbox, ADMIN)
            page.goto(url)
            expect(page.get_by_role("heading", name="Digest recipients")).to_be_visible()
            check(page, "settings")

            page.get_by_label("Email address").fill("lead@exa mple")
            page.get_by_label("How often", exact=True).last.select_option("daily")
            page.get_by_role("button", name="Save digest recipients").click()
            expect(page.locator("#f-recipients-1-email-error")).to_contain_text("is not a valid email address")
            expect(page.get_by_label("Email address")).to_have_value("lead@exa mple")
            check(page, "settings-refused")

            page.get_by_label("Email address").fill("lead@acme.example")
            page.get_by_label("Email address").press("Enter")
            expect(page.get_by_role("status")).to_contain_text("Saved")
            assert {s.email: s.frequency for s in digest_recipients.subscriptions(campaign.id)} == {
                "cx@acme.example": "weekly",
                "lead@acme.example": "daily",
            }

            page.get_by_label("Address to suppress").fill("zoe@example.com")
            page.get_by_label("Reason").select_option("manual")
            page.get_by_label("Reason").press("Tab")
            page.keyboard.press("Enter")  # the focus is on "Suppress this address"
            expect(page.get_by_role("status")).to_contain_text("zoe@example.com is now suppressed")
            expect(page.get_by_role("cell", name="zoe@example.com")).to_be_visible()
            check(page, "settings-suppressed")

            page.get_by_label("Address or its beginning").fill("gone")
            page.get_by_label("Address or its beginning").press("Enter")
            expect(page.get_by_role("cell", name="gone@example.com")).to_be_visible()
            check(page, "settings-search")

            page.goto(f"{url}?email_prefix=gone&cursor=abc")  # a page link changed by hand
            expect(page.get_by_role("alert")).to_contain_text("That page link belongs to another list")
            expect(page.get_by_role("heading", name="Digest recipients")).to_be_visible()
            check(page, "settings-refused-page-link")
            page.get_by_role("link", name="First page").click()
            expect(page.get_by_role("cell", name="gone@example.com")).to_be_visible()

            viewer = browser.new_context(viewport={"width": 390, "height": 900}, bypass_csp=True).new_page()
            browser_sign_in(viewer, app_url, outbox, VIEWER)
            viewer.goto(url)
            expect(viewer.get_by_text("Your role is viewer")).to_be_visible()
            expect(viewer.get_by_role("button", name="Save digest recipients")).to_have_count(0)
            check(viewer, "settings-viewer")
        finally:
            browser.close()
    assert suppression.reason_for("zoe@example.com") == "manual"
    assert nu_errors(check.seen, tmp_path / "nu") == []
