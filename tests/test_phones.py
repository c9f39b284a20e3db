"""Customers on phones: every email and every customer page at 360 and 390 px, in Debian's Chromium.

Emails are the real messages from the outbox (their HTML parts), put into the browser with
`page.set_content`, as a mail app's web view shows them. Each page and message must fit the
width (nothing wider than the viewport), every score target must be at least 32 px wide, and
a screenshot of each is saved under the test's tmp_path; at 1280 px the same documents pass
axe-core (WCAG 2 A and AA) and the W3C Nu checker.
"""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from chalicelib import mail
from chalicelib.answers.counting import apply_pending
from chalicelib.core.config import get_settings
from chalicelib.dashboard import people, sessions
from chalicelib.insight import digest, digest_recipients
from chalicelib.loop import followups
from chalicelib.sending import invitations
from localdev.pagecheck import axe_violations, nu_errors
from tests import test_browser
from tests.conftest import html_links, read_outbox
from tests.helpers import drain, invitation_of, launch, submit
from tests.test_browser import is_background_save

pytestmark = pytest.mark.browser
# the pages as tests/test_browser.py has them (script errors fail a test); the browser is conftest's
new_page, page = test_browser.new_page, test_browser.page
expected_errors = test_browser.expected_errors

PHONES = (360, 390)
DESKTOP = 1280
MIN_TARGET = 32
NPS_TEXT = "How likely are you to recommend Acme?"
PHONE_SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": NPS_TEXT},
        {
            "id": "uses",
            "type": "multi_choice",
            "text": "What do you use?",
            "options": ["Reports", "Alerts", "Exports"],
            "max_choices": 2,
        },
    ]
}
CHOICE_SURVEY = {
    "questions": [
        {"id": "channel", "type": "single_choice", "text": "How did you reach us?", "options": ["Phone", "Chat"]},
        {"id": "better", "type": "text", "text": "What should we improve?"},
    ]
}
CES_SURVEY = {"questions": [{"id": "ces", "type": "ces", "text": "How easy was it to get help?"}]}
OPTIONS = {
    "company": "Acme",
    "reply_to": "cx@acme.example",
    "alert_emails": ["cx@acme.example"],
    "follow_up_name": "Sam",
    "brand_color": "#0b6e4f",
}
# Outlook's Word engine ignores CSS widths and paddings of tables: emails keep these HTML attributes
# (the Nu checker calls them obsolete) and Outlook's own `mso-hide` (unknown to CSS); only those errors
# are let through for emails.
EMAIL_ATTRIBUTES = re.compile(
    r"The “(width|cellpadding|cellspacing|bgcolor|align|height|border)” attribute on the “(table|td|img)”"
    r" element is obsolete|CSS: “mso-hide”: Property “mso-hide” doesn't exist"
)
FITS = """() => {
  const width = document.documentElement.clientWidth, wide = [];
  for (const e of document.querySelectorAll('body *')) {
    const box = e.getBoundingClientRect();
    if (box.width && (box.right > width + 0.5 || box.left < -0.5))
      wide.push(`${e.tagName}.${e.className} ${Math.round(box.left)}..${Math.round(box.right)}`);
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""


def html_part(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def fits(page: Page, name: str) -> None:
    found = page.evaluate(FITS)
    assert found["wide"] == [] and found["scroll"] <= found["width"], f"{name} is wider than the screen: {found}"


def target_widths(page: Page, selector: str) -> list[float]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.getBoundingClientRect().width)")


def _answer(client, sent, email: str, fields: dict) -> None:
    response = submit(client, sent.pages[email], fields)
    assert response.status_code == 200, response.body[:300]


@pytest.fixture
def messages(app_url, client, outbox) -> dict[str, EmailMessage]:
    """Invitation (a 0–10 scale, a single choice, a 1–7 scale), reminder, acknowledgement, alert,
    digest and sign-in, each the real message in the outbox."""
    settings = get_settings()
    mailer = mail.get_mailer(settings)
    found: dict[str, EmailMessage] = {}
    people_ = [
        {"email": "ada@example.com", "properties": {"first_name": "Ada", "plan": "pro"}},
        {"email": "bob@example.com", "properties": {"first_name": "Bob", "plan": "free"}},
    ]
    sent = launch(outbox, people_, survey=PHONE_SURVEY, options=OPTIONS, timezone="Europe/Paris")
    found["invitation"] = next(m for m in sent.messages if str(m["To"]) == "ada@example.com")
    reminder = invitations.render_invitation(
        sent.campaign, invitation_of(sent, "bob@example.com"), settings, time.time(), reminder=1
    )
    mailer.send(reminder)
    launch(outbox, [{"email": "cy@example.com", "properties": {}}], survey=CHOICE_SURVEY, options=OPTIONS)
    launch(outbox, [{"email": "di@example.com", "properties": {}}], survey=CES_SURVEY, options=OPTIONS)
    _answer(
        client,
        sent,
        "ada@example.com",
        {"q_nps": "2", "q_uses": ["Reports", "Alerts"], "comment": "التقرير بطيء جدا. The report takes ages to load."},
    )
    apply_pending()
    drain()  # the alert
    assert followups.acknowledge_due(time.time() + settings.ack_delay + 1, settings) == {"sent": 1}
    period = digest.latest_period("weekly", time.time(), "Europe/Paris", so_far=True)
    mailer.send(
        digest.render_message(digest.preview(sent.campaign, period, time.time()), "lead@acme.example", settings)
    )
    people.add_person("lead@acme.example", "Lea", "admin", time.time())
    sessions.request_link("lead@acme.example", "/dashboard", "test", time.time())

    outbox_messages = read_outbox(outbox)

    def one(to: str, subject: str) -> EmailMessage:
        matches = [m for m in outbox_messages if str(m["To"]) == to and re.search(subject, str(m["Subject"]))]
        assert len(matches) == 1, (to, subject, [(str(m["To"]), str(m["Subject"])) for m in outbox_messages])
        return matches[0]

    found["reminder"] = one("bob@example.com", r"^Reminder: ")
    found["invitation, choices"] = one("cy@example.com", ".")
    found["invitation, 1-7"] = one("di@example.com", ".")
    found["acknowledgement"] = one("ada@example.com", "^We read your feedback$")
    found["alert"] = one("cx@acme.example", "^Detractor: ")
    found["digest"] = one("lead@acme.example", "digest|Digest|NPS|Acme|Test")
    found["sign-in"] = one("lead@acme.example", "sign-in link")
    return found


def test_every_email_fits_a_phone_and_passes_axe_and_the_nu_checker(messages, new_page, tmp_path):
    assert str(messages["invitation"]["From"]).startswith("Acme <"), "no sender name: From shows the company"
    checked: dict[str, str] = {}
    problems: dict[str, list] = {}
    for name, message in messages.items():
        html = html_part(message)
        assert 'name="viewport"' in html, f"{name} has no viewport"
        assert re.search(r'<div style="display:none;[^"]*">\S', html), f"{name} has no preheader"
        for width in PHONES:
            page = new_page(viewport={"width": width, "height": 800})
            page.set_content(html)
            fits(page, f"{name} at {width} px")
            scores = target_widths(page, "a.score")
            if name.startswith("invitation") or name == "reminder":
                assert scores or target_widths(page, "a.choice"), f"{name} shows no answers"
            assert all(w >= MIN_TARGET for w in scores), f"{name} at {width} px: score targets {scores}"
            choices = target_widths(page, "a.choice")
            assert all(w >= width * 0.8 for w in choices), f"{name} at {width} px: choices are not full width"
            page.screenshot(path=tmp_path / f"email-{name}-{width}.png", full_page=True)
        page = new_page(viewport={"width": DESKTOP, "height": 900})
        page.set_content(html)
        found = axe_violations(page, ["wcag2a", "wcag2aa"])
        if found:
            problems[name] = found
        checked[f"email {name}"] = html
    assert problems == {}, "axe-core found WCAG 2 A/AA violations in emails"
    errors = [e for e in nu_errors(checked, tmp_path / "nu") if not EMAIL_ATTRIBUTES.search(e)]
    assert errors == [], "the W3C Nu checker found errors in emails:\n" + "\n".join(errors)

    invitation = messages["invitation"]
    page = new_page(viewport={"width": 320, "height": 700})
    page.set_content(html_part(invitation))
    rows = page.eval_on_selector_all(
        "a.score", "els => new Set(els.map(e => Math.round(e.getBoundingClientRect().top))).size"
    )
    assert rows == 2, "the 0-10 scale takes two rows on a phone"
    one_row = new_page(viewport={"width": 320, "height": 700})
    one_row.set_content(html_part(messages["invitation, 1-7"]))
    assert min(target_widths(one_row, "a.score")) >= MIN_TARGET
    alert = html_part(messages["alert"])
    assert "2 out of 10" in alert and "Reports, Alerts" in alert and "First name" in alert
    assert re.search(r"answered [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d\W[AP]M CET", alert), (
        "times in the campaign's zone"
    )


def customer_pages(
    page: Page, app_url: str, outbox: Path, width: int, tmp_path: Path, seen: dict[str, str], problems: dict
) -> None:
    """Every page a customer meets, at one width: each must fit, with score targets of 32 px or more;
    at desktop width axe-core's findings go into `problems`."""

    def check(name: str, scores: bool = False) -> None:
        page.wait_for_load_state()
        fits(page, f"{name} at {width} px")
        if scores:
            widths = target_widths(page, ".scale label")
            assert widths and min(widths) >= MIN_TARGET, f"{name} at {width} px: score targets {widths}"
        page.screenshot(path=tmp_path / f"page-{name}-{width}.png", full_page=True)
        seen[f"{name} at {width} px"] = page.content()
        if width == DESKTOP:
            found = axe_violations(page, ["wcag2a", "wcag2aa"])
            if found:
                problems[name] = found

    email = f"p{width}@example.com"
    sent = launch(outbox, [{"email": email, "properties": {}}], survey=PHONE_SURVEY, options=OPTIONS)
    survey_url = sent.pages[email]
    page.goto(survey_url + "?a=3")
    check("survey page", scores=True)
    expect(page.get_by_text("Acme", exact=True)).to_be_visible()
    with page.expect_response(is_background_save):
        page.get_by_role("checkbox", name="Reports").check()
    for option in ("Alerts", "Exports"):
        page.get_by_role("checkbox", name=option).check()
    page.get_by_role("button", name="Submit").click()
    check("survey page with an error", scores=True)
    page.get_by_role("checkbox", name="Exports").uncheck()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    check("thanks page")
    page.get_by_role("link", name="Change your answer").click()
    check("change your answer", scores=True)

    choice_email = f"c{width}@example.com"
    choice = launch(outbox, [{"email": choice_email, "properties": {}}], survey=CHOICE_SURVEY, options=OPTIONS)
    page.goto(choice.pages[choice_email] + "?a=Chat")
    check("survey page, choices")
    ces_email = f"e{width}@example.com"
    ces = launch(outbox, [{"email": ces_email, "properties": {}}], survey=CES_SURVEY)
    page.goto(ces.pages[ces_email] + "?a=6")
    check("survey page, 1-7", scores=True)

    token = sent.pages[email].rsplit("/", 1)[1]
    page.goto(f"{app_url}/s/{token}/t")
    check("scanner trap")
    page.goto(f"{app_url}/s/not-a-token")
    check("not found")
    unsubscribe = next(link for link in html_links(sent.messages[-1]) if "/u/" in link)
    page.goto(unsubscribe)
    check("unsubscribe page")
    page.get_by_role("button").first.click()
    check("unsubscribed page")
    page.goto(digest_recipients.link(sent.campaign.id, "lead@acme.example").replace("http://127.0.0.1:8000", app_url))
    check("digest preferences")


def test_every_customer_page_fits_a_phone_and_passes_axe_and_the_nu_checker(
    app_url, outbox, new_page, tmp_path, expected_errors
):
    expected_errors.append(r"status of 400 \(Bad Request\) \(http://[^ ]+/s/[^/?]+\)$")  # the multi-choice error
    expected_errors.append(r"status of 404 \(Not Found\) \(http://[^ ]+/s/not-a-token\)$")
    seen: dict[str, str] = {}
    problems: dict[str, list] = {}
    for width in (*PHONES, DESKTOP):
        page = new_page(viewport={"width": width, "height": 800})
        customer_pages(page, app_url, outbox, width, tmp_path, seen, problems)
    assert problems == {}, "axe-core found WCAG 2 A/AA violations"
    desktop = {name: html for name, html in seen.items() if name.endswith(f"at {DESKTOP} px")}
    assert nu_errors(desktop, tmp_path / "nu") == []


def test_a_multi_choice_error_keeps_every_tick_and_the_comment(app_url, outbox, page, expected_errors):
    expected_errors.append(r"status of 400 \(Bad Request\) \(http://[^ ]+/s/[^/?]+\)$")
    sent = launch(outbox, survey=PHONE_SURVEY, options=OPTIONS)
    page.goto(sent.pages["ada@example.com"] + "?a=8")
    uses = page.get_by_role("group", name="What do you use? (choose up to 2)")
    with page.expect_response(is_background_save):
        uses.get_by_role("checkbox", name="Reports").check()
    uses.get_by_role("checkbox", name="Alerts").check()
    uses.get_by_role("checkbox", name="Exports").check()
    comment = page.get_by_role("textbox", name="Anything you would like to tell us?")
    comment.fill("مرحبا — exports fail every Monday.")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("alert")).to_contain_text("Please choose at most 2 (you chose 3).")
    for option in ("Reports", "Alerts", "Exports"):
        expect(uses.get_by_role("checkbox", name=option)).to_be_checked()
    expect(comment).to_have_value("مرحبا — exports fail every Monday.")
    expect(comment).to_have_attribute("dir", "auto")
    expect(page.get_by_role("radio", name="8", exact=True)).to_be_checked()
    expect(page.locator("#status")).to_have_text("Your changes are not saved yet.")
    assert invitation_of(sent, "ada@example.com").comment is None  # only the score the first gesture saved


def test_change_your_answer_shows_the_stored_answers_and_a_cleared_comment_is_cleared(app_url, outbox, page):
    sent = launch(outbox, survey=PHONE_SURVEY, options=OPTIONS)
    page.goto(sent.pages["ada@example.com"] + "?a=4")
    expect(page.locator("#status")).to_have_text("Not saved yet: press Submit to send your answer.")
    with page.expect_response(is_background_save):
        page.get_by_role("checkbox", name="Alerts").check()
    page.get_by_role("textbox", name="Anything you would like to tell us?").fill("Exports are slow.")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Your answer is saved.")).to_be_visible()

    page.get_by_role("link", name="Change your answer").click()
    expect(page.get_by_role("radio", name="4", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="Alerts")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Reports")).not_to_be_checked()
    comment = page.get_by_role("textbox", name="Anything you would like to tell us?")
    expect(comment).to_have_value("Exports are slow.")
    expect(page.locator("#status")).to_contain_text("Your answer is saved.")

    comment.fill("")
    comment.blur()
    expect(page.locator("#status")).to_have_text("Your changes are not saved yet: press Submit to save them.")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.get_by_text("Exports are slow.")).to_have_count(0)
    invitation = invitation_of(sent, "ada@example.com")
    assert (invitation.comment, invitation.answers.as_dict()) == (None, {"nps": 4, "uses": ["Alerts"]})
    page.get_by_role("link", name="Change your answer").click()
    expect(page.get_by_role("textbox", name="Anything you would like to tell us?")).to_have_value("")
