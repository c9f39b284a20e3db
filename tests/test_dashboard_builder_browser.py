"""The builder's first pages in Debian's Chromium against `chalice local`: a new campaign with a refused
interval then corrected, a survey built with the keyboard alone (add, move, save with Enter), the
basics, email and follow-up steps saved in the background by their script (an edit sent as the page
is left; a new webhook held for Save), one save status at a time on a step, the build page, and a
viewer's read-only survey.
Each page passes axe-core (WCAG 2.1 AA) and the Nu checker and fits 360 and 390 pixels without
scrolling sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from chalicelib.dashboard import sessions
from localdev.pagecheck import axe_violations, nu_errors
from tests.browser_support import tab_to
from tests.dashboard_support import session_headers

pytestmark = pytest.mark.browser


def signed_in(browser: Browser, base: str, role: str) -> Page:
    """A page at 390 px whose context carries a session of a new `role` (made by the real service functions)."""
    cookie = session_headers(role)["Cookie"].split("=", 1)[1]
    # bypass_csp lets axe-core's script into pages whose CSP allows only our own files
    context: BrowserContext = browser.new_context(viewport={"width": 390, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": sessions.COOKIE, "value": cookie, "url": base}])
    return context.new_page()


def checked(page: Page, seen: dict[str, str], name: str) -> None:
    """axe-core finds nothing and the page fits 360 and 390 px; its HTML is kept for the Nu checker."""
    seen[name] = page.content()
    assert axe_violations(page) == [], name
    for width in (360, 390):
        page.set_viewport_size({"width": width, "height": 900})
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"{name} scrolls sideways at {width} px"


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement.id")


def test_an_admin_builds_a_survey_with_the_keyboard_and_every_page_passes(app_url, browser, tmp_path):
    seen: dict[str, str] = {}
    page = signed_in(browser, app_url, "admin")
    page.goto(f"{app_url}/dashboard/campaigns")
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New campaign")
    checked(page, seen, "new")

    tab_to(page, page.get_by_label("Name"))
    page.keyboard.type("Spring check-in")
    page.get_by_label("Kind").select_option("recurring")
    page.get_by_label("Ask again every (days)").fill("abc")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_role("button", name="Create the draft").click()
    interval = page.get_by_label("Ask again every (days)")
    expect(page.locator("#f-interval_days-error")).to_have_text("A recurring campaign asks again every 7 to 730 days.")
    expect(interval).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("Spring check-in")
    checked(page, seen, "new-refused")
    interval.fill("30")
    interval.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("The draft is saved")
    survey_url = page.url
    checked(page, seen, "survey")

    # a multiple-choice question and a text question, added with the keyboard
    tab_to(page, page.get_by_label("Type of the new question"))
    page.keyboard.press("End")  # the last type: Text
    page.keyboard.press("ArrowUp")  # Multiple choice
    tab_to(page, page.get_by_role("button", name="Add a question"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Type (question 2)")).to_have_value("multi_choice")
    assert focused_id(page) == "f-survey-questions-1-text"  # the new question's text, ready to type
    page.keyboard.type("What do you use?")
    page.get_by_label("Choices, one per line (question 2)").fill("Reports\nAlerts\nExports")
    tab_to(page, page.get_by_label("Type of the new question"))
    page.keyboard.press("End")
    tab_to(page, page.get_by_role("button", name="Add a question"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Type (question 3)")).to_have_value("text")
    assert focused_id(page) == "f-survey-questions-2-text"
    page.keyboard.type("Anything else?")
    tab_to(page, page.get_by_role("button", name="Move up question 3"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Question (question 2)")).to_have_value("Anything else?")
    expect(page.get_by_label("Choices, one per line (question 3)")).to_have_value("Reports\nAlerts\nExports")
    assert focused_id(page) == "q1-up"  # the moved question's button keeps the focus
    checked(page, seen, "survey-moved")
    page.get_by_label("Question (question 2)").press("Enter")  # Enter in a field saves
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_label("Id (question 3)")).to_have_value("choices")

    # a refusal on the survey step, beside its field
    page.get_by_label("Choose at least (question 3)").fill("5")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#f-survey-questions-2-min_choices-error")).to_have_text(
        "Choose at least is a whole number from 0 to 3."
    )
    checked(page, seen, "survey-refused")

    page.get_by_role("navigation", name="Steps of building this campaign").get_by_role("link", name="Basics").click()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    checked(page, seen, "basics")
    # with the script, a changed field is saved in the background; a refused one says why
    page.get_by_label("Segments").fill("plan\ncountry")
    page.get_by_label("Segments").blur()
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved at")
    page.get_by_label("Ask again every (days)").fill("3")
    page.get_by_label("Ask again every (days)").blur()
    expect(page.locator("#autosave-status")).to_contain_text("Not saved: A recurring campaign asks again every 7")
    asked: list[str] = []  # leaving after a failed save asks first
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    page.reload()
    assert asked == ["beforeunload"]
    expect(page.get_by_label("Segments")).to_have_value("plan\ncountry")
    expect(page.get_by_label("Ask again every (days)")).to_have_value("30")
    # an edit is kept when the person goes to another step at once: it is sent as the page is left
    steps = page.get_by_role("navigation", name="Steps of building this campaign")
    page.get_by_label("Segments").fill("plan\ncountry\nregion")
    steps.get_by_role("link", name="Email and brand").click()
    page.get_by_label("Subject", exact=True).fill("A question for {{ first_name }}")
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved at")
    steps.get_by_role("link", name="Follow-up").click()
    page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/hook")  # a new webhook: its secret is shown once
    expect(page.locator("#autosave-status")).to_contain_text("Not saved in the background: press Save follow-up")
    steps.get_by_role("link", name="Email and brand").click()
    assert asked == ["beforeunload", "beforeunload"]
    expect(page.get_by_label("Subject", exact=True)).to_have_value("A question for {{ first_name }}")
    steps.get_by_role("link", name="Basics").click()
    expect(page.get_by_label("Segments")).to_have_value("plan\ncountry\nregion")
    page.get_by_role("link", name="Build").click()
    expect(page.get_by_role("main")).to_contain_text("3 questions: NPS, text, multiple choice.")
    checked(page, seen, "build")

    viewer = signed_in(browser, app_url, "viewer")
    viewer.goto(survey_url.split("?")[0])
    expect(viewer.get_by_label("Question (question 2)")).to_be_disabled()
    checked(viewer, seen, "survey-viewer")
    assert re.search(r"Your role is viewer", seen["survey-viewer"])

    assert nu_errors(seen, tmp_path / "nu") == []


def test_a_builder_step_shows_one_save_status_at_a_time(app_url, browser):
    """A notice left by Save (refused, added but not saved, saved) goes once the background save reports,
    so the page never says "not saved" beside "Draft saved"; a field's refusal goes with it once saved."""
    page = signed_in(browser, app_url, "admin")
    page.goto(f"{app_url}/dashboard/campaigns/new")
    page.get_by_label("Name").fill("One status")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_role("button", name="Create the draft").click()
    expect(page.get_by_role("status")).to_contain_text("The draft is saved")
    status = page.locator("#autosave-status")
    not_saved = page.get_by_text(re.compile("not saved", re.IGNORECASE))

    # a question added but not saved yet: the notice goes once its text is typed and saved in the background
    page.get_by_label("Type of the new question").select_option("text")
    page.get_by_role("button", name="Add a question").click()
    expect(page.get_by_role("status")).to_contain_text("Not saved yet: press Save to keep it.")
    page.get_by_label("Question (question 2)").fill("Anything else?")
    expect(status).to_contain_text("Draft saved at")
    expect(not_saved).to_have_count(0)

    # Save refused: the notice and the field's message; corrected, the background save clears both
    page.get_by_label("Type of the new question").select_option("multi_choice")
    page.get_by_role("button", name="Add a question").click()
    page.get_by_label("Question (question 3)").fill("What do you use?")
    page.get_by_label("Choices, one per line (question 3)").fill("Reports\nAlerts")
    expect(status).to_contain_text("Draft saved at")
    page.get_by_label("Choose at least (question 3)").fill("5")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved.")
    choose = page.get_by_label("Choose at least (question 3)")
    expect(choose).to_have_attribute("aria-invalid", "true")
    choose.fill("1")
    choose.blur()
    expect(status).to_contain_text("Draft saved at")
    expect(not_saved).to_have_count(0)
    expect(page.locator("#f-survey-questions-2-min_choices-error")).to_have_count(0)
    expect(choose).not_to_have_attribute("aria-invalid", "true")

    # Saved, then a background save refused: only the refusal shows
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.get_by_label("Choose at least (question 3)").fill("5")
    page.get_by_label("Choose at least (question 3)").blur()
    expect(status).to_contain_text("Not saved: ")
    expect(page.get_by_text("Saved.", exact=True)).to_have_count(0)
    expect(
        page.locator("[role=status], [role=alert], #autosave-status").filter(has_text=re.compile("."))
    ).to_have_count(1)
    page.on("dialog", lambda dialog: dialog.accept())  # leaving after the failed save asks first
    page.reload()  # the address no longer says ?saved=1: no "Saved." for a draft whose last save was refused
    expect(page.get_by_label("Choose at least (question 3)")).to_have_value("1")
    expect(page.get_by_text("Saved.", exact=True)).to_have_count(0)

    # the email step's notices too: a refused Save, then the address corrected and saved in the background
    page.get_by_role("navigation", name="Steps of building this campaign").get_by_role(
        "link", name="Email and brand"
    ).click()
    reply_to = page.get_by_label("Reply-to address")
    reply_to.fill("not an address")
    page.get_by_role("button", name="Save email and brand").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    page.get_by_label("Reply-to address").fill("care@acme.example")
    page.get_by_label("Reply-to address").blur()
    expect(status).to_contain_text("Draft saved at")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".field-error")).to_have_count(0)

    # a Save refused for two fields, one named; that one fixed, the background save refused for the other:
    # the first field's mark goes, the status names the second
    page.get_by_label("Reply-to address").fill("bad3")
    page.get_by_role("textbox", name="Subject").fill("{{ unclosed")
    page.get_by_role("button", name="Save email and brand").click()
    expect(page.get_by_label("Reply-to address")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Reply-to address").fill("cx3@acme.example")
    page.get_by_label("Reply-to address").blur()
    expect(status).to_contain_text("Not saved: ")
    expect(page.get_by_label("Reply-to address")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("is not a valid email address")).to_have_count(0)
