"""Issue 18's end-to-end test: a CX lead builds, previews, fills and sends a campaign in Debian's Chromium.

Signed in as an admin, the lead creates a campaign with an NPS, a multiple-choice and a text question,
fixes the validation error shown next to its field, sets the sender, previews the email at 390 pixels
and follows one of its score links (which records nothing), uploads a CSV of 2,000 rows of which 20
are bad and watches the progress bar while the work queue writes it, finds exactly those 20 rows in the
report and in the download, is refused a send time in the past, sends now, and sees the answer of a
customer who clicked a score in the outbox on the campaign page. Every page passes axe-core (WCAG 2.1
AA) and the Nu checker, fits 390 pixels without scrolling sideways, and is saved as a screenshot at 390
and 1280 pixels wide.
"""

from __future__ import annotations

import csv
import io
import random
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chalicelib.answers.counting import apply_pending
from chalicelib.dashboard import people
from chalicelib.queue import get_queue
from chalicelib.runtime import work
from chalicelib.store.models import Invitation
from localdev.pagecheck import nu_errors
from tests.browser_support import WIDTHS, Pages, new_page, press
from tests.conftest import html_links, read_outbox
from tests.dashboard_support import browser_sign_in

pytestmark = pytest.mark.browser

LEAD = "lead@closeloop-test.example"
ROWS, BAD = 2000, 20
CHUNKS = 4  # 1,980 good rows, written 500 at a time


def recipients_csv(path: Path) -> dict[int, str]:
    """2,000 data rows with an email and two properties; 20 of them, spread at random, have an address
    that is not one. Returns the bad rows by row number (the header is row 1)."""
    spots = sorted(random.Random(18).sample(range(ROWS), BAD))
    bad = {}
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Email", "first_name", "plan"])
        for i in range(ROWS):
            email = f"customer{i}@example.com"
            if i in spots:
                email = f"customer{i}.example.com" if i % 2 else f"customer{i}@@example.com"
                bad[i + 2] = email
            writer.writerow([email, f"Name{i}", "pro" if i % 3 else "team"])
    return bad


def work_one_message(ago: float = 0) -> int:
    """The work queue delivers one message to the work handler, as SQS does with a batch size of 1, on a
    clock `ago` seconds behind."""

    def clock() -> float:
        return time.time() - ago

    return get_queue().drain(lambda event, _context: [work.handle(r, clock) for r in event["Records"]], max_rounds=1)


def test_an_admin_builds_previews_fills_and_sends_a_campaign_then_sees_an_answer(app_url, outbox, browser, tmp_path):
    problems: list[str] = []
    checked = Pages(tmp_path)
    people.add_person(LEAD, "Lead", "admin", time.time())
    page = new_page(browser, problems)
    browser_sign_in(page, app_url, outbox, LEAD)

    # a new campaign: name and time zone, then its survey
    page.goto(f"{app_url}/dashboard/campaigns")
    press(page, page.get_by_role("link", name="New campaign"))
    page.wait_for_url("**/campaigns/new")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    checked.check(page, "new")
    page.get_by_label("Name", exact=True).fill("Winter check-in")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_role("button", name="Create the draft").click()
    expect(page.get_by_role("status")).to_contain_text("The draft is saved")
    campaign_url = re.sub(r"/edit/survey.*$", "", page.url)
    campaign_id = campaign_url.rsplit("/", 1)[1]
    checked.check(page, "survey")

    # a multiple-choice question with an impossible minimum: refused next to its field, nothing typed lost
    page.get_by_label("Type of the new question").select_option("multi_choice")
    page.get_by_role("button", name="Add a question").click()
    page.get_by_label("Question (question 2)").fill("What should we improve first?")
    page.get_by_label("Choices, one per line (question 2)").fill("Price\nSupport\nSpeed")
    page.get_by_label("Choose at least (question 2)").fill("5")
    page.get_by_role("button", name="Save", exact=True).click()
    error = page.locator("#f-survey-questions-1-min_choices-error")
    expect(error).to_have_text("Choose at least is a whole number from 0 to 3.")
    expect(page.get_by_label("Question (question 2)")).to_have_value("What should we improve first?")
    expect(page.get_by_label("Choices, one per line (question 2)")).to_have_value("Price\nSupport\nSpeed")
    checked.check(page, "survey-refused")
    page.get_by_label("Choose at least (question 2)").fill("1")
    page.get_by_label("Type of the new question").select_option("text")
    page.get_by_role("button", name="Add a question").click()
    page.get_by_label("Question (question 3)").fill("Anything else you would like to tell us?")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Winter check-in: email and brand")
    checked.check(page, "email")

    # who it is from
    page.get_by_label("Company").fill("Acme")
    page.get_by_label("Reply-to address").fill("care@acme.example")
    page.get_by_role("button", name="Save email and brand").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    checked.check(page, "email-saved")

    # recipients: 2,000 rows, 20 bad, written in chunks through the work queue while the page shows progress
    bad = recipients_csv(tmp_path / "customers.csv")
    tabs = page.get_by_role("navigation", name="Campaign Winter check-in")
    press(page, tabs.get_by_role("link", name="Recipients"))
    page.wait_for_url("**/recipients")
    checked.check(page, "recipients-empty")
    page.get_by_label("CSV file", exact=True).set_input_files(tmp_path / "customers.csv")
    page.get_by_role("button", name="Upload and import").click()
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("max", str(CHUNKS))
    expect(progress).to_have_attribute("value", "0")
    checked.check(page, "import-running")
    for done in range(1, CHUNKS):
        assert work_one_message() == 1
        expect(progress).to_have_attribute("value", str(done))  # the page's script polls the import
    assert work_one_message() == 1  # the last chunk: the page shows the report
    expect(page.locator("#report-accepted")).to_have_text("1980")
    expect(page.locator("#report-rejected")).to_have_text(str(BAD))
    listed = page.locator("#rejected-table tbody tr")
    expect(listed).to_have_count(BAD)
    checked.check(page, "import-done")
    with page.expect_download() as download:
        page.locator("#rejected-download").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert {int(r["row"]): r["Email"] for r in rows} == bad
    assert all(r["reason"] for r in rows)

    # the preview at phone width: the score links go to a preview of the survey, which records nothing
    press(page, tabs.get_by_role("link", name="Preview"))
    page.wait_for_url("**/preview")
    page.get_by_label("Recipient's email address").fill("customer0@example.com")
    page.get_by_label("Phone, 390 px").check()
    page.get_by_role("button", name="Show the preview").click()
    expect(page.locator("#preview-subject")).to_contain_text("Acme")
    email = page.frame_locator("#preview-email")
    for score in (0, 9, 10):
        expect(email.get_by_role("link", name=re.compile(rf"^{score}(,|$)"))).to_have_attribute(
            "href", re.compile(rf"/dashboard/campaigns/{campaign_id}/preview/survey\?a={score}$")
        )
    assert page.locator("#preview-email").evaluate("el => el.getBoundingClientRect().width") == 390
    checked.check(page, "preview")
    email.get_by_role("link", name="9", exact=True).click()
    survey = page.frame_locator("#preview-email")
    expect(survey.get_by_role("radio", name=re.compile(r"^9\b"))).to_be_checked()
    survey.get_by_role("button", name="Submit").click()
    expect(survey.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert list(Invitation.responses.query(campaign_id)) == []  # the preview recorded no answer

    # send: a time in the past is refused with the API's words, then now
    press(page, tabs.get_by_role("link", name="Send"))
    page.wait_for_url("**/send")
    expect(page.locator("#send-reach")).to_contain_text("1,980")
    checked.check(page, "send")
    page.get_by_label(re.compile(r"^Date and time, in Europe/Paris")).fill("2026-01-05T09:00")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("#f-at-error")).to_contain_text("is in the past")
    checked.check(page, "send-refused")
    page.get_by_role("button", name="Send now").click()
    expect(page.locator("#campaign-status")).to_have_text("sending")
    checked.check(page, "sending")

    # the first batch goes out; a customer clicks 9 in their email and submits
    for _ in range(2):  # the fan-out, then one batch of invitations, an hour ago (outside the scanner window)
        assert work_one_message(ago=3600) == 1
    invitation = next(m for m in read_outbox(outbox) if "sign-in" not in str(m["Subject"]))
    link = next(u for u in html_links(invitation) if "/s/" in u and "?" not in u and not u.endswith("/t"))
    customer = new_page(browser, problems)
    customer.goto(f"{link}?a=9")
    customer.get_by_label("Support").check()
    customer.get_by_role("button", name="Submit").click()
    expect(customer.get_by_role("heading", name="Thank you!")).to_be_visible()
    checked.check(customer, "customer-thanks", dashboard=False)
    apply_pending()  # the minute's applier counts it

    page.goto(campaign_url)
    expect(page.locator("#progress-sent")).to_have_text("50")
    card = page.locator(".card", has=page.get_by_role("heading", name="Response rate"))
    expect(card).to_contain_text("1 responses to 50 invitations sent")
    checked.check(page, "campaign-answered")

    assert nu_errors(checked.html, tmp_path / "nu") == []
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(checked.names) == 14
    assert shots == sorted(f"{name}-{width}.png" for name in checked.names for width in WIDTHS)
    # the refusals above: the survey's save (and its background save), and the past send time
    refused = ("/favicon.ico", *(f"400 (Bad Request) ({campaign_url}/{path})" for path in ("edit/survey", "send")))
    assert [p for p in problems if not any(r in p for r in refused)] == [], "the browser reported errors"
