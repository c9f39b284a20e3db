"""The recipients pages in Debian's Chromium against `chalice local`: a file chosen with the file button
is imported, the progress bar shows while its chunks wait in the work queue and the report replaces it
once they are written; every page passes axe-core and the Nu checker and fits 390 pixels."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chalicelib.dashboard import people
from localdev.pagecheck import axe_violations, nu_errors
from tests.dashboard_support import browser_sign_in
from tests.helpers import create_campaign, drain

pytestmark = pytest.mark.browser

LEAD = "lead@closeloop-test.example"


def test_an_upload_shows_its_progress_then_the_report_with_its_rejected_rows(app_url, outbox, browser, tmp_path):
    campaign = create_campaign([{"email": "first@example.com"}])
    people.add_person(LEAD, "Lead", "admin", time.time())
    problems: list[str] = []
    # bypass_csp lets axe-core's script into pages whose CSP allows only our own files
    context = browser.new_context(viewport={"width": 390, "height": 900}, accept_downloads=True, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    browser_sign_in(page, app_url, outbox, LEAD)
    html: dict[str, str] = {}

    def checked(name: str) -> None:
        html[name] = page.content()
        assert axe_violations(page) == [], name
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name

    page.goto(f"{app_url}/dashboard/campaigns/{campaign.id}/recipients")
    expect(page.get_by_role("cell", name="first@example.com")).to_be_visible()
    checked("recipients")

    too_large = b"email\n" + b"x" * (6 * 1024 * 1024)
    page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": "huge.csv", "mimeType": "text/csv", "buffer": too_large}
    )
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#f-file-error")).to_have_text("At most 6 MB per import; split the file.")
    expect(page.get_by_label("CSV file", exact=True)).to_have_attribute("aria-invalid", "true")
    assert posted == []  # refused before it was sent

    lines = ["email,plan"] + [f"p{i}@example.com,pro" for i in range(1_200)] + ["nope,free", "also bad,pro"]
    page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": "\n".join(lines).encode()}
    )
    page.get_by_role("button", name="Upload and import").click()
    bar = page.locator("progress#import-progress")
    expect(bar).to_be_visible()
    assert (bar.get_attribute("max"), bar.get_attribute("value")) == ("3", "0")
    expect(page.get_by_role("status")).to_contain_text("Importing: 0 of 3 chunks written")
    checked("import running")

    drain()  # the local runner's work, done here: the page's script sees the chunks written and reloads
    expect(page.locator("#report-invited")).to_have_text("1200")
    expect(bar).to_have_count(0)
    expect(page.locator("#report-rejected")).to_have_text("2")
    rejected = page.locator("#rejected-table tbody tr")
    expect(rejected).to_have_count(2)
    expect(rejected.nth(0)).to_contain_text("1202")
    with page.expect_download() as download:
        page.locator("#rejected-download").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0] == "email,plan,row,reason"
    assert [line.split(",")[:3] for line in text.splitlines()[1:]] == [
        ["nope", "free", "1202"],
        ["also bad", "pro", "1203"],
    ]
    checked("import done")

    assert nu_errors(html, tmp_path) == []
    assert problems == []
