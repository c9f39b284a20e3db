"""Customers in their own language, in Debian's Chromium: an Arabic customer's invitation and survey page
are laid out right to left in Arabic words, fit a 360 px phone and pass axe-core (WCAG 2 A and AA) and
the W3C Nu checker at 1280 px; a French customer answers on a French page and gets a French
acknowledgement, and a French customer who does not answer a French reminder, from the real jobs."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from chalicelib.answers.counting import apply_pending
from chalicelib.core.config import get_settings
from chalicelib.loop import followups
from chalicelib.queue import get_queue
from chalicelib.sending.delivery import dispatch
from localdev.pagecheck import axe_violations, nu_errors
from tests import test_browser
from tests.conftest import html_links, read_outbox
from tests.helpers import drain
from tests.test_languages import ARABIC, FRENCH, launch_in_languages
from tests.test_phones import DESKTOP, EMAIL_ATTRIBUTES, MIN_TARGET, fits, html_part, target_widths

pytestmark = pytest.mark.browser
new_page, page = test_browser.new_page, test_browser.page
expected_errors = test_browser.expected_errors

PHONE = 360
OPTIONS = {"company": "Acme", "reply_to": "cx@acme.example", "brand_color": "#0b6e4f"}


def _right_to_left(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")


def test_an_arabic_customer_reads_a_right_to_left_invitation_and_survey_page(app_url, outbox, new_page, tmp_path):
    recipient = {"email": "layla@example.com", "properties": {"locale": "ar-EG", "first_name": "Layla"}}
    sent = launch_in_languages(outbox, [recipient], {"translations": {"ar": ARABIC}}, options=OPTIONS)
    [invitation] = sent.messages
    assert invitation["Subject"] == "سؤال سريع من Acme"
    email = html_part(invitation)
    checked: dict[str, str] = {"invitation": email}
    phone = new_page(viewport={"width": PHONE, "height": 800})
    phone.set_content(email)
    _right_to_left(phone)
    expect(phone.locator("body")).to_have_attribute("dir", "rtl")
    expect(phone.get_by_role("link", name="أو أجب عبر الويب")).to_be_visible()
    expect(phone.get_by_role("link", name="إلغاء الاشتراك")).to_be_visible()
    expect(phone.get_by_text("0: غير مرجح إطلاقًا")).to_be_visible()
    fits(phone, f"the Arabic invitation at {PHONE} px")
    assert min(target_widths(phone, "a.score")) >= MIN_TARGET
    zero, one = (phone.locator("a.score").nth(n).bounding_box() for n in (0, 1))
    assert zero["x"] > one["x"], "the scale reads from the right: 0 is right of 1"
    phone.screenshot(path=tmp_path / f"email-arabic-{PHONE}.png", full_page=True)
    desktop = new_page(viewport={"width": DESKTOP, "height": 900})
    desktop.set_content(email)
    assert axe_violations(desktop, ["wcag2a", "wcag2aa"]) == []

    page_url = sent.pages["layla@example.com"]
    phone = new_page(viewport={"width": PHONE, "height": 800})
    phone.goto(page_url)
    _right_to_left(phone)
    expect(phone.get_by_label("هل تود أن تخبرنا بشيء؟")).to_be_visible()
    expect(phone.get_by_role("button", name="إرسال")).to_be_visible()
    expect(phone.get_by_text("لم تُحفظ بعد: اضغط «إرسال» لإرسال إجابتك.")).to_be_visible()
    fits(phone, f"the Arabic survey page at {PHONE} px")
    assert min(target_widths(phone, ".scale label")) >= MIN_TARGET
    phone.screenshot(path=tmp_path / f"page-arabic-{PHONE}.png", full_page=True)
    desktop = new_page(viewport={"width": DESKTOP, "height": 900})
    desktop.goto(page_url)
    assert axe_violations(desktop, ["wcag2a", "wcag2aa"]) == []
    checked["survey page"] = desktop.content()
    desktop.get_by_role("radio", name="9", exact=True).check()
    desktop.get_by_label("هل تود أن تخبرنا بشيء؟").fill("الخدمة ممتازة")
    desktop.get_by_role("button", name="إرسال").click()
    expect(desktop.get_by_role("heading", name="شكرًا لك!")).to_be_visible()
    _right_to_left(desktop)
    assert axe_violations(desktop, ["wcag2a", "wcag2aa"]) == []
    checked["thanks page"] = desktop.content()
    errors = [e for e in nu_errors(checked, tmp_path / "nu") if not EMAIL_ATTRIBUTES.search(e)]
    assert errors == [], "the W3C Nu checker found errors:\n" + "\n".join(errors)


def test_a_french_customer_gets_a_french_reminder_and_a_french_acknowledgement(app_url, outbox, page):
    people = [
        {"email": "chloe@example.com", "properties": {"locale": "fr-FR", "first_name": "Chloé"}},
        {"email": "louis@example.com", "properties": {"locale": "fr"}},
    ]
    options = {**OPTIONS, "reminders": [3]}
    sent = launch_in_languages(outbox, people, {"translations": {"fr": FRENCH}}, options=options)
    page.goto(sent.pages["chloe@example.com"])
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("radio", name="9", exact=True).check()
    page.get_by_label("Souhaitez-vous nous dire quelque chose ?").fill("Très bon service")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("heading", name="Merci !")).to_be_visible()
    expect(page.get_by_text("Chez Acme, une personne va la lire, et nous reviendrons vers vous.")).to_be_visible()

    apply_pending()  # the minute's applier run schedules the acknowledgement
    settings = get_settings()
    assert followups.acknowledge_due(time.time() + settings.ack_delay + 1, settings) == {"sent": 1}
    later = time.time() + 3.1 * 86400
    dispatch(later, get_queue())
    drain(lambda: later)
    mail = {str(m["To"]): m for m in read_outbox(outbox)[2:]}
    ack, reminder = mail["chloe@example.com"], mail["louis@example.com"]
    assert ack["Subject"] == "Merci, Chloé !"
    ack_text = ack.get_body(("plain",)).get_content()
    assert "Merci pour votre 9 sur 10. Cela compte beaucoup pour toute l’équipe." in ack_text
    assert "Vous avez écrit : « Très bon service »" in ack_text
    assert "Répondez simplement à cet e-mail pour ajouter quoi que ce soit : une personne le lira." in ack_text
    assert '<html lang="fr" dir="ltr">' in html_part(ack) and ">Se désabonner</a>" in html_part(ack)
    assert reminder["Subject"] == "Rappel : Acme a une petite question pour vous"
    reminder_text = reminder.get_body(("plain",)).get_content()
    assert reminder_text.startswith("Un petit rappel, au cas où notre premier e-mail se serait perdu.")
    assert "Nous lisons chaque réponse, et nous répondrons à la vôtre." in reminder_text
    page.goto(next(link for link in html_links(reminder) if "/u/" in link))
    expect(page.get_by_role("heading", name="Ne plus recevoir ces e-mails ?")).to_be_visible()
    page.get_by_role("button", name="Se désabonner").click()
    expect(page.get_by_role("heading", name="Vous êtes désabonné")).to_be_visible()
