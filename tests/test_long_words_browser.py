"""Long unbroken words on a 360 px phone, in Debian's Chromium against `chalice local`.

A campaign whose name, questions, choices, company, addresses and URLs are each one long word
(80 letters, or a long email address), answered with a one-word comment by customers whose addresses
are long too: every page that shows such text, to a customer or in the dashboard, fits 360 px
(`document.documentElement.scrollWidth` is at most 360: a table may scroll inside its own box, never
the page), and so does every HTML email. The pages pass axe-core (WCAG 2.1 AA) and the Nu checker.

Breaking long words must not split ordinary ones: on every page and email measured, no word of at most
ORDINARY characters has its text on two lines (a table's auto layout squeezed columns to a letter while
`overflow-wrap:anywhere` reached its cells). A second test seeds ordinary text into the narrow cells where
that happened, and the longest address the app accepts into the loop queue's and responses' tables.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from chalicelib import mail
from chalicelib.admin import auth
from chalicelib.answers.counting import apply_pending
from chalicelib.campaigns import suppression
from chalicelib.core.config import get_settings
from chalicelib.dashboard import people
from chalicelib.delighted import history_import, keys
from chalicelib.insight import digest, digest_recipients
from chalicelib.loop import followups
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from chalicelib.sending.invitations import invitation_id
from chalicelib.store.models import Invitation
from chalicelib.store.transact import update
from localdev.pagecheck import axe_violations, nu_errors
from tests.conftest import html_links, read_outbox
from tests.dashboard_support import browser_sign_in, sign_in_link
from tests.helpers import drain, launch

pytestmark = pytest.mark.browser

PHONE = 360
WORD = "Unbreakable" * 8  # 88 letters, no place to break a line
ADDRESS = "averyveryverylong.name.at.some.company@subdomain.example.com"
UPSET = "averyveryverylongcustomeraddresswithoutbreaks@subdomain.customers.example.com"
HELD = "anotherveryverylongcustomeraddresswithoutbreaks@subdomain.customers.example.com"
FAN = "yetanotherveryverylongcustomeraddress@subdomain.customers.example.com"
LEAD = "averyveryverylong.lead.at.some.company@dashboard.closeloop-test.example"
URL = "https://reviews.example.com/" + "averyveryverylongpathsegment" * 4
SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": f"How likely {WORD}?"},
        {"id": "why", "type": "single_choice", "text": WORD, "options": [WORD, "Price"]},
        {"id": "uses", "type": "multi_choice", "text": f"Uses {WORD}", "options": [f"A{WORD}", "Alerts"]},
        {"id": "more", "type": "text", "text": f"Tell us {WORD}"},
    ]
}
OPTIONS = {
    "company": WORD,
    "reply_to": ADDRESS,
    "alert_emails": [ADDRESS],
    "follow_up_name": WORD,
    "review_url": URL,
    "themes": {WORD.lower()[:32]: [WORD.lower()[:50]]},
    "webhooks": [{"url": URL}],
}
SCROLL_WIDTH = "document.documentElement.scrollWidth"
# each table's width, its first row's first cell's (the customer) and its scroll box's
TABLE_WIDTHS = """tables => tables.map(t => [t, t.tBodies[0].rows[0].cells[0], t.parentElement.closest('.table-wrap')]
    .map(e => Math.round(e.getBoundingClientRect().width)))"""


ORDINARY = 20  # characters: a word at most this long is never split across lines, whatever box it is in
# each word (between spaces) of at most `max` characters whose text has rects on two lines; a line may break after a
# hyphen, so each part up to one is measured alone
SPLIT_WORDS = """max => {
    const found = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node; (node = walk.nextNode()); ) {
        for (const word of node.data.matchAll(/\\S+/g)) {
            if (word[0].length > max) continue;
            for (const part of word[0].matchAll(/[^-]+-?/g)) {
                const range = document.createRange(), start = word.index + part.index;
                range.setStart(node, start);
                range.setEnd(node, start + part[0].length);
                const rects = [...range.getClientRects()].filter(r => r.width > 0);
                const split = rects.some(r => r.top >= rects[0].bottom - 1);
                if (split) found.push(`${word[0]} in ${node.parentElement.tagName}`);
            }
        }
    }
    return found;
}"""


def split_words(page: Page) -> list[str]:
    """The ordinary words the page shows broken over two lines: a long word may break, none of ORDINARY characters."""
    return page.evaluate(SPLIT_WORDS, ORDINARY)


def wider(page: Page) -> list[str]:
    """The elements reaching past the screen's right edge, to name in a failure."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + .5)
        .slice(0, 4).map(e => `${e.tagName}.${e.className}`)"""
    )


class Phone:
    """Pages checked at 360 px: each is measured, saved as a screenshot, run through axe-core and kept for the
    Nu checker."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.shots = folder, []
        self.html: dict[str, str] = {}
        self.too_wide: dict[str, tuple[int, list[str]]] = {}
        self.split: dict[str, list[str]] = {}
        self.axe: dict[str, list] = {}

    def check(self, page: Page, name: str, axe: bool = True) -> None:
        page.wait_for_load_state()
        width = page.evaluate(SCROLL_WIDTH)
        if width > PHONE:
            self.too_wide[name] = (width, wider(page))
        split = split_words(page)
        if split:
            self.split[name] = split
        self.shots.append(name)
        page.screenshot(
            path=self.folder / f"{len(self.shots):02d}-{re.sub(r'[^a-z]+', '-', name)[:40]}.png", full_page=True
        )
        if axe:
            self.html[name] = page.content()
            found = axe_violations(page)
            if found:
                self.axe[name] = found


def phone_page(browser: Browser) -> Page:
    # bypass_csp lets axe-core's script into pages whose CSP allows only our own files
    context = browser.new_context(viewport={"width": PHONE, "height": 800}, bypass_csp=True)
    context.set_default_timeout(15_000)
    return context.new_page()


def test_long_words_fit_a_360_px_phone_on_every_page_and_email(app_url, outbox, browser, tmp_path):
    now = time.time()
    recipients = [
        {"email": UPSET, "properties": {"plan": WORD}},
        {"email": HELD, "properties": {"plan": WORD}},
        {"email": FAN, "properties": {"plan": "pro"}},
    ]
    sent = launch(outbox, recipients, survey=SURVEY, options=OPTIONS, name=WORD)
    cid = sent.campaign.id
    phone = Phone(tmp_path)
    customer = phone_page(browser)

    # customers: a detractor with a one-word comment, a promoter, an answer held after a scanner's click
    customer.goto(f"{sent.pages[UPSET]}?a=2")
    phone.check(customer, "survey page")
    customer.get_by_role("radio", name=WORD, exact=True).check()
    customer.get_by_role("textbox", name=re.compile("^Tell us")).fill(WORD.lower())
    customer.get_by_role("button", name="Submit").click()
    expect(customer.get_by_role("heading", name="Thank you!")).to_be_visible()
    phone.check(customer, "thank-you page")
    # tags, as the v1 API or a Delighted import sets them, on the response page
    update(Invitation, invitation_id(cid, UPSET), [Invitation.tags.set([WORD, f"{WORD[:40]} {WORD[:40]}", "vip"])])
    customer.get_by_role("link", name="Change your answer").click()
    phone.check(customer, "change your answer")
    customer.goto(f"{sent.pages[FAN]}?a=10")
    customer.get_by_role("button", name="Submit").click()
    expect(customer.get_by_role("heading", name="Thank you!")).to_be_visible()
    phone.check(customer, "thank-you page, promoter")
    trap = next(u for u in html_links(next(m for m in sent.messages if str(m["To"]) == HELD)) if u.endswith("/t"))
    with urllib.request.urlopen(trap, timeout=10) as scanner:  # noqa: S310 - our own loopback server
        assert scanner.status == 200
    customer.goto(f"{sent.pages[HELD]}?a=9")
    with customer.expect_response(lambda r: r.request.method == "POST"):
        customer.get_by_role("textbox", name=re.compile("^Tell us")).click()
    expect(customer.get_by_role("button", name="Confirm my answer")).to_be_visible()
    phone.check(customer, "held answer")
    unsubscribe = next(u for u in html_links(next(m for m in sent.messages if str(m["To"]) == FAN)) if "/u/" in u)
    customer.goto(unsubscribe)
    phone.check(customer, "unsubscribe page")
    customer.get_by_role("button", name="Unsubscribe").click()
    phone.check(customer, "unsubscribed page")
    digest_recipients.set_recipients(cid, {"recipients": [ADDRESS]}, now)
    customer.goto(digest_recipients.link(cid, ADDRESS))
    phone.check(customer, "digest preferences")

    # a CX lead with a long address signs in
    people.add_person(LEAD, WORD, "admin", now)
    lead = phone_page(browser)
    lead.goto(f"{app_url}/dashboard/sign-in")
    lead.get_by_label("Email address").fill(LEAD)
    lead.get_by_role("button", name="Email me a sign-in link").click()
    expect(lead.get_by_role("heading", name="Check your inbox")).to_be_visible()
    phone.check(lead, "check your inbox")
    lead.goto(sign_in_link(outbox, LEAD))
    phone.check(lead, "sign-in link")
    lead.get_by_role("button", name="Sign in").click()
    lead.wait_for_url(f"{app_url}/dashboard")

    # the emails: invitations, acknowledgement, alert, digest, sign-in
    apply_pending()
    drain()  # the alert
    settings = get_settings()
    followups.acknowledge_due(time.time() + settings.ack_delay + 1, settings)
    period = digest.latest_period("weekly", time.time(), "UTC", so_far=True)
    mail.get_mailer(settings).send(
        digest.render_message(digest.preview(sent.campaign, period, time.time()), ADDRESS, settings)
    )
    emails = {f"email to {m['To']}: {m['Subject']}": m.get_body(("html",)).get_content() for m in read_outbox(outbox)}
    assert len(emails) == 7, list(emails)
    for name, html in emails.items():
        customer.set_content(html)
        phone.check(customer, name, axe=False)

    # the dashboard's pages
    people.add_person(ADDRESS, WORD, "viewer", now)
    auth.mint_token(WORD, now, created_by=LEAD)
    suppression.add({"email": ADDRESS, "reason": "manual"}, now, LEAD)
    rows = [(0, {"email": f"{WORD}@example.com", "properties": {}}), (1, {"email": WORD, "properties": {WORD: WORD}})]
    report = imports.start(sent.campaign, rows, "recipients", now, settings, get_queue())
    drain()
    exported = f"Response ID,Email,Score,Response Timestamp\n{WORD},{WORD}@example.com,12,2025-09-01T10:00:00Z\n"
    (history,) = history_import.import_files(cid, [history_import.Upload("x.csv", exported)], now, "test")
    response_id = None
    for name, path in [
        ("loop queue", "/dashboard"),
        ("responses", f"/dashboard/responses?campaign={cid}"),
        ("campaigns", "/dashboard/campaigns"),
        ("campaign", f"/dashboard/campaigns/{cid}"),
        ("held answers", f"/dashboard/held?campaign={cid}"),
        ("build", f"/dashboard/campaigns/{cid}/edit"),
        ("basics", f"/dashboard/campaigns/{cid}/edit/basics"),
        ("survey", f"/dashboard/campaigns/{cid}/edit/survey"),
        ("email and brand", f"/dashboard/campaigns/{cid}/edit/email"),
        ("follow-up", f"/dashboard/campaigns/{cid}/edit/follow-up"),
        ("languages", f"/dashboard/campaigns/{cid}/edit/languages"),
        ("recipients", f"/dashboard/campaigns/{cid}/recipients"),
        ("imports report", f"/dashboard/campaigns/{cid}/imports/{report['id']}"),
        ("Delighted import report", f"/dashboard/campaigns/{cid}/imports/{history['id']}"),
        ("settings, digest and suppression list", f"/dashboard/campaigns/{cid}/settings"),
        ("send", f"/dashboard/campaigns/{cid}/send"),
        ("preview", f"/dashboard/campaigns/{cid}/preview"),
        ("people", "/dashboard/people"),
        ("tokens", "/dashboard/tokens"),
    ]:
        lead.goto(app_url + path)
        phone.check(lead, name)
        if name == "loop queue":
            expect(lead.get_by_role("main")).to_contain_text(WORD.lower())
            response_id = lead.get_by_role("link", name=UPSET).first.get_attribute("href")
    lead.goto(app_url + response_id)
    phone.check(lead, "one response")
    for name, path in [("outbox", "/dev/outbox"), ("previews", "/dev/preview")]:  # the developer's pages
        customer.goto(app_url + path)
        phone.check(customer, name)
    customer.goto(app_url + "/dev/outbox")
    customer.get_by_role("link", name=re.compile("sign-in link", re.IGNORECASE)).first.click()
    phone.check(customer, "one outbox message")

    assert phone.too_wide == {}, f"wider than {PHONE} px (scrollWidth, elements past the edge):\n" + "\n".join(
        f"{name}: {found}" for name, found in phone.too_wide.items()
    )
    assert phone.split == {}, "ordinary words broken across lines:\n" + "\n".join(
        f"{name}: {found}" for name, found in phone.split.items()
    )
    assert phone.axe == {}, "axe-core found WCAG 2.1 AA violations"
    assert nu_errors(phone.html, tmp_path / "nu") == []


def v1_post(app_url: str, key: str, path: str, body: dict) -> dict:
    """A POST of Delighted's v1 API, as its SDKs send it (the key as the Basic user name)."""
    request = urllib.request.Request(  # noqa: S310
        app_url + path,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


LONGEST = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 49 + ".example.com"  # 254, the most SES takes
ORDINARY_SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend our onboarding?"},
        {"id": "why", "type": "single_choice", "text": "What matters most?", "options": ["Documentation", "Price"]},
        {"id": "more", "type": "text", "text": "Anything else?"},
    ]
}
COMMENT = "Onboarding documentation unfortunately incomprehensible; troubleshooting the integration was impossible"
CASE_TABLES = 3  # the loop queue's waiting and acknowledged tables, the responses list


def test_ordinary_words_stay_whole_in_narrow_cells_and_a_long_address_keeps_tables_narrow(
    app_url, outbox, browser, tmp_path
):
    """Ordinary text where the tester saw words split ("Invitation/s sent", buttons, row headers, the import report),
    and the longest address the app accepts, in a detractor's case: every page and email at 360 px shows no word of
    at most ORDINARY characters over two lines, and the case tables scroll inside their box across at most three
    screens (the address breaks in a column narrower than the box) instead of thousands of pixels."""
    now = time.time()
    recipients = [
        {"email": LONGEST, "properties": {"plan": "Enterprise"}},
        {"email": "held.customer@example.com", "properties": {"plan": "Professional"}},
        {"email": "promoter@example.com", "properties": {"plan": "Professional"}},
    ]
    options = {"company": "Northwind Traders", "alert_emails": ["alerts@example.com"], "webhooks": [{"url": URL}]}
    name = "Quarterly relationship survey of enterprise customers"
    sent = launch(outbox, recipients, survey=ORDINARY_SURVEY, options=options, name=name)
    cid = sent.campaign.id
    phone = Phone(tmp_path)
    customer = phone_page(browser)
    customer.goto(f"{sent.pages[LONGEST]}?a=2")
    customer.get_by_role("radio", name="Documentation").check()
    customer.get_by_role("textbox", name="Anything else?").fill(COMMENT)
    customer.get_by_role("button", name="Submit").click()
    expect(customer.get_by_role("heading", name="Thank you!")).to_be_visible()
    customer.goto(f"{sent.pages['promoter@example.com']}?a=10")
    customer.get_by_role("button", name="Submit").click()
    expect(customer.get_by_role("heading", name="Thank you!")).to_be_visible()
    held = next(m for m in sent.messages if str(m["To"]) == "held.customer@example.com")
    with urllib.request.urlopen(next(u for u in html_links(held) if u.endswith("/t")), timeout=10) as scanner:  # noqa: S310
        assert scanner.status == 200
    customer.goto(f"{sent.pages['held.customer@example.com']}?a=9")
    with customer.expect_response(lambda r: r.request.method == "POST"):
        customer.get_by_role("textbox", name="Anything else?").click()
    key, _ = keys.mint_key("Storefront", cid, now)  # an answer posted for someone not mailed: "(1 not mailed)"
    person = v1_post(app_url, key, "/v1/people.json", {"email": "posted@example.com", "send": False})
    v1_post(app_url, key, "/v1/survey_responses.json", {"person": person["id"], "score": 8})

    apply_pending()
    drain()  # the alert, the webhook
    settings = get_settings()
    followups.acknowledge_due(time.time() + settings.ack_delay + 1, settings)
    period = digest.latest_period("weekly", time.time(), "UTC", so_far=True)
    mail.get_mailer(settings).send(
        digest.render_message(digest.preview(sent.campaign, period, time.time()), "lead@example.com", settings)
    )
    for message in read_outbox(outbox):
        customer.set_content(message.get_body(("html",)).get_content())
        phone.check(customer, f"email to {message['To']}: {message['Subject']}", axe=False)

    people.add_person("lead@example.com", "Customer Success Lead", "admin", now)
    people.add_person("colleague@example.com", "Relationship Management", "viewer", now)
    auth.mint_token("Salesforce synchronisation", now, created_by="lead@example.com")
    suppression.add({"email": "unsubscribed@example.com", "reason": "manual"}, now, "lead@example.com")
    rows = [(0, {"email": "not-an-address", "properties": {}}), (1, {"email": "someone@", "properties": {}})]
    report = imports.start(sent.campaign, rows, "recipients", now, settings, get_queue())
    drain()
    lead = phone_page(browser)
    browser_sign_in(lead, app_url, outbox, "lead@example.com")
    case_tables = {}
    for page_name, path in [
        ("loop queue", "/dashboard"),
        ("responses", f"/dashboard/responses?campaign={cid}"),
        ("campaigns", "/dashboard/campaigns"),
        ("campaign", f"/dashboard/campaigns/{cid}"),
        ("held answers", f"/dashboard/held?campaign={cid}"),
        ("recipients", f"/dashboard/campaigns/{cid}/recipients"),
        ("imports report", f"/dashboard/campaigns/{cid}/imports/{report['id']}"),
        ("settings", f"/dashboard/campaigns/{cid}/settings"),
        ("people", "/dashboard/people"),
        ("tokens", "/dashboard/tokens"),
    ]:
        lead.goto(app_url + path)
        phone.check(lead, page_name)
        if page_name == "campaigns":  # the answer posted through the v1 API: a response, not in the rate
            expect(lead.get_by_role("row", name=name)).to_contain_text("3 (1 not mailed) 67%")
        for index, width in enumerate(lead.locator("table.loop-table").evaluate_all(TABLE_WIDTHS)):
            case_tables[f"{page_name} {index + 1}"] = width
    lead.goto(app_url + "/dashboard")
    lead.get_by_role("link", name=LONGEST).first.click()
    phone.check(lead, "one response")

    assert len(case_tables) == CASE_TABLES, case_tables
    # the address breaks in a column no wider than the table's scroll box, so it reads without scrolling sideways; the
    # table, seven columns of at least 7rem, scrolls inside that box across no more than three screens (2,734 px before)
    assert all(cell <= box and table <= 3 * PHONE for table, cell, box in case_tables.values()), case_tables
    assert phone.split == {}, "ordinary words broken across lines:\n" + "\n".join(
        f"{name}: {found}" for name, found in phone.split.items()
    )
    assert phone.too_wide == {}, phone.too_wide
    assert phone.axe == {}, "axe-core found WCAG 2.1 AA violations"
    assert nu_errors(phone.html, tmp_path / "nu") == []
