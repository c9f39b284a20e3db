"""The API tokens page in Debian's Chromium at 360 px, as the tester used it: make a token, reload the page that
shows it (the browser posts its form again), go Back to the form, revoke one. Every page passes axe-core and the
Nu checker and fits the phone."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from chalicelib.admin import auth
from chalicelib.dashboard import people
from localdev.pagecheck import nu_errors
from tests.dashboard_support import browser_sign_in
from tests.test_long_words_browser import PHONE, Phone, phone_page

pytestmark = pytest.mark.browser

LEAD = "lead@closeloop-test.example"
MADE_ALREADY = "This token was made already and shown once; if you did not copy it, revoke it below and make another."


def test_reloading_the_new_token_makes_no_second_one_and_rows_name_their_token(app_url, outbox, browser, tmp_path):
    people.add_person(LEAD, "Lead", "admin", time.time())
    phone = Phone(tmp_path)
    lead = phone_page(browser)
    browser_sign_in(lead, app_url, outbox, LEAD)
    lead.goto(f"{app_url}/dashboard/tokens")
    lead.get_by_label("Name").fill("CRM sync")
    lead.get_by_role("button", name="Make a token").click()
    token = lead.locator("code.secret").inner_text()
    expect(lead.get_by_role("status")).to_contain_text(f"It is listed below as {token[:7]}…")
    phone.check(lead, "new token")

    lead.reload()  # the browser posts the form again
    expect(lead.get_by_role("alert")).to_have_text(MADE_ALREADY)
    expect(lead.locator("code.secret")).to_have_count(0)
    phone.check(lead, "made already")
    rows = lead.locator("table.data tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"CRM sync {token[:7]}…")

    lead.go_back()  # to the form the first token was made with: fetched again (no-store), so its nonce is new
    expect(rows).to_have_count(1)
    lead.get_by_label("Name").fill("CRM sync")  # the same name again, on purpose: the prefix tells them apart
    lead.get_by_role("button", name="Make a token").click()
    second = lead.locator("code.secret").inner_text()
    expect(rows).to_have_count(2)
    lead.get_by_role("button", name=f"Revoke CRM sync ({token[:7]}…)").click()
    expect(lead.get_by_role("status")).to_have_text(f"Token revoked: “CRM sync” ({token[:7]}…).")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"CRM sync {second[:7]}…")
    assert [t.prefix for t in auth.list_tokens()] == [second[:7]]
    phone.check(lead, "revoked")

    assert phone.too_wide == {}, f"wider than {PHONE} px: {phone.too_wide}"
    assert phone.split == {}, phone.split
    assert phone.axe == {}, "axe-core found WCAG 2.1 AA violations"
    assert nu_errors(phone.html, tmp_path / "nu") == []
