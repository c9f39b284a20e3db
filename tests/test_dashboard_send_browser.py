"""The preview, send and campaign pages in Debian's Chromium against `chalice local`: an admin previews the
email at 390 px, follows a score link inside it to the survey page's preview and submits it (nothing is
recorded), is refused a time in the past, sends now and sees the progress on the campaign page. Every
page and every preview document passes axe-core (WCAG 2.1 AA) and the Nu checker and fits 390 px.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from chalicelib.dashboard import people
from localdev.pagecheck import axe_violations, nu_errors
from tests.dashboard_support import browser_sign_in
from tests.helpers import create_campaign, drain, invitations_of, totals

pytestmark = pytest.mark.browser

LEAD = "lead@closeloop-test.example"
# The email's HTML is written for mail clients: their layout needs table attributes that HTML5 calls
# obsolete, and Outlook a property of its own. Nothing else is excused, and only in the email.
MAIL_CLIENT_ONLY = (
    "attribute on the “table” element is obsolete",
    "attribute on the “td” element is obsolete",
    "“mso-hide”",
)


def checked(page: Page, name: str, pages: dict[str, str], shots: Path) -> None:
    """axe-core now, the Nu checker at the end, no sideways scroll at 390 px, and a screenshot."""
    pages[name] = page.content()
    page.screenshot(path=shots / f"{name}-390.png", full_page=True)
    assert axe_violations(page) == [], name
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"


def test_preview_send_and_progress_in_a_browser(app_url, outbox, browser, tmp_path):
    people.add_person(LEAD, "Lead", "admin", time.time())
    options = {"company": "Acme", "subject": "Hi {{ first_name | default('there') }}, a quick question"}
    recipients = [{"email": "ada@example.com", "properties": {"plan": "pro", "first_name": "Ada"}}]
    campaign = create_campaign(recipients, options=options, timezone="Europe/Paris")
    base = f"{app_url}/dashboard/campaigns/{campaign.id}"
    context = browser.new_context(viewport={"width": 390, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(f"{m.text} ({m.location.get('url')})") if m.type == "error" else 0)
    pages: dict[str, str] = {}
    browser_sign_in(page, app_url, outbox, LEAD)

    # the preview at 390 px, as a recipient, then with sample properties
    page.goto(f"{base}/preview")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Preview")
    page.get_by_label("Sample properties (optional)").fill("first_name=Linus\nplan=free")
    page.get_by_label("Phone, 390 px").check()
    page.get_by_role("button", name="Show the preview").click()
    expect(page.locator("#preview-subject")).to_have_text("Hi Linus, a quick question")
    checked(page, "preview", pages, tmp_path)
    email = page.frame_locator("#preview-email")
    nine = email.get_by_role("link", name="9", exact=True)
    assert nine.get_attribute("href") == f"/dashboard/campaigns/{campaign.id}/preview/survey?a=9"
    assert page.locator("#preview-email").evaluate("el => el.getBoundingClientRect().width") == 390
    nine.click()
    expect(email.get_by_role("radio", name="9")).to_be_checked()
    email.get_by_role("button", name="Submit").click()
    expect(email.get_by_role("heading", name="Thank you!")).to_be_visible()

    # each preview document on its own
    preview_docs = {
        "email": page.locator("#preview-email").get_attribute("src"),
        "survey": f"/dashboard/campaigns/{campaign.id}/preview/survey?a=9",
        "unsubscribe": f"/dashboard/campaigns/{campaign.id}/preview/unsubscribe",
    }
    for name, src in preview_docs.items():
        page.goto(app_url + src)
        checked(page, f"preview-{name}", pages, tmp_path)

    # schedule in the past: refused with the API's message; then send now
    page.goto(f"{base}/send")
    checked(page, "send", pages, tmp_path)
    past = (datetime.now(ZoneInfo("Europe/Paris")) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Date and time, in Europe/Paris").fill(past)
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("#f-at-error")).to_contain_text("is in the past")
    checked(page, "send-refused", pages, tmp_path)
    page.get_by_role("button", name="Send now").click()
    expect(page.locator("#campaign-status")).to_have_text("sending")
    drain()
    totals(campaign.id)
    assert [i.send_state for i in invitations_of(campaign.id)] == ["sent"]
    assert all(i.score is None for i in invitations_of(campaign.id))

    page.goto(base)
    expect(page.locator("#progress-sent")).to_have_text("1")
    checked(page, "campaign", pages, tmp_path)

    errors = nu_errors(pages, tmp_path / "nu")
    errors = [e for e in errors if not (e.startswith("preview-email:") and any(s in e for s in MAIL_CLIENT_ONLY))]
    assert errors == []
    refused = f"Failed to load resource: the server responded with a status of 400 (Bad Request) ({base}/send)"
    assert problems == [refused]  # the refused time's page, answered 400 as a form with an error is
