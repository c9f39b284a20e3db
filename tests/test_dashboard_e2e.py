"""Issue 17's end-to-end test: a CX lead works the loop in Debian's Chromium against `chalice local`.

A customer answers 2 out of 10 on the real survey page and another person answers seconds after a mail
scanner opened their hidden link (the answer is held). The lead asks for a sign-in link, a scanner
opens it first (the link still works), signs in with the button, finds the detractor in the loop
queue, records the call with a note, accepts the held answer (the counters move by exactly one),
exports the detractors as CSV, adds a viewer and makes an API token. On the way, every dashboard page
(and the error pages: a used or unknown link, 404, a viewer's 403) passes axe-core (WCAG 2.1 AA) and
the Nu checker, fits 390 pixels without scrolling sideways, has its main action done with Tab and
Enter alone with a visible focus, and is saved as a screenshot at 390 and 1280 pixels wide.
"""

from __future__ import annotations

import csv
import io
import re
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from chalicelib.answers.counting import apply_pending
from chalicelib.dashboard import people
from chalicelib.store.models import Invitation
from chalicelib.store.transact import update
from localdev.pagecheck import nu_errors
from tests.browser_support import WIDTHS, Pages, new_page, press, tab_to
from tests.conftest import html_links
from tests.dashboard_support import browser_sign_in, sign_in_link
from tests.helpers import invitation_of, launch

pytestmark = pytest.mark.browser

UPSET, HELD, FAN = "upset@example.com", "quick@example.com", "fan@example.com"
LEAD, VIEWER = "lead@closeloop-test.example", "ana@closeloop-test.example"
NOTE = "Called them: a discount for the renewal"


def go(page: Page, nav_label: str) -> None:
    """Open a dashboard page from the navigation with the keyboard."""
    press(page, page.get_by_role("navigation", name="Dashboard").get_by_role("link", name=nav_label, exact=True))
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def score_on_survey_page(page: Page, link: str, score: int, saved_status: int = 200) -> Locator:
    """A person's score clicked in the email, then their first gesture on the survey page, which saves the
    score (`saved_status` 202: held until the person confirms); returns the comment box."""
    page.goto(f"{link}?a={score}")
    box = page.get_by_role("textbox", name="Anything you would like to tell us?")
    with page.expect_response(lambda r: r.request.method == "POST") as saved:
        box.click()
    assert saved.value.status == saved_status
    return box


def responses_shown(page: Page) -> int:
    """The response count on the campaign page's response rate card."""
    text = page.locator(".card", has=page.get_by_role("heading", name="Response rate")).inner_text()
    return int(re.search(r"([\d,]+) responses to", text).group(1).replace(",", ""))


def test_a_lead_signs_in_works_the_loop_accepts_a_held_answer_and_exports(app_url, outbox, browser, tmp_path):
    problems: list[str] = []
    checked = Pages(tmp_path)
    options = {"reply_to": "care@acme.example", "themes": {"pricing": ["price", "expensive"]}}
    recipients = [{"email": UPSET, "properties": {"plan": "pro"}}, {"email": HELD}, {"email": FAN}]
    sent = launch(outbox, recipients, options=options)
    customer = new_page(browser, problems)

    # the customer answers on the real survey page
    score_on_survey_page(customer, sent.pages[UPSET], 2).fill("Far too expensive")
    customer.get_by_role("button", name="Submit").click()
    expect(customer.get_by_role("heading", name="Thank you!")).to_be_visible()
    checked.check(customer, "survey-thanks", dashboard=False)
    # a mail scanner opens the hidden link in another person's email; the score they click
    # seconds later is held
    message = next(m for m in sent.messages if str(m["To"]) == HELD)
    trap = next(u for u in html_links(message) if u.endswith("/t"))
    with urllib.request.urlopen(trap, timeout=10) as scanner:  # noqa: S310 - our own loopback server
        assert scanner.status == 200
    score_on_survey_page(customer, sent.pages[HELD], 9, saved_status=202)  # and never confirmed
    expect(customer.get_by_role("button", name="Confirm my answer")).to_be_visible()
    checked.check(customer, "survey-held", dashboard=False)
    apply_pending()  # the minute's applier: the detractor's answer is counted and its case opened
    case = invitation_of(sent, UPSET)
    assert case.case_due_at is not None
    update(Invitation, case.id, [Invitation.case_due_at.set(time.time() - 3600)])  # two days later

    # the lead asks for a link; a scanner opens it first; the button still signs in
    people.add_person(LEAD, "Lead", "admin", time.time())
    page = new_page(browser, problems)
    page.goto(f"{app_url}/dashboard")
    assert "/dashboard/sign-in?next=%2Fdashboard" in page.url
    checked.check(page, "sign-in")
    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.type(LEAD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    checked.check(page, "check-inbox")
    link = sign_in_link(outbox, LEAD)
    with urllib.request.urlopen(link, timeout=10) as scanner:  # noqa: S310 - our own loopback server
        assert scanner.status == 200
    page.goto(link)
    checked.check(page, "sign-in-link")
    press(page, page.get_by_role("button", name="Sign in"))
    page.wait_for_url(f"{app_url}/dashboard")

    # the loop queue: the detractor who answered in this test is overdue
    overdue = page.get_by_role("region", name=re.compile("Cases past their target time"))
    expect(overdue.get_by_role("row").filter(has_text=UPSET)).to_contain_text("Far too expensive")
    expect(overdue).to_contain_text("plan: pro")
    checked.check(page, "loop-queue")
    press(page, overdue.get_by_role("link", name=UPSET))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Response from {UPSET}")
    expect(page.get_by_role("link", name="Write to them")).to_have_attribute(
        "href", "mailto:upset@example.com?subject=Your%20feedback&cc=care%40acme.example"
    )
    checked.check(page, "response")
    response_url = page.url
    tab_to(page, page.get_by_label("Contacted: we talked to them or wrote to them"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Note"))
    page.keyboard.type(NOTE)
    press(page, page.get_by_role("button", name="Save"))
    expect(page.get_by_role("status")).to_have_text("Marked contacted.")
    latest = page.locator("#history").get_by_role("listitem").last
    expect(latest).to_contain_text(NOTE)
    expect(latest).to_contain_text(f"by {LEAD}")
    checked.check(page, "response-contacted")
    go(page, "Loop queue")
    expect(page.get_by_text("No case is past its target time.")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text(UPSET)

    # the held answer: accepted once, the campaign's counters move by exactly one
    go(page, "Campaigns")
    row = page.get_by_role("row", name=re.compile(r"^Test "))
    expect(row.get_by_role("cell").nth(1)).to_have_text("3")  # sent
    expect(row.get_by_role("cell").nth(2)).to_have_text("1")  # responses: the held one is not counted yet
    checked.check(page, "campaigns")
    press(page, row.get_by_role("link", name="Test"))
    # the weeks from the first send's on (sent just now: this week, or two across a Monday midnight)
    expect(page.get_by_role("img", name=re.compile(r"^NPS per week, the last [12] weeks"))).to_be_visible()
    expect(page.get_by_role("table", name="NPS per week, the numbers of the chart")).to_be_visible()
    before = responses_shown(page)
    assert before == 1
    checked.check(page, "campaign")
    press(page, page.get_by_role("link", name="Review the held answers of this campaign"))
    expect(page.get_by_role("row", name=re.compile(HELD))).to_contain_text("9")
    checked.check(page, "held")
    press(page, page.get_by_role("button", name=f"Accept the answer of {HELD}"))
    expect(page.get_by_role("status")).to_contain_text("Accepted")
    expect(page.get_by_role("row", name=re.compile(HELD))).to_have_count(0)
    checked.check(page, "held-accepted")
    apply_pending()  # the minute's applier
    apply_pending()  # a second run finds nothing more to count
    page.goto(f"{app_url}/dashboard/campaigns/{sent.campaign.id}")
    assert responses_shown(page) == before + 1

    # the responses, filtered with the keyboard, exported as CSV
    go(page, "Responses")
    category = page.get_by_label("Category")
    tab_to(page, category)
    page.keyboard.type("detractor")  # a closed select picks the option typed
    expect(category).to_have_value("detractor")
    tab_to(page, page.get_by_label("Words in the comment"))
    page.keyboard.type("TOO expensive")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"category=detractor.*q=TOO"))
    table = page.get_by_role("region", name=re.compile("on this page"))
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one detractor
    checked.check(page, "responses-filtered")
    with page.expect_download() as download:
        press(page, page.get_by_role("link", name=re.compile("Export these responses as CSV")))
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["email"], r["category"], r["loop_status"]) for r in rows] == [(UPSET, "detractor", "contacted")]
    page.goto(f"{app_url}/dashboard/responses?campaign={sent.campaign.id}&since=yesterday")
    expect(page.locator("#f-since-error")).to_have_text("Answered from is a day such as 2026-09-01.")
    checked.check(page, "responses-bad-filter")
    assert page.goto(f"{app_url}/dashboard/responses/no-such-response").status == 404
    checked.check(page, "not-found")

    # people and tokens: the lead adds a viewer and makes a token, with the keyboard
    go(page, "People")
    checked.check(page, "people")
    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.type(VIEWER)
    press(page, page.get_by_role("button", name="Add"))
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(VIEWER)
    checked.check(page, "people-added")
    go(page, "API tokens")
    checked.check(page, "tokens")
    tab_to(page, page.get_by_label("Name"))
    page.keyboard.type("CRM sync")
    press(page, page.get_by_role("button", name="Make a token"))
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    checked.check(page, "tokens-made")

    # the used link and an unknown one are refused with a clear page
    assert page.goto(link).status == 410
    expect(page.get_by_role("main")).to_contain_text("already been used")
    checked.check(page, "link-used")
    assert page.goto(f"{app_url}/dashboard/sign-in/no-such-link").status == 400
    expect(page.get_by_role("alert")).to_contain_text("This sign-in link is not valid")
    expect(page.get_by_role("link", name="Ask for a new sign-in link")).to_be_visible()
    checked.check(page, "link-unknown")

    # a viewer reads the response; a change posted anyway (a forged form with their token) is refused
    viewer = new_page(browser, problems)
    browser_sign_in(viewer, app_url, outbox, VIEWER)
    viewer.goto(response_url)
    expect(viewer.get_by_role("button", name="Save")).to_have_count(0)
    checked.check(viewer, "response-viewer")
    with viewer.expect_navigation() as forbidden:
        viewer.evaluate(
            """() => {
              const form = document.createElement('form');
              form.method = 'post';
              form.action = location.pathname + '/loop';
              for (const [name, value] of [['csrf', document.querySelector('input[name=csrf]').value],
                                           ['action', 'resolved'], ['note', 'not mine to close']]) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.append(input);
              }
              document.body.append(form);
              form.submit();
            }"""
        )
    assert forbidden.value.status == 403
    expect(viewer.get_by_role("heading", name="Not allowed")).to_be_visible()
    checked.check(viewer, "forbidden")

    # sign out with the keyboard
    page.goto(f"{app_url}/dashboard")
    press(page, page.get_by_role("button", name="Sign out"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    checked.check(page, "signed-out")

    assert nu_errors(checked.html, tmp_path / "nu") == []
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert shots == sorted(f"{name}-{width}.png" for name in checked.names for width in WIDTHS)
    # chalice's 403 for the icon, and the pages refused on purpose above
    refused = ("/favicon.ico", link, "since=yesterday", "/no-such-", "/loop")
    assert [p for p in problems if not any(r in p for r in refused)] == [], "the browser reported errors"
