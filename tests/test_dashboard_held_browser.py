"""The held answers page in Debian's Chromium against `chalice local`, with more held than one page shows:
the page says so and the keyboard reaches the next page, which lists the rest; a decision made there comes
back to that page, and one made on a stale copy links back to it. On a 360 pixel phone each held answer is a
card with its decision in sight, still a table to a screen reader. Every state passes axe-core (WCAG 2.1 AA)
and the Nu checker and fits 360 pixels without scrolling sideways.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from chalicelib.answers import survey_pages
from chalicelib.dashboard import people
from chalicelib.dashboard.insight_pages import HELD_SHOWN
from localdev.pagecheck import axe_violations, nu_errors
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, PageChecks, press
from tests.dashboard_support import browser_sign_in
from tests.helpers import launch
from tests.test_dashboard_insight import press as answer
from tests.test_dashboard_insight import token_of

pytestmark = pytest.mark.browser

ADMIN = "lead@closeloop-test.example"
ADA, BOB = "ada.lovelace@analytical-engines.example.com", "bob.babbage@difference-engines.example.com"
NAME = "Quarterly onboarding survey for enterprise customers"


IN_SIGHT = """el => {
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.left >= 0 && box.right <= window.innerWidth;
}"""
WHOLE = "el => el.scrollWidth <= el.clientWidth"


def test_more_held_answers_than_a_page_are_paged_with_the_keyboard_at_360_pixels(app_url, outbox, tmp_path):
    everyone = [f"p{i:02}@example.com" for i in range(HELD_SHOWN + 1)]
    sent = launch(outbox, [{"email": e} for e in everyone])
    now = time.time()
    for email in everyone:
        survey_pages.trap(token_of(sent, email), now)
        assert answer(token_of(sent, email), {"q_nps": "3"}, now + 5).status == 200
    people.add_person(ADMIN, "Lead", "admin", now)
    check = PageChecks(tmp_path, 360)

    def listed(page: Page) -> set[str]:
        return {e for e in everyone if page.get_by_role("rowheader", name=e).count()}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 360, "height": 900}, bypass_csp=True)
            context.set_default_timeout(15_000)
            page = context.new_page()
            browser_sign_in(page, app_url, outbox, ADMIN)
            page.goto(f"{app_url}/dashboard/held")
            expect(page.get_by_text("More held answers are waiting")).to_be_visible()
            expect(page.get_by_text("Nothing is held")).to_have_count(0)
            first = listed(page)
            assert len(first) == HELD_SHOWN
            check(page, "held-first")

            press(page, page.get_by_role("link", name="Next held answers"))
            expect(page.get_by_role("link", name="Held answers of every campaign")).to_be_visible()
            assert listed(page) == set(everyone) - first
            expect(page.get_by_role("link", name="Next held answers")).to_have_count(0)
            expect(page.get_by_text("Nothing is held")).to_have_count(0)
            check(page, "held-next")

            # the same page in a second tab, then a decision in the first: it comes back to the second page
            second = page.url
            stale = context.new_page()
            stale.goto(second)
            [decided] = sorted(listed(page))[:1]
            press(page, page.get_by_role("button", name=f"Dismiss the answer of {decided}"))
            expect(page.get_by_role("status")).to_have_text("Dismissed: it stays out of the scores.")
            expect(page).to_have_url(f"{second}&done=dismissed")
            assert listed(page) == set(everyone) - first - {decided}
            check(page, "held-dismissed")
            # the stale copy's press is refused, with a way back to the page it came from
            press(stale, stale.get_by_role("button", name=f"Accept the answer of {decided}"))
            expect(stale.get_by_role("heading", name="Something is wrong")).to_be_visible()
            check(stale, "held-stale")
            press(stale, stale.get_by_role("link", name="Back to the held answers"))
            expect(stale).to_have_url(second)
            assert listed(stale) == set(everyone) - first - {decided}
        finally:
            browser.close()
    assert nu_errors(check.seen, tmp_path / "nu") == []


def test_on_a_phone_each_held_answer_shows_its_decision_and_the_caption_whole(app_url, outbox, tmp_path):
    """A held answer and a script's submission on an answered invitation, in a campaign with a long name: at 360
    pixels every Accept and Dismiss button and the whole caption are in sight without scrolling, the script's
    submission offers only Dismiss and says why, and a screen reader still finds the table's rows and cells."""
    sent = launch(outbox, [{"email": ADA}, {"email": BOB}], name=NAME)
    now = time.time()
    survey_pages.trap(token_of(sent, ADA), now)
    assert answer(token_of(sent, ADA), {"q_nps": "3"}, now + 5).status == 200
    assert answer(token_of(sent, BOB), {"q_nps": "8"}, now).status == 200
    assert answer(token_of(sent, BOB), {"q_nps": "0"}, now + 1, evidence="").status == 400
    people.add_person(ADMIN, "Lead", "admin", now)
    seen: dict[str, str] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 360, "height": 900}, bypass_csp=True)
            context.set_default_timeout(15_000)
            page = context.new_page()
            browser_sign_in(page, app_url, outbox, ADMIN)
            for path in ("/dashboard/held", f"/dashboard/held?campaign={sent.campaign.id}"):
                page.goto(app_url + path)
                seen[path] = page.content()
                buttons = page.get_by_role("button", name=re.compile(r"^(Accept|Dismiss) the answer of"))
                assert [b.text_content() for b in buttons.all()] == [
                    f"Accept the answer of {ADA}",
                    f"Dismiss the answer of {ADA}",
                    f"Dismiss the answer of {BOB}",
                ]
                assert all(b.evaluate(IN_SIGHT) for b in buttons.all()), path
                expect(page.get_by_role("button", name=f"Dismiss the answer of {BOB}")).to_have_accessible_description(
                    "The person's own answer is kept; this submission can only be dismissed."
                )
                caption = page.locator("caption")
                expect(caption).to_have_text(f"2 held in {NAME}")
                assert caption.evaluate(IN_SIGHT) and caption.evaluate(WHOLE), path
                assert page.locator(".table-wrap").evaluate(WHOLE), path
                table = page.get_by_role("table", name=f"2 held in {NAME}")
                expect(table.get_by_role("columnheader")).to_have_count(3)
                expect(table.get_by_role("rowheader", name=re.compile(f"^{re.escape(BOB)}"))).to_have_count(1)
                expect(table.get_by_role("cell")).to_have_count(4)
                assert axe_violations(page) == [], path
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
                page.screenshot(path=tmp_path / f"held-phone-{len(seen)}.png", full_page=True)
        finally:
            browser.close()
    assert nu_errors(seen, tmp_path / "nu") == []
