"""The languages step, the survey step with its translations, and the preview in a chosen language, in
Debian's Chromium against `chalice local`: a language added with the keyboard and saved, a gap shown
beside its field; each page passes axe-core (WCAG 2.1 AA) and the Nu checker and fits 360 and 390 px."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from chalicelib.campaigns import campaigns
from localdev.pagecheck import nu_errors
from tests.test_dashboard_builder_browser import checked, signed_in
from tests.test_dashboard_builder_languages import FRENCH, SURVEY

pytestmark = pytest.mark.browser


def test_a_language_is_added_and_every_page_in_it_passes(app_url, browser, tmp_path):
    body = {"name": "Langues", "survey": SURVEY, "options": {"translations": {"fr": FRENCH}}}
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), time.time())
    seen: dict[str, str] = {}
    page = signed_in(browser, app_url, "admin")
    page.goto(f"{app_url}/dashboard/campaigns/{campaign.id}/edit/languages")
    expect(page.get_by_label("Question 2 in French", exact=True)).to_have_value("Pourquoi ?")
    checked(page, seen, "languages")

    page.get_by_label("Language to add").select_option("de")
    page.get_by_role("button", name="Add a language").press("Enter")
    expect(page.get_by_label("Question 1 in German", exact=True)).to_be_focused()
    page.keyboard.type("Würden Sie uns empfehlen?")
    page.get_by_label("Question 2 in German", exact=True).fill("Warum?")
    page.get_by_label("Choices of question 2 in German, one per line").fill("Preis")
    page.get_by_role("button", name="Save languages").click()
    expect(page.locator("#f-options-translations-de-questions-reason-options-error")).to_contain_text(
        "The German translation of question 'reason' gives 1 option(s); it needs 2"
    )
    checked(page, seen, "languages-refused")
    page.get_by_label("Choices of question 2 in German, one per line").fill("Preis\nHilfe")
    page.get_by_role("button", name="Save languages").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert campaigns.get_view(campaign.id).options["translations"]["de"]["questions"]["reason"]["options"] == [
        "Preis",
        "Hilfe",
    ]

    page.goto(f"{app_url}/dashboard/campaigns/{campaign.id}/edit/survey")
    expect(page.get_by_label("Question 1 in German", exact=True)).to_have_value("Würden Sie uns empfehlen?")
    checked(page, seen, "survey")

    page.goto(f"{app_url}/dashboard/campaigns/{campaign.id}/preview")
    page.get_by_label("Language", exact=True).select_option("fr")
    page.get_by_role("button", name="Show the preview").click()
    expect(page.locator("#preview-text")).to_contain_text("Nous recommanderiez-vous ?")
    expect(page.frame_locator("#preview-survey").get_by_text("Pourquoi ?")).to_be_visible()
    checked(page, seen, "preview")
    assert nu_errors(seen, tmp_path / "nu") == []
