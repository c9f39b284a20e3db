"""A detractor's response page in two tabs of Debian's Chromium against `chalice local`, at 360 pixels.

Tab 1 marks the case resolved; tab 2, opened before, chooses Contacted and saves: nothing is saved, the
409 page says who changed the case, to what and when, shows it as it is now (resolved, offering only
Reopen) and keeps the note typed in tab 2. Every state passes axe-core (WCAG 2.1 AA) and the Nu checker
and fits 360 pixels without scrolling sideways.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect, sync_playwright

from chalicelib.answers.counting import apply_pending
from chalicelib.dashboard import people
from chalicelib.dashboard.loop_pages import zone_time
from chalicelib.store.models import Invitation
from localdev.pagecheck import nu_errors
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, PageChecks, press
from tests.dashboard_support import browser_sign_in
from tests.helpers import invitation_of, launch
from tests.test_dashboard_insight import press as answer
from tests.test_dashboard_insight import token_of

pytestmark = pytest.mark.browser

ADMIN = "lead@closeloop-test.example"
CUSTOMER = "ada.lovelace@analytical-engines.example.com"


def test_a_stale_tab_is_refused_in_words_keeping_its_note_at_360_pixels(app_url, outbox, tmp_path):
    sent = launch(outbox, [{"email": CUSTOMER, "properties": {"plan": "pro"}}])
    now = time.time()
    assert answer(token_of(sent, CUSTOMER), {"q_nps": "2", "comment": "Support never answered"}, now).status == 200
    apply_pending()
    people.add_person(ADMIN, "Lead", "admin", now)
    path = f"{app_url}/dashboard/responses/{invitation_of(sent, CUSTOMER).id}"
    check = PageChecks(tmp_path, 360)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 360, "height": 900}, bypass_csp=True)
            context.set_default_timeout(15_000)
            first = context.new_page()
            browser_sign_in(first, app_url, outbox, ADMIN)
            first.goto(path)
            second = context.new_page()
            second.goto(path)
            expect(second.get_by_role("radio")).to_have_count(2)  # an open case: contacted or resolved
            check(second, "open-case")

            first.get_by_label("Resolved: the problem is dealt with").check()
            first.get_by_label("Note").fill("Refunded the last invoice")
            press(first, first.get_by_role("button", name="Save"))
            expect(first.get_by_role("status")).to_have_text("Marked resolved.")

            second.get_by_label("Contacted: we talked to them or wrote to them").check()
            second.get_by_label("Note").fill("Left a voicemail")
            press(second, second.get_by_role("button", name="Save"))
            resolved = Invitation.get(invitation_of(sent, CUSTOMER).id, consistent_read=True)
            when = zone_time(resolved.loop_history[-1]["at"], sent.campaign.timezone)
            expect(second.get_by_role("alert")).to_have_text(
                f"This case changed since you opened the page: {ADMIN} marked it resolved at {when}. "
                "Nothing was saved; here it is now."
            )
            expect(second.get_by_label("Note")).to_have_value("Left a voicemail")
            expect(second.get_by_role("radio")).to_have_count(1)
            expect(second.get_by_role("radio", name="Reopen: more is needed")).not_to_be_checked()
            check(second, "stale-refused")
            assert resolved.loop_status == "resolved"
        finally:
            browser.close()
    assert nu_errors(check.seen, tmp_path / "nu") == []
