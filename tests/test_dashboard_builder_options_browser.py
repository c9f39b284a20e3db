"""The builder's email and follow-up steps in Debian's Chromium: accessible (axe-core, the Nu checker),
390 px wide without sideways scroll, a refusal shown beside its field, a row added without script."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from chalicelib.campaigns import campaigns
from chalicelib.dashboard import people
from chalicelib.queue import get_queue
from localdev.pagecheck import axe_violations, nu_errors
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS
from tests.dashboard_support import browser_sign_in
from tests.helpers import NPS_SURVEY

pytestmark = pytest.mark.browser

LEAD = "lead@closeloop-demo.example"


def checked(page: Page, name: str, html: dict[str, str]) -> None:
    html[name] = page.content()  # before axe adds its script to the page
    assert axe_violations(page) == [], name
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"


def test_the_email_and_follow_up_steps_are_accessible_and_fit_a_phone(app_url, outbox, tmp_path):
    people.add_person(LEAD, "Lead", "admin", time.time())
    body = {
        "name": "Q4 NPS",
        "survey": NPS_SURVEY,
        "segments": ["plan"],
        "options": {
            "brand_color": "#1a56db",
            "themes": {"pricing": ["price", "expensive"]},
            "webhooks": [{"url": "http://127.0.0.1:9/hook"}],
            "slack_webhook_url": "http://127.0.0.1:9/slack/T0001/B0001/XXXXXXXXXXXX",
        },
    }
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), time.time())
    html: dict[str, str] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 900}, bypass_csp=True)
        context.set_default_timeout(15_000)
        page = context.new_page()
        browser_sign_in(page, app_url, outbox, LEAD)

        page.goto(f"{app_url}/dashboard/campaigns/{campaign.id}/edit/email")
        expect(page.get_by_role("heading", level=1)).to_have_text("Q4 NPS: email and brand")
        checked(page, "email", html)
        page.get_by_label("Pick the brand colour").fill("#ff8800")  # the script's picker fills the text box
        expect(page.get_by_label("Brand colour", exact=True)).to_have_value("#ff8800")
        page.get_by_label("Sender name").fill("Ana at Acme")
        page.get_by_label("Reminders (days after the invitation)").fill("3, soon")
        page.get_by_label("Reply-to address").fill("nobody")
        page.get_by_role("button", name="Save email and brand").click()
        expect(page.locator("#f-options-reminders-error")).to_contain_text("Reminders are up to 3")
        expect(page.get_by_label("Sender name")).to_have_value("Ana at Acme")
        expect(page.locator("#f-options-reply_to-error")).to_contain_text("not a valid email address")
        checked(page, "email-refused", html)
        page.get_by_label("Reply-to address").fill("")
        page.get_by_label("Reminders (days after the invitation)").fill("3, 7")
        page.get_by_role("button", name="Save email and brand").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")

        page.get_by_role("link", name="Follow-up").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Q4 NPS: follow-up")
        checked(page, "follow-up", html)
        page.get_by_label("Theme 2 name").fill("support")
        page.get_by_label("Theme 2 keywords").fill("help desk")
        page.get_by_role("button", name="Add a theme").click()
        expect(page.get_by_label("Theme 3 name")).to_have_value("")
        expect(page.get_by_label("Theme 2 keywords")).to_have_value("help desk")
        page.get_by_label("Fatigue window (days)").fill("400")
        page.get_by_label("Theme 2 name").fill("Support")  # both refused in one save, each beside its input
        page.get_by_role("button", name="Save follow-up").first.click()
        expect(page.locator("#f-options-fatigue_days-error")).to_contain_text("0 to 365")
        expect(page.get_by_label("Theme 2 name")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(".notice.bad li").first).to_contain_text("Theme 2 name: A theme name is lower-case")
        checked(page, "follow-up-refused", html)
        page.get_by_label("Theme 2 name").fill("support")
        page.get_by_label("Fatigue window (days)").fill("14")
        page.get_by_label("Fatigue window (days)").press("Enter")  # Enter saves; it does not add a row
        expect(page.get_by_role("status")).to_have_text("Saved.")

        campaigns.start_sending(campaign.id, time.time(), None, get_queue())  # gone out: most fields locked
        for step, name in (("email", "Brand colour"), ("follow-up", "Fatigue window (days)")):
            page.goto(f"{app_url}/dashboard/campaigns/{campaign.id}/edit/{step}")
            expect(page.get_by_label(name)).to_be_disabled()
            checked(page, f"{step}-locked", html)
        browser.close()
    assert nu_errors(html, tmp_path) == []
    options = campaigns.get_view(campaign.id).options
    assert (options["reminders"], options["fatigue_days"], options["sender_name"]) == ([3, 7], 14, "Ana at Acme")
    assert options["brand_color"] == "#ff8800"
    assert options["themes"] == {"pricing": ["price", "expensive"], "support": ["help desk"]}
