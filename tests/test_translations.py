"""A campaign's texts per language: what the CX lead must give, what a customer of each language reads,
and that answers are stored and counted as the campaign's own option values."""

from __future__ import annotations

import copy
import json
import time
from html import unescape

import pytest

from chalicelib.campaigns.campaigns import CampaignView, parse_campaign
from chalicelib.core.config import get_settings
from chalicelib.core.counters import plain
from chalicelib.core.errors import ValidationError
from chalicelib.core.surveys import parse_survey
from chalicelib.core.translations import localize, prune
from chalicelib.loop import followups
from chalicelib.sending.invitations import invitation_id
from chalicelib.store.models import Invitation
from tests.conftest import admin_headers, html_links, local_path, read_outbox
from tests.helpers import drain, invitation_of, launch, open_page, submit, totals

SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
        {"id": "reason", "type": "single_choice", "text": "Why?", "options": ["Price", "Support", "Product"]},
        {"id": "ease", "type": "ces", "text": "How easy was it?", "low_label": "Hard", "high_label": "Easy"},
    ]
}
FRENCH = {
    "questions": {
        "nps": {"text": "Quelle est la probabilité que vous nous recommandiez ?"},
        "reason": {"text": "Pourquoi ?", "options": ["Prix", "Assistance", "Produit"]},
        "ease": {"text": "Était-ce facile ?", "low_label": "Difficile", "high_label": "Facile"},
    },
    "subject": "Une question rapide, {{ first_name }}",
}
BODY = {
    "name": "Languages",
    "survey": SURVEY,
    "options": {
        "default_locale": "en",
        "subject": "A quick question, {{ first_name }}",
        "translations": {"fr": FRENCH},
    },
}


def _refusal(change) -> ValidationError:
    body = copy.deepcopy(BODY)
    change(body)
    with pytest.raises(ValidationError) as refused:
        parse_campaign(body)
    return refused.value


def test_a_missing_translation_is_refused_naming_the_question_and_the_language():
    refusal = _refusal(lambda b: b["options"]["translations"]["fr"]["questions"].pop("reason"))
    assert refusal.message == "The French translation has no text for question 'reason'."
    assert refusal.field == "options.translations.fr.questions.reason.text"


def test_a_translation_needs_every_option_in_order_and_the_labels_the_campaign_wrote():
    fewer = _refusal(lambda b: b["options"]["translations"]["fr"]["questions"]["reason"]["options"].pop())
    assert fewer.field == "options.translations.fr.questions.reason.options"
    assert "gives 2 option(s); it needs 3, in the order of the English ones (Price, Support, Product)" in fewer.message
    label = _refusal(lambda b: b["options"]["translations"]["fr"]["questions"]["ease"].pop("high_label"))
    assert label.field == "options.translations.fr.questions.ease.high_label"
    assert "French" in label.message and "'ease'" in label.message
    subject = _refusal(lambda b: b["options"]["translations"]["fr"].pop("subject"))
    assert subject.field == "options.translations.fr.subject"
    assert subject.message == "The French translation has no subject: the campaign sets its own in English."


def test_built_in_labels_need_no_translation():
    body = copy.deepcopy(BODY)
    body["survey"]["questions"][2] = {"id": "ease", "type": "ces", "text": "How easy was it?"}
    del body["options"]["translations"]["fr"]["questions"]["ease"]["low_label"]
    del body["options"]["translations"]["fr"]["questions"]["ease"]["high_label"]
    assert parse_campaign(body)["options"]["translations"]["fr"]["questions"]["ease"] == {"text": "Était-ce facile ?"}


def test_an_unknown_language_or_question_is_refused_naming_it():
    unknown = _refusal(lambda b: b["options"]["translations"].update({"fr-FR": FRENCH}))
    assert unknown.field == "options.translations.fr-FR"
    assert "use one of en (English), fr (French), de (German), es (Spanish), pt_BR" in unknown.message
    assert "For French, write 'fr'." in unknown.message
    default = _refusal(lambda b: b["options"].update({"default_locale": "klingon"}))
    assert default.field == "options.default_locale"
    team = _refusal(lambda b: b["options"].update({"team_locale": "xx"}))
    assert team.field == "options.team_locale"
    question = _refusal(lambda b: b["options"]["translations"]["fr"]["questions"].update({"price": {"text": "Prix"}}))
    assert question.field == "options.translations.fr.questions.price"
    assert question.message == "The French translation names question 'price', which the survey does not have."
    itself = _refusal(lambda b: b["options"].update({"default_locale": "fr"}))
    assert itself.field == "options.translations.fr"


def test_the_localized_survey_shows_translations_and_keeps_the_stored_values():
    survey = parse_survey(SURVEY)
    french = localize(survey, BODY["options"], "fr")
    reason = french.question("reason")
    assert reason.text == "Pourquoi ?"
    assert reason.choices() == [("Price", "Prix"), ("Support", "Assistance"), ("Product", "Produit")]
    assert french.question("ease").low_label == "Difficile"
    answers, errors = french.parse_answers({"q_nps": ["9"], "q_reason": ["Support"]})
    assert (answers, errors) == ({"nps": 9, "reason": "Support"}, {})
    assert french.parse_answers({"q_nps": ["9"], "q_reason": ["Assistance"]})[1] == {
        "reason": "“Assistance” is not one of the choices."
    }
    assert localize(survey, BODY["options"], "de") is survey


def test_a_contact_is_addressed_in_their_language_when_the_campaign_offers_it():
    fields = parse_campaign(BODY)
    campaign = CampaignView("c", "x", "draft", fields["survey"], (), "UTC", fields["options"])
    assert campaign.locale_for({"locale": "fr-CA"}) == "fr"
    assert campaign.locale_for({"locale": "de"}) == "en"
    assert campaign.locale_for({}) == "en"
    french = campaign.in_language("fr")
    assert french.subject == FRENCH["subject"]
    assert french.survey.first.text == FRENCH["questions"]["nps"]["text"]
    assert campaign.in_language("en") is campaign


def test_pruning_drops_the_translations_of_removed_questions():
    survey = parse_survey({"questions": SURVEY["questions"][:1]})
    pruned = prune(BODY["options"], survey)
    assert list(pruned["translations"]["fr"]["questions"]) == ["nps"]
    assert pruned["translations"]["fr"]["subject"] == FRENCH["subject"]


def _api(client, method, path, body):
    call = getattr(client.http, method)
    return call(path, body=json.dumps(body), headers=admin_headers())


def test_a_survey_change_through_the_api_keeps_translations_complete(client):
    created = _api(client, "post", "/api/campaigns", BODY).json_body["campaign"]
    path = f"/api/campaigns/{created['id']}"
    fewer = {"questions": SURVEY["questions"][:2]}
    refused = _api(client, "patch", path, {"survey": fewer})
    assert refused.status_code == 400
    assert refused.json_body["error"]["field"] == "options.translations.fr.questions.ease"
    more = {"questions": [*SURVEY["questions"], {"id": "other", "type": "text", "text": "Anything else?"}]}
    refused = _api(client, "patch", path, {"survey": more})
    assert refused.json_body["error"] == {
        "message": "The French translation has no text for question 'other'.",
        "field": "options.translations.fr.questions.other.text",
    }
    options = copy.deepcopy(BODY["options"])
    options["translations"]["fr"]["questions"]["other"] = {"text": "Autre chose ?"}
    assert _api(client, "patch", path, {"survey": more, "options": options}).status_code == 200


def test_a_french_contact_reads_french_and_their_answer_is_stored_in_english(client, outbox, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_SCANNER_DELIVERY_WINDOW", "0")  # an answer right after sending counts
    recipients = [
        {"email": "amelie@example.com", "properties": {"locale": "fr-CA", "first_name": "Amélie"}},
        {"email": "dieter@example.com", "properties": {"locale": "de", "first_name": "Dieter"}},
    ]
    response = _api(client, "post", "/api/campaigns", {**BODY, "recipients": recipients, "send": True})
    assert response.status_code == 201
    drain()
    messages = {str(m["To"]): m for m in read_outbox(outbox)}
    french, german = messages["amelie@example.com"], messages["dieter@example.com"]
    assert str(french["Subject"]) == "Une question rapide, Amélie"
    assert FRENCH["questions"]["nps"]["text"] in french.get_body(("html",)).get_content()
    assert str(german["Subject"]) == "A quick question, Dieter"
    assert "How likely are you to recommend us?" in german.get_body(("plain",)).get_content()

    clicked = unescape(next(u for u in html_links(french) if "?a=9" in u))
    status, page = open_page(client, local_path(clicked))
    assert status == 200
    assert "Pourquoi ?" in page and ">Assistance</span>" in page and 'value="Support"' in page
    thanks = submit(client, local_path(clicked), {"q_nps": "9", "q_reason": "Support", "l": "fr"})
    assert thanks.status_code == 200
    assert "Assistance" in thanks.body.decode()

    campaign_id = response.json_body["campaign"]["id"]
    stored = Invitation.get(invitation_id(campaign_id, "amelie@example.com"), consistent_read=True)
    assert plain(stored.answers) == {"nps": 9, "reason": "Support"}
    assert totals(campaign_id)["q.reason.o1"] == 1  # "Support", the second option

    german_link = next(u for u in html_links(german) if "?a=" in u)
    assert "Why?" in open_page(client, local_path(german_link))[1]


def test_a_preview_names_the_language_it_shows(client):
    created = _api(client, "post", "/api/campaigns", BODY).json_body["campaign"]
    path = f"/api/campaigns/{created['id']}/preview"
    body = {"email": "a@example.com", "properties": {"first_name": "Ana"}, "locale": "fr"}
    preview = _api(client, "post", path, body)
    assert preview.status_code == 200
    assert preview.json_body["subject"] == "Une question rapide, Ana"
    refused = _api(client, "post", path, {**body, "locale": "de"})
    assert refused.status_code == 400
    assert refused.json_body["error"] == {
        "message": "This campaign is written in en (English), fr (French): preview one of these. "
        "It has no German translation.",
        "field": "locale",
    }
    regional = _api(client, "post", path, {**body, "locale": "fr-CA"})  # as a contact with that locale gets it
    assert regional.status_code == 200 and regional.json_body["subject"] == "Une question rapide, Ana"


def test_the_acknowledgement_is_in_the_contacts_language(db, outbox):
    ack = {"detractor": {"subject": "We read you", "body": "Sorry, {{ first_name }}."}}
    french = {**FRENCH, "ack": {"detractor": {"subject": "Nous vous avons lu", "body": "Pardon, {{ first_name }}."}}}
    options = {**BODY["options"], "ack": ack, "translations": {"fr": french}}
    recipients = [
        {"email": "amelie@example.com", "properties": {"locale": "fr_FR", "first_name": "Amélie"}},
        {"email": "ada@example.com", "properties": {"first_name": "Ada"}},
    ]
    sent = launch(outbox, recipients=recipients, survey=SURVEY, segments=(), options=options)
    texts = {}
    for email in ("amelie@example.com", "ada@example.com"):
        invitation = invitation_of(sent, email)
        invitation.score, invitation.category = 2, "detractor"
        message = followups.render_ack(sent.campaign, invitation, get_settings(), time.time())
        texts[email] = (str(message["Subject"]), message.get_body(("plain",)).get_content())
    assert texts["amelie@example.com"][0] == "Nous vous avons lu"
    assert "Pardon, Amélie." in texts["amelie@example.com"][1]
    assert texts["ada@example.com"][0] == "We read you"
    assert "Sorry, Ada." in texts["ada@example.com"][1]
