"""The held answers page in Debian's Chromium against `chalice local`, with more held than one page shows:
the page says so and the keyboard reaches the next page, which lists the rest; every state passes axe-core
(WCAG 2.1 AA) and the Nu checker and fits 360 pixels without scrolling sideways.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from chalicelib.answers import survey_pages
from chalicelib.dashboard import people
from chalicelib.dashboard.insight_pages import HELD_SHOWN
from localdev.pagecheck import axe_violations, nu_errors
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, press
from tests.dashboard_support import browser_sign_in
from tests.helpers import launch
from tests.test_dashboard_insight import press as answer
from tests.test_dashboard_insight import token_of

pytestmark = pytest.mark.browser

ADMIN = "lead@closeloop-test.example"


def test_more_held_answers_than_a_page_are_paged_with_the_keyboard_at_360_pixels(app_url, outbox, tmp_path):
    everyone = [f"p{i:02}@example.com" for i in range(HELD_SHOWN + 1)]
    sent = launch(outbox, [{"email": e} for e in everyone])
    now = time.time()
    for email in everyone:
        survey_pages.trap(token_of(sent, email), now)
        assert answer(token_of(sent, email), {"q_nps": "3"}, now + 5).status == 200
    people.add_person(ADMIN, "Lead", "admin", now)
    seen: dict[str, str] = {}

    def check(page: Page, name: str) -> None:
        seen[name] = page.content()  # before axe adds its script
        assert axe_violations(page) == [], name
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        page.screenshot(path=tmp_path / f"{name}-360.png", full_page=True)

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
        finally:
            browser.close()
    assert nu_errors(seen, tmp_path / "nu") == []
