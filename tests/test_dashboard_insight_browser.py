"""The campaign pages and held answers in Debian's Chromium: a CX lead signs in with the emailed link,
reads a campaign, accepts a held answer and sees the counters move by exactly one.

Every page is checked with axe-core (WCAG 2.1 AA) and the W3C Nu checker, must fit a 390-pixel
screen without scrolling sideways, and is saved as a screenshot at 390 and 1280 pixels wide.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from chalicelib.answers import counting, survey_pages
from chalicelib.dashboard import people
from localdev import dynamodb
from localdev.pagecheck import axe_violations, nu_errors
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, start_app
from tests.dashboard_support import browser_sign_in
from tests.helpers import csrf_of, launch

pytestmark = pytest.mark.browser

LEAD = "cx-lead@closeloop-test.example"
HELD = "quick@example.com"
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def app_url(db, monkeypatch, tmp_path) -> Iterator[str]:
    process, base = start_app(db, tmp_path / "chalice.log")
    monkeypatch.setenv("CLOSELOOP_BASE_URL", base)
    try:
        yield base
    finally:
        dynamodb.stop(process)


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP, bypass_csp=True)  # axe-core is injected as an inline script
    context.set_default_timeout(15_000)
    problems: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield page
    context.close()
    assert problems == []


def press(token: str, fields: dict[str, str], now: float, evidence: str = "submit") -> int:
    """A person's press of Submit on the survey page (the page functions, as tests/test_held_answers.py)."""
    csrf = csrf_of(survey_pages.show(token, None, now).body)
    form = {"csrf": csrf, "evidence": evidence, **fields}
    return survey_pages.submit(token, {k: [v] for k, v in form.items()}, {}, now).status


def responses_shown(page: Page) -> int:
    """The response count on the campaign page's response rate card."""
    text = page.locator(".card", has=page.get_by_role("heading", name="Response rate")).inner_text()
    return int(re.search(r"([\d,]+) responses to", text).group(1).replace(",", ""))


def check(page: Page, name: str, shots: Path, html: dict[str, str]) -> None:
    """axe finds nothing, the page fits 390 pixels, screenshots at both widths; keeps the served HTML for Nu."""
    assert axe_violations(page) == [], name
    html[name] = page.context.request.get(page.url).text()
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"
    page.screenshot(path=shots / f"{name}-390.png", full_page=True)
    page.set_viewport_size(LAPTOP)
    page.screenshot(path=shots / f"{name}-1280.png", full_page=True)


def test_a_cx_lead_reads_a_campaign_and_accepts_a_held_answer_once(app_url, outbox, page, tmp_path):
    recipients = [
        {"email": "fan@example.com", "properties": {"plan": "pro"}},
        {"email": "upset@example.com", "properties": {"plan": "free"}},
        {"email": HELD, "properties": {"plan": "pro"}},
    ]
    sent = launch(outbox, recipients, options={"themes": {"pricing": ["price"]}})
    now = time.time()
    assert press(sent.pages["fan@example.com"].rsplit("/", 1)[1], {"q_nps": "10"}, now) == 200
    assert press(sent.pages["upset@example.com"].rsplit("/", 1)[1], {"q_nps": "2", "comment": "The price"}, now) == 200
    held_token = sent.pages[HELD].rsplit("/", 1)[1]
    survey_pages.trap(held_token, now)  # a scanner fetched the hidden link; the person answers seconds later
    assert press(held_token, {"q_nps": "9", "comment": "Quick and easy"}, now + 5) == 200
    counting.apply_pending()
    people.add_person(LEAD, "Casey Lead", "admin", now)
    shots, html = tmp_path / "screenshots", {}
    shots.mkdir()

    browser_sign_in(page, app_url, outbox, LEAD)
    page.goto(f"{app_url}/dashboard/campaigns")  # the home page is the loop queue's (another area)
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
    row = page.get_by_role("row", name=re.compile(r"^Test "))
    expect(row).to_contain_text("3")  # sent
    expect(row.get_by_role("cell").nth(2)).to_have_text("2")  # responses
    check(page, "campaigns", shots, html)

    row.get_by_role("link", name="Test").click()
    expect(page.get_by_role("heading", name=re.compile("^Test"), level=1)).to_be_visible()
    chart = page.get_by_role("img", name="NPS per week, the last 12 weeks")
    expect(chart).to_be_visible()
    expect(page.get_by_role("table", name="NPS per week, the numbers of the chart")).to_be_visible()
    before = responses_shown(page)
    assert before == 2
    check(page, "campaign", shots, html)

    page.get_by_role("link", name="Review the held answers of this campaign").click()
    held_row = page.get_by_role("row", name=re.compile(HELD))
    expect(held_row).to_contain_text("Quick and easy")
    check(page, "held", shots, html)
    page.get_by_role("button", name=f"Accept the answer of {HELD}").press("Enter")  # the keyboard is enough
    expect(page.get_by_role("status")).to_contain_text("Accepted")
    expect(page.get_by_role("row", name=re.compile(HELD))).to_have_count(0)
    check(page, "held-after-accept", shots, html)

    counting.apply_pending()  # the minute's applier run
    counting.apply_pending()  # a second run finds nothing more to count
    page.goto(f"{app_url}/dashboard/campaigns/{sent.campaign.id}")
    assert responses_shown(page) == before + 1

    assert nu_errors(html, tmp_path / "nu") == []
    assert sorted(p.name for p in shots.iterdir()) == sorted(f"{n}-{w}.png" for n in html for w in (390, 1280))
