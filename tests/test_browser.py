"""The answer page as people (and scanners) meet it: headless Debian Chromium against `chalice local`.

Each test gets fresh tables and its own server on a free port; links in the emails point at it.
A page's first gesture saves the preselected score in the background, so the tests wait for
that POST's response before doing anything that could race with it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Locator, Page, Response, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from chalicelib.core.config import get_settings
from chalicelib.insight import stats
from chalicelib.loop import followups
from chalicelib.store.models import Invitation
from tests.conftest import html_links, read_outbox
from tests.helpers import invitation_of, launch, totals

pytestmark = pytest.mark.browser

EMAIL = "ada@example.com"
NPS_LEGEND = "How likely are you to recommend us?"
SAVED = "Your answer is saved. Add a comment if you like."
PRESS_SUBMIT = "Please press Submit to send your answer."
COMMENT_LABEL = "Anything you would like to tell us?"


def score_name(value: int) -> str:
    """The accessible name of a score: its number, with the scale's words at both ends."""
    return {0: "0 (Not at all likely)", 10: "10 (Extremely likely)"}.get(value, str(value))


def is_background_save(response: Response) -> bool:
    """The POST the page's script sends on the first gesture (JSON in, JSON out)."""
    request = response.request
    return request.method == "POST" and request.headers.get("accept") == "application/json"


@pytest.fixture
def expected_errors() -> list[str]:
    """Console errors a test expects (regular expressions), e.g. the status of a page it means to refuse."""
    return []


@pytest.fixture
def new_page(browser, expected_errors) -> Iterator[Callable[..., Page]]:
    """Pages in fresh browser contexts (no cookies, no cache); script errors and CSP refusals fail the test."""
    contexts, problems = [], []

    def watch(message) -> None:
        # Chalice answers 403 for /favicon.ico, as API Gateway does for any unknown path.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"console: {message.text} ({message.location.get('url')})")

    def make(**options) -> Page:
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        return page

    yield make
    for context in contexts:
        context.close()
    unexpected = [p for p in problems if not any(re.search(e, p) for e in expected_errors)]
    assert unexpected == [], "the browser reported errors"


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


def answer_page(sent, app_url: str, email: str = EMAIL) -> str:
    url = sent.pages[email]
    assert url.startswith(f"{app_url}/s/"), url
    return url


def scale(page: Page) -> Locator:
    return page.get_by_role("group", name=NPS_LEGEND)


def score(page: Page, value: int) -> Locator:
    return scale(page).get_by_role("radio", name=score_name(value), exact=True)


def expect_thanks(page: Page) -> None:
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()


def test_a_newcomer_clicks_a_score_in_the_local_outbox_and_answers(app_url, outbox, page):
    sent = launch(outbox)
    page.goto(f"{app_url}/dev/outbox")
    expect(page.get_by_role("row").filter(has_text=EMAIL)).to_have_count(1)
    with page.expect_response(re.compile(r"/dev/outbox/[^/]+\.eml$")) as opened:
        page.get_by_role("link", name=str(sent.messages[0]["Subject"])).first.click()
    assert opened.value.status == 200, "the outbox could not show the message"
    email = page.get_by_title("HTML part of the message").content_frame
    email.get_by_role("link", name="9", exact=True).click()
    try:
        page.wait_for_url(re.compile(r"/s/[^/?]+\?a=9$"), timeout=10_000)
    except PlaywrightTimeout:
        raise AssertionError(
            f"clicking 9 inside the sandboxed email iframe did not navigate the top window (still at {page.url})"
        ) from None
    expect(score(page, 9)).to_be_checked()

    comment = page.get_by_role("textbox", name=COMMENT_LABEL)
    with page.expect_response(is_background_save) as saved:
        comment.click()  # the first gesture: the preselected 9 is saved at once
    assert saved.value.status == 200
    comment.fill("Setup took five minutes.")
    page.get_by_role("button", name="Submit").click()

    expect_thanks(page)
    expect(page.get_by_text("Setup took five minutes.")).to_be_visible()
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.comment, invitation.evidence) == (9, "Setup took five minutes.", "submit")
    counts = totals(sent.campaign.id)
    assert (counts.get("promoters"), counts.get("responses"), counts.get("comments")) == (1, 1, 1)


def test_a_scanner_that_runs_scripts_but_makes_no_gesture_records_nothing(app_url, outbox, page):
    sent = launch(outbox)
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(answer_page(sent, app_url) + "?a=9")
    page.wait_for_load_state("networkidle")

    expect(score(page, 9)).to_be_checked()
    expect(page.locator("#survey")).to_have_attribute("data-gesture", "1")  # armed: a gesture would save
    assert posts == []
    invitation = invitation_of(sent, EMAIL)
    assert invitation.answered_at is None and invitation.answers.as_dict() == {}
    assert totals(sent.campaign.id) == {"invited": 1, "sent": 1}


def test_a_script_that_submits_the_form_without_the_button_records_nothing(app_url, outbox, page, expected_errors):
    sent = launch(outbox)
    expected_errors.append(r"status of 400 \(Bad Request\) \(http://[^ ]+/s/[^/?]+\)$")
    page.goto(answer_page(sent, app_url) + "?a=9")
    page.wait_for_load_state("networkidle")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.evaluate('document.getElementById("survey").submit()')
    assert posted.value.status == 400
    page.wait_for_load_state()

    expect(page.get_by_role("alert")).to_have_text(PRESS_SUBMIT)
    expect(score(page, 9)).to_be_checked()
    invitation = invitation_of(sent, EMAIL)
    assert invitation.answered_at is None and invitation.answers.as_dict() == {}
    assert "responses" not in totals(sent.campaign.id)


def test_the_first_gesture_saves_the_preselected_score_and_submit_can_change_it(app_url, outbox, page):
    sent = launch(outbox)
    page.goto(answer_page(sent, app_url) + "?a=7")
    with page.expect_response(is_background_save) as saved:
        page.keyboard.press("Tab")
    response = saved.value
    assert response.status == 200
    assert response.json() == {"status": "recorded", "message": SAVED}
    assert "evidence=gesture" in (response.request.post_data or "")
    expect(page.get_by_role("status")).to_have_text(SAVED)
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.evidence) == (7, "gesture")
    assert invitation.answered_at is not None
    assert totals(sent.campaign.id)["q.nps.v7"] == 1

    score(page, 8).check()
    page.get_by_role("button", name="Submit").click()

    expect_thanks(page)
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.evidence) == (8, "submit")
    counts = totals(sent.campaign.id)
    assert counts["responses"] == 1 and counts["passives"] == 1
    assert counts.get("q.nps.v8") == 1 and "q.nps.v7" not in counts


A11Y_SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": NPS_LEGEND},
        {"id": "uses", "type": "multi_choice", "text": "What do you use?", "options": ["Reports", "Alerts"]},
        {"id": "better", "type": "text", "text": "What should we improve?"},
    ]
}


def focus_ring(control: Locator) -> str:
    """The outline style shown around a focused control (custom radios draw it on the label's box)."""
    return control.evaluate(
        """e => {
          const shown = e.matches('input[type=radio], input[type=checkbox]') ? e.nextElementSibling : e;
          return getComputedStyle(shown).outlineStyle;
        }"""
    )


def test_every_control_has_a_name_and_the_survey_can_be_answered_with_the_keyboard(app_url, outbox, page):
    sent = launch(outbox, survey=A11Y_SURVEY)
    page.goto(answer_page(sent, app_url) + "?a=6")

    unnamed = [
        line.strip()
        for line in page.locator("#survey").aria_snapshot().splitlines()
        if re.match(r"\s*- (radio|checkbox|textbox|button|group)\b", line) and '"' not in line
    ]
    assert unnamed == []
    expect(scale(page)).to_have_count(1)
    expect(scale(page).get_by_role("radio")).to_have_count(11)
    for value in range(11):
        expect(score(page, value)).to_have_count(1)
    uses = page.get_by_role("group", name="What do you use?")
    expect(uses.get_by_role("checkbox")).to_have_count(2)
    reports, alerts = uses.get_by_role("checkbox", name="Reports"), uses.get_by_role("checkbox", name="Alerts")
    better = page.get_by_role("textbox", name="What should we improve?")
    # the survey's text question is its one free-text box: no second "anything else" box
    expect(page.get_by_role("textbox")).to_have_count(1)
    button = page.get_by_role("button", name="Submit")

    with page.expect_response(is_background_save) as saved:
        page.keyboard.press("Tab")
    assert saved.value.status == 200
    expect(score(page, 6)).to_be_focused()
    assert focus_ring(score(page, 6)) == "solid"
    for key, value in (("ArrowRight", 7), ("ArrowRight", 8), ("ArrowLeft", 7)):
        page.keyboard.press(key)
        expect(score(page, value)).to_be_checked()
        expect(score(page, value)).to_be_focused()
    expect(scale(page).locator("input:checked")).to_have_count(1)

    page.keyboard.press("Tab")
    expect(reports).to_be_focused()
    assert focus_ring(reports) == "solid"
    page.keyboard.press("Space")
    expect(reports).to_be_checked()
    page.keyboard.press("Tab")
    expect(alerts).to_be_focused()
    page.keyboard.press("Tab")
    expect(better).to_be_focused()
    page.keyboard.type("Keyboard shortcuts")
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    assert focus_ring(button) == "solid"
    page.keyboard.press("Enter")

    expect_thanks(page)
    invitation = invitation_of(sent, EMAIL)
    assert invitation.answers.as_dict() == {"nps": 7, "uses": ["Reports"], "better": "Keyboard shortcuts"}
    assert invitation.comment == "Keyboard shortcuts"
    assert (invitation.score, invitation.evidence) == (7, "submit")
    assert totals(sent.campaign.id)["responses"] == 1


def test_on_a_phone_the_page_fits_and_a_tapped_score_is_the_one_saved(app_url, outbox, new_page):
    sent = launch(outbox)
    page = new_page(viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True)
    page.goto(answer_page(sent, app_url) + "?a=3")

    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
    heights = {value: score(page, value).bounding_box()["height"] for value in range(11)}
    assert min(heights.values()) >= 40, heights

    with page.expect_response(is_background_save) as saved:
        score(page, 10).tap()
    assert saved.value.json()["status"] == "recorded"
    expect(score(page, 10)).to_be_checked()
    assert invitation_of(sent, EMAIL).score == 10
    page.get_by_role("button", name="Submit").tap()

    expect_thanks(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.evidence) == (10, "submit")
    counts = totals(sent.campaign.id)
    assert counts["responses"] == 1 and counts["promoters"] == 1


def test_a_person_who_answers_twenty_seconds_after_a_scanner_confirms_once_and_is_counted(app_url, outbox, new_page):
    """A scanner opens every link of the invitation, the hidden trap too; 20 seconds later a person
    opens the score-8 link, presses Submit and confirms once, on a 360 px phone, with the keyboard."""
    sent = launch(outbox, sent_ago=5)
    links = html_links(sent.messages[0])
    assert any(link.endswith("/t") for link in links) and any("/u/" in link for link in links)
    scanner = new_page()
    for link in links:
        assert scanner.goto(link).status == 200, link
    scanner.wait_for_load_state("networkidle")
    trapped = invitation_of(sent, EMAIL)
    assert (trapped.trap_hits, trapped.answered_at, trapped.unsubscribed_at) == (1, None, None)
    # 20 seconds pass: the invitation's times move back instead of the test waiting
    trapped.update(actions=[Invitation.sent_at.set(trapped.sent_at - 20), Invitation.trap_at.set(trapped.trap_at - 20)])

    page = new_page(viewport={"width": 360, "height": 740})
    page.goto(next(link for link in links if link.endswith("?a=8")))
    expect(score(page, 8)).to_be_checked()
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("alert")).to_contain_text("your answer is not saved yet")
    expect(score(page, 8)).to_be_checked()
    assert invitation_of(sent, EMAIL).answered_at is None
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
    confirm = page.get_by_role("button", name="Confirm my answer")
    confirm.focus()
    assert focus_ring(confirm) == "solid"
    page.keyboard.press("Enter")

    expect_thanks(page)
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.answer_version, invitation.held) == (8, 1, None)
    counts = totals(sent.campaign.id)  # runs the applier
    assert (counts["responses"], counts["passives"], counts["q.nps.v8"], counts["q.nps.n"]) == (1, 1, 1, 1)
    settings = get_settings()
    assert followups.acknowledge_due(time.time() + settings.ack_delay + 1, settings) == {"sent": 1}
    acks = [m for m in read_outbox(outbox)[1:] if str(m["To"]) == EMAIL]
    assert len(acks) == 1
    assert invitation_of(sent, EMAIL).ack_state == "sent"
    scanner_counts = stats.campaign_stats(sent.campaign.id)
    assert scanner_counts["scanner"]["trap_hits"] == 1
    assert scanner_counts["scanner_clicks_filtered"] >= 1
    assert invitation_of(sent, EMAIL).unsubscribed_at is None


def test_every_page_a_customer_meets_passes_axe_and_the_nu_checker_at_phone_width(
    app_url, outbox, new_page, tmp_path, expected_errors
):
    """WCAG 2.1 AA (axe-core) and valid HTML (W3C Nu) on each page a link in our emails opens, at 360 px."""
    from chalicelib.insight import digest_recipients
    from localdev.pagecheck import axe_violations, nu_errors

    sent = launch(outbox)
    survey = answer_page(sent, app_url)
    token = survey.rsplit("/", 1)[1]
    unsubscribe = next(link for link in html_links(read_outbox(outbox)[0]) if "/u/" in link)
    page = new_page(viewport={"width": 360, "height": 740})
    seen: dict[str, str] = {}
    problems: dict[str, list] = {}

    def check(name: str) -> None:
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"
        seen[name] = page.content()
        found = axe_violations(page)
        if found:
            problems[name] = found

    page.goto(survey + "?a=3")
    check("survey page")
    page.get_by_role("textbox", name=COMMENT_LABEL).fill("Too slow.")
    page.get_by_role("button", name="Submit").click()
    expect_thanks(page)
    check("thanks page")
    page.goto(f"{app_url}/s/{token}/t")
    check("scanner trap")
    expected_errors.append(r"status of 404 \(Not Found\) \(http://[^ ]+/s/not-a-token\)$")
    page.goto(f"{app_url}/s/not-a-token")
    check("not found")
    page.goto(unsubscribe)
    check("unsubscribe page")
    page.get_by_role("button").first.click()
    page.wait_for_load_state()
    check("unsubscribed page")
    page.goto(digest_recipients.link(sent.campaign.id, "lead@example.com").replace("http://127.0.0.1:8000", app_url))
    check("digest preferences")
    page.goto(f"{app_url}/dev/outbox")
    check("local outbox")
    page.get_by_role("link", name=str(sent.messages[0]["Subject"])).first.click()
    page.wait_for_load_state()
    check("outbox message")

    assert problems == {}, "axe-core found WCAG 2.1 AA violations"
    assert nu_errors(seen, tmp_path / "nu") == [], "the W3C Nu checker found errors"
