"""Interface languages: the gettext catalogs are complete and compiled, and a customer reads every
word of their emails and pages in their language (a CX team in its own), with numbers and dates
written as that language writes them."""

from __future__ import annotations

import io
import re
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from chalicelib.answers.counting import apply_pending
from chalicelib.campaigns import campaigns
from chalicelib.core import config, i18n
from chalicelib.core.config import get_settings
from chalicelib.core.surveys import parse_survey
from chalicelib.dashboard import people, sessions
from chalicelib.insight import digest
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from chalicelib.web.render import render
from tests.conftest import ROOT, html_links, local_path, read_outbox
from tests.helpers import NPS_SURVEY, Sent, csrf_of, drain, invitation_of, open_page, submit

LOCALES = ROOT / "chalicelib" / "locales"
TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT_LOCALE]
# What a French customer sees of the campaign itself (i19-texts shows it; here it only makes French offered).
FRENCH = {
    "questions": {
        "nps": {"text": "Quelle est la probabilité que vous nous recommandiez ?"},
        "reason": {"text": "Pourquoi ?", "options": ["Prix", "Assistance", "Produit"]},
    }
}
ARABIC = {
    "questions": {
        "nps": {"text": "ما مدى احتمال أن توصي بنا؟"},
        "reason": {"text": "لماذا؟", "options": ["السعر", "الدعم", "المنتج"]},
    }
}


def _catalog(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def _ids(catalog) -> set:
    return {message.id for message in catalog if message.id}


# --- The catalogs -------------------------------------------------------------------------------


def test_the_template_holds_every_interface_string_of_the_code_and_templates():
    method_map, options_map = parse_mapping_cfg(io.StringIO((ROOT / "babel.cfg").read_text()))
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "Text": None}
    found = {
        message if isinstance(message, str) else tuple(message)
        for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map, keywords)
    }
    pot = _ids(_catalog(LOCALES / "messages.pot"))
    assert found - pot == set(), "strings missing from messages.pot: run `make messages`"
    assert pot - found == set(), "messages.pot holds strings the sources no longer have: run `make messages`"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_language_translates_every_string_and_ships_it_compiled(locale):
    po = LOCALES / locale / "LC_MESSAGES" / "messages.po"
    catalog = _catalog(po)
    assert _ids(catalog) == _ids(_catalog(LOCALES / "messages.pot")), f"{locale}: run `make messages`"
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (
            message.fuzzy
            or not all(message.string if isinstance(message.string, tuple) else [message.string])
            or (isinstance(message.string, tuple) and len(message.string) != catalog.num_plurals)
        )
    ]
    assert untranslated == [], f"{locale} does not translate these yet"
    assert [(m.id, errors) for m, errors in catalog.check()] == [], f"{locale}: placeholders differ from the msgid"
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    shipped = (po.parent / "messages.mo").read_bytes()
    assert compiled.getvalue() == shipped, f"{locale}: messages.mo is older than messages.po: run `make messages`"


# --- Formats ------------------------------------------------------------------------------------


def test_numbers_percentages_and_moments_are_written_as_each_language_writes_them():
    assert i18n.format_number(1234.5, "fr") == "1\u202f234,5"
    assert i18n.format_number(1234.5, "de") == "1.234,5"
    assert i18n.format_number(1234.5, "en") == "1,234.5"
    assert i18n.format_percent(0.25, "fr") == "25\u00a0%"
    moment = 1796051045  # 2026-11-30 15:04:05 UTC
    assert i18n.format_datetime(moment, "de", "Europe/Berlin") == "30.11.2026, 16:04 CET"
    assert i18n.format_datetime(moment, "en", "America/New_York") == "Nov 30, 2026, 10:04\u202fAM EST"
    assert i18n.format_datetime(moment, "fr", "Europe/Paris") == "30 nov. 2026, 16:04 CET"


def test_templates_write_numbers_and_dates_through_the_locale_filters():
    from chalicelib.web.render import environment

    template = environment().from_string(
        "{{ 1234.5|number }} · {{ 0.4|percent }} · {{ moment|moment('Europe/Berlin') }}"
    )
    assert template.render(locale="de", moment=1796051045) == "1.234,5 · 40\u00a0% · 30.11.2026, 16:04 CET"


def test_arabic_pages_are_right_to_left_with_arabic_words():
    page = render("not_found.html", "ar")
    assert '<html lang="ar" dir="rtl">' in page and "هذا الرابط لا يعمل" in page
    assert '<html lang="pt-BR" dir="ltr">' in render("not_found.html", "pt_BR")
    assert '<html lang="en" dir="ltr">' in render("not_found.html")


def test_an_answer_error_and_a_default_label_are_shown_in_the_customers_language():
    survey = parse_survey(NPS_SURVEY)
    _, errors = survey.parse_answers({"q_nps": ["11"], "q_reason": ["Price", "Support"]})
    assert errors["nps"] == "11 is outside the scale: choose a score from 0 to 10."  # English, as logged
    assert i18n.translate(errors["nps"], "fr") == "11 est hors de l’échelle : choisissez une note de 0 à 10."
    assert i18n.translate(errors["reason"], "de") == "Wählen Sie nur eine Antwort."
    assert i18n.translate(survey.first.low_label, "es") == "Nada probable"
    own = parse_survey({"questions": [{"id": "nps", "type": "nps", "text": "?", "low_label": "Never"}]})
    assert i18n.translate(own.first.low_label, "fr") == "Never"  # a CX lead's own words are not ours to translate


def test_the_team_language_is_the_campaigns_else_the_setting_and_english_when_unsupported(monkeypatch):
    monkeypatch.setenv("CLOSELOOP_TEAM_LOCALE", "de-DE")
    assert config.team_locale() == "de"
    assert config.team_locale({"team_locale": "fr"}) == "fr"
    monkeypatch.setenv("CLOSELOOP_TEAM_LOCALE", "tlh")
    assert config.team_locale() == "en"
    monkeypatch.delenv("CLOSELOOP_TEAM_LOCALE")
    assert config.team_locale({}) == "en"


# --- A campaign that offers languages -------------------------------------------------------------


def set_language_options(campaign_id: str, options: dict) -> None:
    """Sets `default_locale`, `translations` or `team_locale` through the campaign's own update, as the API does."""
    stored = campaigns.get_view(campaign_id).options
    fields = campaigns.parse_campaign({"options": {**stored, **options}}, partial=True)
    campaigns.update_campaign(campaign_id, fields, time.time())


def _is_page(url: str) -> bool:
    """The survey page's own link in an invitation (it may say its language, `?l=`), not a one-click answer."""
    return "/s/" in url and "?a=" not in url and "&a=" not in url and not url.endswith("/t")


def launch_in_languages(outbox, recipients, languages: dict, sent_ago: float = 3600, **extra) -> Sent:
    """tests.helpers.launch, with the language options written before anything is sent."""
    body = {"name": "Test", "survey": NPS_SURVEY, "segments": [], **extra}
    now = time.time()
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), now)
    set_language_options(campaign.id, languages)
    campaign = campaigns.get_view(campaign.id)
    imports.start(campaign, list(enumerate(recipients)), "recipients", now, get_settings(), get_queue())
    campaigns.start_sending(campaign.id, now - sent_ago, None, get_queue())
    drain(lambda: time.time() - sent_ago)
    messages = read_outbox(outbox)
    pages = {str(m["To"]): local_path(next(u for u in html_links(m) if _is_page(u))) for m in messages}
    return Sent(campaigns.get_view(campaign.id), pages, messages)


def _by_recipient(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    return {str(m["To"]): m for m in messages}


def test_a_french_contact_gets_a_french_invitation_and_page_and_an_unknown_locale_the_default(client, outbox):
    recipients = [
        {"email": "chloe@example.com", "properties": {"locale": "fr-CA"}},
        {"email": "ada@example.com", "properties": {}},
        {"email": "hans@example.com", "properties": {"locale": "de"}},  # German is not offered
    ]
    sent = launch_in_languages(outbox, recipients, {"translations": {"fr": FRENCH}}, options={"company": "Acme"})
    mail = _by_recipient(sent.messages)
    french = mail["chloe@example.com"]
    assert french["Subject"] == "Acme a une petite question pour vous" and french["Content-Language"] == "fr"
    text = french.get_body(("plain",)).get_content()
    assert "Nous lisons chaque réponse, et nous répondrons à la vôtre." in text
    assert "Cliquez sur votre réponse :" in text and "0 (Pas du tout probable)" in text
    assert "Vous recevez ce message parce que vous êtes client chez Acme." in text
    assert '<html lang="fr" dir="ltr">' in french.get_body(("html",)).get_content()
    for english in ("ada@example.com", "hans@example.com"):
        assert mail[english]["Subject"] == "A quick question from Acme"
        assert "Click your answer:" in mail[english].get_body(("plain",)).get_content()

    status, page = open_page(client, sent.pages["chloe@example.com"] + "&a=3")
    assert status == 200 and '<html lang="fr" dir="ltr">' in page
    assert "Souhaitez-vous nous dire quelque chose ?" in page and ">Envoyer</button>" in page
    assert "Chez Acme, une personne lit chaque réponse" in page
    assert sent.pages["chloe@example.com"].endswith("?l=fr")  # the page's language is in its link, then its form
    error = submit(client, sent.pages["chloe@example.com"], {"q_nps": "12", "l": "fr"}).body.decode()
    assert "Veuillez vérifier les réponses signalées." in error
    assert "12 est hors de l’échelle : choisissez une note de 0 à 10." in error
    thanks = submit(client, sent.pages["chloe@example.com"], {"q_nps": "3", "l": "fr"}).body.decode()
    assert "Merci !" in thanks and "Votre réponse est enregistrée." in thanks
    assert "Souhaitez-vous" not in open_page(client, sent.pages["hans@example.com"])[1]
    # a link without its language (typed by hand, or sent before French was offered) finds the contact's
    bare = sent.pages["chloe@example.com"].split("?")[0]
    assert '<html lang="fr" dir="ltr">' in open_page(client, bare + "?a=3")[1]
    assert '<html lang="fr" dir="ltr">' in submit(client, bare, {"q_nps": "4"}).body.decode()
    # the plain text's last lines stay apart, in every language
    assert (
        "\nSe désabonner :" in text and "\nUnsubscribe:" in mail["ada@example.com"].get_body(("plain",)).get_content()
    )


def _form_language(page: str) -> str:
    found = re.search(r'name="l" value="([^"]*)"', page)
    return found[1] if found else ""


def test_one_language_from_the_page_to_the_thank_you_page_whatever_the_link_says(client, outbox):
    recipients = [
        {"email": "chloe@example.com", "properties": {"locale": "fr-CA"}},
        {"email": "ada@example.com", "properties": {}},
    ]
    sent = launch_in_languages(outbox, recipients, {"translations": {"fr": FRENCH}}, options={"company": "Acme"})
    # in a campaign with several languages every link says which, the default one too: no read to find it
    assert sent.pages["ada@example.com"].endswith("?l=en") and sent.pages["chloe@example.com"].endswith("?l=fr")
    bare = sent.pages["chloe@example.com"].split("?")[0]
    for link, expected in (("?a=6&l=en", "en"), ("?a=6&l=xx", "fr"), ("?a=6&l=es", "fr"), ("?a=6", "fr")):
        status, page = open_page(client, bare + link)
        assert status == 200 and f'<html lang="{expected}"' in page, link
        assert _form_language(page) == expected, link  # the form carries the page's language to the next page
        thanks = submit(client, bare, {"q_nps": "6", "l": expected}).body.decode()
        assert f'<html lang="{expected}"' in thanks and f"?l={expected}" in thanks, link


def test_a_form_too_large_to_read_comes_back_in_the_language_the_customer_chose(client, outbox):
    sent = launch_in_languages(outbox, [{"email": "ada@example.com"}], {"translations": {"fr": FRENCH}})
    english_link = sent.pages["ada@example.com"]
    page = open_page(client, english_link.replace("?l=en", "?l=fr") + "&a=9")[1]
    action = re.search(r'<form id="survey" method="post" action="([^"]+)"', page)[1]
    assert action.endswith("?l=fr")  # the form's URL names its language, so even an unreadable form keeps it

    too_large = submit(client, local_path(action), {"q_nps": "9", "comment": "x" * 600_000}, csrf_of(page))

    assert too_large.status_code == 413 and '<html lang="fr"' in too_large.body.decode()
    assert "Trop de données." in too_large.body.decode()
    assert invitation_of(sent, "ada@example.com").answered_at is None


def test_a_campaign_written_in_german_speaks_german_to_everyone_it_does_not_offer_another_language(client, outbox):
    recipients = [{"email": "ada@example.com", "properties": {"locale": "en-GB"}}]
    sent = launch_in_languages(outbox, recipients, {"default_locale": "de"})
    [message] = sent.messages
    assert message["Subject"] == "Eine kurze Frage"
    assert "Klicken Sie auf Ihre Antwort:" in message.get_body(("plain",)).get_content()
    token = sent.pages["ada@example.com"].rsplit("/", 1)[1]
    unsubscribe = next(link for link in html_links(message) if "/u/" in link)
    assert "Diese E-Mails abbestellen?" in open_page(client, local_path(unsubscribe))[1]
    assert '<html lang="de" dir="ltr">' in open_page(client, f"/s/{token}/t")[1]


def test_an_alert_speaks_the_teams_language_with_times_in_the_campaigns_zone(client, outbox):
    recipients = [{"email": "upset@example.com", "properties": {"locale": "fr"}}]
    options = {"alert_emails": ["cx@acme.example"], "company": "Acme"}
    sent = launch_in_languages(outbox, recipients, {"team_locale": "de"}, options=options, timezone="Europe/Berlin")
    submit(client, sent.pages["upset@example.com"], {"q_nps": "2"})
    apply_pending()
    drain()
    [alert] = [m for m in read_outbox(outbox) if str(m["To"]) == "cx@acme.example"]
    assert alert["Subject"] == "Kritiker: 2 von 10 von upset@example.com"
    html = alert.get_body(("html",)).get_content()
    assert '<html lang="de" dir="ltr">' in html and ">Antwort öffnen</a>" in html
    assert re.search(r"\(geantwortet am \d\d\.\d\d\.\d{4}, \d\d:\d\d CE[S]?T\)", html)


def test_the_digest_speaks_the_teams_language_with_its_numbers_and_dates(client, outbox):
    recipients = [{"email": "upset@example.com", "properties": {"locale": "fr"}}]
    options = {"company": "Acme"}
    sent = launch_in_languages(outbox, recipients, {"team_locale": "de"}, options=options, timezone="Europe/Berlin")
    submit(client, sent.pages["upset@example.com"], {"q_nps": "2", "comment": "Zu langsam"})
    apply_pending()
    now = time.time()
    period = digest.latest_period("weekly", now, "Europe/Berlin", so_far=True)
    built = digest.preview(campaigns.get_view(sent.campaign.id), period, now)
    message = digest.render_message(built, "cx@acme.example", get_settings())
    assert message["Subject"] == f"Test, KW {period.first.isocalendar()[1]}: NPS -100, 1 Antwort"
    text = message.get_body(("plain",)).get_content()
    assert text.startswith(f"Test: Wöchentliche Übersicht, KW {period.first.isocalendar()[1]} (")
    assert "NPS -100 (Konfidenzintervall 95\xa0%: -100 bis +49, 1 Antwort)" in text
    assert re.search(r'^  2/10 von upset@example\.com, \w\w\., \d{1,2}\. \w+\.? \d\d:\d\d: "Zu langsam"$', text, re.M)
    html = message.get_body(("html",)).get_content()
    assert '<html lang="de" dir="ltr">' in html and "Neueste Kommentare von Kritikern" in html


def test_the_sign_in_mail_speaks_the_teams_language(db, outbox, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_TEAM_LOCALE", "ar")
    people.add_person("lead@acme.example", "Lea", "admin", time.time())
    sessions.request_link("lead@acme.example", "/dashboard", "test", time.time())
    [message] = read_outbox(outbox)
    assert message["Subject"] == "رابط تسجيل دخولك إلى Closeloop"
    html = message.get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html and '<body dir="rtl"' in html and "مرحبًا Lea،" in html
