"""The builder's languages step and the translations on the survey step: saved through the admin API's use
case, refused with the API's words beside the field, never dropped by another step."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from chalicelib.campaigns import campaigns
from tests.dashboard_support import FORM_HEADERS, csrf_of, session_headers
from tests.test_dashboard_builder_options import input_tag, open_step, path, post_step, stored, value_of

SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
        {"id": "reason", "type": "single_choice", "text": "Why?", "options": ["Price", "Support"]},
    ]
}
FRENCH = {
    "questions": {
        "nps": {"text": "Nous recommanderiez-vous ?"},
        "reason": {"text": "Pourquoi ?", "options": ["Prix", "Assistance"]},
    }
}
T = "options.translations.fr."


def draft(**options) -> campaigns.CampaignView:
    body = {"name": "Langues", "survey": SURVEY, "options": options}
    return campaigns.create_campaign(campaigns.parse_campaign(body), time.time())


def test_adding_a_language_shows_its_inputs_and_saving_it_stores_the_translation(client):
    admin = session_headers()
    campaign = draft(company="Acme")
    added = post_step(client, campaign, "languages", {"action": "add", "new_language": "fr"}, admin)
    assert added.status_code == 200
    page = added.body.decode()
    assert "French added: give its texts." in page
    addable = page[page.index('name="new_language"') : page.index("</select>", page.index('name="new_language"'))]
    assert 'value="de"' in addable and 'value="fr"' not in addable and 'value="en"' not in addable  # not twice
    assert value_of(page, T + "questions.nps.text") == ""
    assert "autofocus" in input_tag(page, T + "questions.nps.text")
    fields = {
        "languages": "fr",
        "options.default_locale": "en",
        "options.team_locale": "de",
        T + "questions.nps.text": "Nous recommanderiez-vous ?",
        T + "questions.reason.text": "Pourquoi ?",
        T + "questions.reason.options": "Prix\r\nAssistance\r\n",
        T + "subject": "Une question",
        "action": "save",
    }
    saved = post_step(client, campaign, "languages", fields, admin)
    assert saved.status_code == 303
    options = stored(campaign)
    assert options["company"] == "Acme"  # the other steps' options are kept
    assert options["team_locale"] == "de"
    assert options["translations"] == {"fr": {**FRENCH, "subject": "Une question"}}
    page = open_step(client, campaign, "languages", admin)
    assert value_of(page, T + "questions.reason.options") == "Prix\nAssistance"


def test_a_missing_translation_is_shown_beside_its_field_with_everything_typed_kept(client):
    admin = session_headers()
    campaign = draft()
    fields = {
        "languages": "fr",
        "options.default_locale": "en",
        T + "questions.nps.text": "Nous recommanderiez-vous ?",
        T + "questions.reason.text": "Pourquoi ?",
        T + "questions.reason.options": "Prix",
        "action": "save",
    }
    refused = post_step(client, campaign, "languages", fields, admin)
    assert refused.status_code == 400
    page = refused.body.decode()
    assert 'id="f-options-translations-fr-questions-reason-options-error"' in page
    assert "gives 1 option(s); it needs 2" in page
    assert 'aria-invalid="true"' in input_tag(page, T + "questions.reason.options")
    assert value_of(page, T + "questions.nps.text") == "Nous recommanderiez-vous ?"
    assert "translations" not in stored(campaign)


def test_another_step_keeps_the_translations_and_removing_a_question_drops_its_own(client):
    admin = session_headers()
    campaign = draft(translations={"fr": FRENCH})
    email = post_step(client, campaign, "email", {"options.company": "Acme", "action": "save"}, admin)
    assert email.status_code == 303
    assert stored(campaign)["translations"] == {"fr": FRENCH}
    page = open_step(client, campaign, "survey", admin)
    assert value_of(page, T + "questions.reason.text") == "Pourquoi ?"
    fields = {
        "csrf": csrf_of(page),
        "survey.questions[0].type": "nps",
        "survey.questions[0].id": "nps",
        "survey.questions[0].text": "How likely are you to recommend us?",
        "survey.questions[0].required": "true",
        "survey.questions[1].type": "single_choice",
        "survey.questions[1].id": "reason",
        "survey.questions[1].text": "Why?",
        "survey.questions[1].options": "Price\nSupport",
        T + "questions.nps.text": "Nous recommanderiez-vous vraiment ?",
        T + "questions.reason.text": "Pourquoi ?",
        T + "questions.reason.options": "Prix\nAssistance",
        "action": "remove:1",
    }
    body = urlencode(fields)
    removed = client.http.post(path(campaign, "survey"), body=body, headers={**admin, **FORM_HEADERS})
    assert removed.status_code == 303
    assert stored(campaign)["translations"] == {
        "fr": {"questions": {"nps": {"text": "Nous recommanderiez-vous vraiment ?"}}}
    }


def test_a_question_added_on_the_survey_step_needs_its_translation_there(client):
    admin = session_headers()
    campaign = draft(translations={"fr": FRENCH})
    page = open_step(client, campaign, "survey", admin)
    fields = {
        "csrf": csrf_of(page),
        "survey.questions[0].type": "nps",
        "survey.questions[0].id": "nps",
        "survey.questions[0].text": "How likely are you to recommend us?",
        "survey.questions[1].type": "single_choice",
        "survey.questions[1].id": "reason",
        "survey.questions[1].text": "Why?",
        "survey.questions[1].options": "Price\nSupport",
        "survey.questions[2].type": "text",
        "survey.questions[2].id": "feedback",
        "survey.questions[2].text": "Anything else?",
        T + "questions.nps.text": "Nous recommanderiez-vous ?",
        T + "questions.reason.text": "Pourquoi ?",
        T + "questions.reason.options": "Prix\nAssistance",
        "action": "save",
    }
    headers = {**admin, **FORM_HEADERS}
    refused = client.http.post(path(campaign, "survey"), body=urlencode(fields), headers=headers)
    assert refused.status_code == 400
    page = refused.body.decode()
    assert 'id="f-options-translations-fr-questions-feedback-text-error"' in page
    assert "The French translation has no text for question &#39;feedback&#39;." in page
    fields[T + "questions.feedback.text"] = "Autre chose ?"
    fields["csrf"] = csrf_of(page)
    assert client.http.post(path(campaign, "survey"), body=urlencode(fields), headers=headers).status_code == 303
    assert stored(campaign)["translations"]["fr"]["questions"]["feedback"] == {"text": "Autre chose ?"}


def test_a_viewer_sees_the_languages_read_only(client):
    campaign = draft(translations={"fr": FRENCH})
    viewer = session_headers(role="viewer", email="viewer@acme.example")
    page = open_step(client, campaign, "languages", viewer)
    assert "Your role is viewer" in page
    summary = client.http.get(f"/dashboard/campaigns/{campaign.id}/edit", headers=viewer).body.decode()
    assert "Written in English; also in French." in summary
    assert value_of(page, T + "questions.nps.text") == "Nous recommanderiez-vous ?"
    csrf = csrf_of(page)
    body = urlencode({"csrf": csrf, "languages": "fr", "action": "save"})
    refused = client.http.post(path(campaign, "languages"), body=body, headers={**viewer, **FORM_HEADERS})
    assert refused.status_code == 403


def test_the_preview_shows_a_chosen_language(client):
    admin = session_headers()
    campaign = draft(translations={"fr": FRENCH})
    base = f"/dashboard/campaigns/{campaign.id}/preview"
    page = client.http.get(f"{base}?email=ana@example.com&locale=fr", headers=admin).body.decode()
    assert 'id="f-locale"' in page
    assert f'src="{base}/survey?l=fr"' in page
    assert "Nous recommanderiez-vous ?" in page  # the text part
    survey = client.http.get(f"{base}/survey?l=fr", headers=admin).body.decode()
    assert "Pourquoi ?" in survey and ">Assistance</span>" in survey and 'name="l" value="fr"' in survey
    english = client.http.get(f"{base}?email=ana@example.com", headers=admin).body.decode()
    assert "How likely are you to recommend us?" in english
