"""Working the loop in a real browser: a customer answers 2 out of 10 on the survey page, a CX lead signs
in by emailed link, finds the case overdue in the loop queue, records the call, and exports the
detractors. Debian's Chromium against `chalice local`; every page passes axe-core (WCAG 2.1 AA) and
the Nu HTML checker and fits a 390-pixel-wide phone; screenshots of each at 390 and 1280 pixels."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from chalicelib.answers.counting import apply_pending
from chalicelib.dashboard import people
from chalicelib.store.models import Invitation
from chalicelib.store.transact import update
from localdev import dynamodb
from localdev.pagecheck import axe_violations, nu_errors
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, start_app
from tests.dashboard_support import browser_sign_in
from tests.helpers import invitation_of, launch

pytestmark = pytest.mark.browser

CUSTOMER = "upset@example.com"
LEAD = "lead@closeloop-test.example"
WIDTHS = (390, 1280)


@pytest.fixture
def app_url(db, monkeypatch, tmp_path) -> Iterator[str]:
    """`chalice local` serving this test's tables; the test process builds links to it too."""
    process, base = start_app(db, tmp_path / "chalice.log")
    monkeypatch.setenv("CLOSELOOP_BASE_URL", base)
    try:
        yield base
    finally:
        dynamodb.stop(process)


@pytest.fixture
def page() -> Iterator[Page]:
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # bypass_csp lets axe-core's script into pages whose CSP allows only our own files
        context = browser.new_context(accept_downloads=True, bypass_csp=True)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda m: (
                problems.append(m.text) if m.type == "error" and "favicon" not in m.location.get("url", "") else 0
            ),
        )
        try:
            yield page
        finally:
            browser.close()
    expected = "the server responded with a status of 400"  # the filter the test gets wrong on purpose
    assert [p for p in problems if expected not in p] == [], "the browser reported errors"


def is_ours(message) -> bool:
    """Not ours: chalice's 403 for /favicon.ico, as API Gateway answers any unknown path."""
    return not message.location.get("url", "").endswith("/favicon.ico")


class Pages:
    """Every dashboard page the test visits: checked with axe at once, with the Nu checker at the end."""

    def __init__(self, page: Page, shots: Path) -> None:
        self.page, self.shots, self.html = page, shots, {}

    def check(self, name: str) -> None:
        page = self.page
        self.html[name] = page.content()  # before axe adds its script to the page
        assert axe_violations(page) == [], name
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=self.shots / f"{name}-{width}.png", full_page=True)
            fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, f"{name} scrolls sideways at {width} px"
        page.set_viewport_size({"width": 390, "height": 900})


def test_a_lead_works_a_fresh_detractor_through_the_loop_and_exports(app_url, outbox, page, tmp_path):
    options = {"reply_to": "care@acme.example", "themes": {"pricing": ["price", "expensive"]}}
    recipients = [{"email": CUSTOMER, "properties": {"plan": "pro"}}, {"email": "fan@example.com"}]
    sent = launch(outbox, recipients, options=options)

    # the customer answers on the real survey page
    page.goto(sent.pages[CUSTOMER] + "?a=2")  # the score clicked in the email
    comment = page.get_by_role("textbox", name="Anything you would like to tell us?")
    with page.expect_response(lambda r: r.request.method == "POST") as saved:
        comment.click()  # the first gesture saves the preselected score
    assert saved.value.status == 200
    comment.fill("Far too expensive")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    apply_pending()  # the minute's applier: the answer is counted and its case opened
    case = invitation_of(sent, CUSTOMER)
    assert case.case_due_at is not None
    update(Invitation, case.id, [Invitation.case_due_at.set(time.time() - 3600)])  # two days later

    people.add_person(LEAD, "Lead", "admin", time.time())
    page.context.clear_cookies()
    browser_sign_in(page, app_url, outbox, LEAD)
    checked = Pages(page, tmp_path)
    page.set_viewport_size({"width": 390, "height": 900})

    page.goto(f"{app_url}/dashboard")
    overdue = page.get_by_role("region", name=re.compile("Cases past their target time"))
    expect(overdue.get_by_role("row").filter(has_text=CUSTOMER)).to_contain_text("Far too expensive")
    expect(overdue).to_contain_text("plan: pro")
    checked.check("loop-queue")

    overdue.get_by_role("link", name=CUSTOMER).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Response from {CUSTOMER}")
    expect(page.get_by_role("link", name="Write to them")).to_have_attribute(
        "href", "mailto:upset@example.com?subject=Your%20feedback&cc=care%40acme.example"
    )
    checked.check("response")
    page.get_by_label("Contacted: we talked to them or wrote to them").check()
    page.get_by_label("Note").fill("Called them: a discount for the renewal")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Marked contacted.")
    history = page.locator("#history")
    expect(history.get_by_role("listitem").last).to_contain_text("Called them: a discount for the renewal")
    expect(history.get_by_role("listitem").last).to_contain_text(f"by {LEAD}")

    page.get_by_role("link", name="Loop queue").click()
    expect(page.get_by_text("No case is past its target time.")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text(CUSTOMER)

    page.get_by_role("link", name="Responses", exact=True).click()
    page.get_by_label("Category").select_option("detractor")
    page.get_by_label("Words in the comment").focus()
    page.keyboard.type("TOO expensive")
    page.keyboard.press("Enter")  # the keyboard alone applies the filters
    page.wait_for_url(re.compile(r"category=detractor.*q=TOO"))
    table = page.get_by_role("region", name=re.compile("on this page"))
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one detractor
    checked.check("responses")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Export these responses as CSV")).click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["email"], r["category"], r["loop_status"]) for r in rows] == [(CUSTOMER, "detractor", "contacted")]

    page.goto(f"{app_url}/dashboard/responses?campaign={sent.campaign.id}&since=yesterday")
    expect(page.locator("#f-since-error")).to_have_text("Answered from is a day such as 2026-09-01.")
    checked.check("responses-error")

    assert nu_errors(checked.html, tmp_path / "nu") == []
    assert all((tmp_path / f"{name}-{width}.png").exists() for name in checked.html for width in WIDTHS)
