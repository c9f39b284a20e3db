"""The builder's refusals as a CX lead reads them: each field named by the label beside it (not the API's
field path), every bad field of a step shown in one save, counted, and marked on the input at fault."""

from __future__ import annotations

import re
import time
from html import unescape

from chalicelib.campaigns import campaigns
from tests.dashboard_support import session_headers, shown_error, submit_form
from tests.test_dashboard_builder import api_create, survey_fields
from tests.test_dashboard_builder_options import input_tag, post_step

NPS = {"type": "nps", "id": "nps", "text": "Recommend us?"}


def summary(html: str) -> list[str]:
    """The lines of the refusal notice at the top of a page, as read."""
    notice = re.search(r'<div class="notice bad"[^>]*>(.*?)</div>', html, re.S).group(1)
    return [
        " ".join(unescape(re.sub(r"<[^>]+>", "", li)).split()) for li in re.findall(r"<li>(.*?)</li>", notice, re.S)
    ]


def notice_text(html: str) -> str:
    notice = re.search(r'<div class="notice bad"[^>]*>(.*?)</div>', html, re.S).group(1)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", notice)).split())


def test_messages_name_fields_by_their_labels_not_the_api_s_names(client):
    campaign_id = api_create(client)
    questions = [NPS, {"type": "multi_choice", "id": "likes", "text": "Liked?", "options": "A\nB", "max_choices": "2x"}]
    form = {"action": "save", **survey_fields(questions)}
    html = submit_form(client, f"/dashboard/campaigns/{campaign_id}/edit/survey", session_headers(), form).body.decode()
    shown = shown_error(html, "survey.questions[1].max_choices")
    assert shown == "“Choose at most” is a whole number, not the string “2x”."
    basics = {
        "name": "Spring",
        "kind": "recurring",
        "interval_days": "3",
        "timezone": "UTC",
        "segments": "a\nb\nc\nd\ne\nf",
    }
    html = submit_form(
        client, f"/dashboard/campaigns/{campaign_id}/edit/basics", session_headers(), basics
    ).body.decode()
    assert shown_error(html, "interval_days") == "A recurring campaign asks again every 7 to 730 days."
    assert shown_error(html, "segments") == "“Segments” is a list of at most 5 property names."
    assert "interval_days" not in notice_text(html) and "segments is" not in notice_text(html)


def test_the_summary_of_a_refused_step_names_each_field_by_its_label(client):
    admin = session_headers()
    campaign = campaigns.create_campaign(
        campaigns.parse_campaign({"name": "Words", "survey": {"questions": [NPS]}}), time.time()
    )
    html = post_step(client, campaign, "email", {"options.reply_to": "nobody"}, admin).body.decode()
    assert summary(html) == ["Reply-to address: “nobody” is not a valid email address."]
    fields = {"options.themes[0].name": "Price", "options.themes[0].keywords": "cost"}
    html = post_step(client, campaign, "follow-up", fields, admin).body.decode()
    assert summary(html) == ["Theme 1 name: A theme name is lower-case letters, digits, _ or -, not “Price”."]
    assert "options.themes" not in notice_text(html)


def test_the_basics_notice_counts_the_fields_marked(client):
    basics = {"name": "", "kind": "recurring", "interval_days": "abc", "timezone": "Mars/Olympus", "segments": "a b"}
    html = submit_form(client, "/dashboard/campaigns/new", session_headers(), basics).body.decode()
    assert notice_text(html).startswith("Not saved. Correct the 4 fields marked below:")
    one = submit_form(
        client,
        "/dashboard/campaigns/new",
        session_headers(),
        basics | {"name": "A", "kind": "one_off", "interval_days": "", "timezone": "UTC"},
    ).body.decode()
    assert notice_text(one).startswith("Not saved. Correct the field marked below:")


def test_the_email_step_shows_every_bad_field_in_one_save(client):
    admin = session_headers()
    campaign = campaigns.create_campaign(
        campaigns.parse_campaign({"name": "Email", "survey": {"questions": [NPS]}}), time.time()
    )
    bad = {
        "options.sender_name": "x" * 101,
        "options.reply_to": "nobody",
        "options.brand_color": "blue",
        "options.logo_url": "http://example.com/logo.png",
        "options.subject": "{{ oops",
        "options.intro": "{% set x = 1 %}",
        "options.reminders": "7, 3",
    }
    response = post_step(client, campaign, "email", bad, admin)
    html = response.body.decode()
    assert response.status_code == 400
    for field in bad:
        assert shown_error(html, field), field
        assert 'aria-invalid="true"' in input_tag(html, field), field
    assert len(summary(html)) == 7


def test_the_languages_step_shows_every_gap_in_one_save(client):
    admin = session_headers()
    survey = {
        "questions": [NPS, {"id": "reason", "type": "single_choice", "text": "Why?", "options": ["Price", "Support"]}]
    }
    options = {"subject": "A question", "intro": "Hello", "ack": {"detractor": {"subject": "Sorry"}}}
    campaign = campaigns.create_campaign(
        campaigns.parse_campaign({"name": "Langues", "survey": survey, "options": options}), time.time()
    )
    fields = {"languages": "fr", "options.default_locale": "en", "action": "save"}
    fields["options.translations.fr.questions.nps.text"] = "Nous recommanderiez-vous ?"
    response = post_step(client, campaign, "languages", fields, admin)
    html = response.body.decode()
    assert response.status_code == 400
    base = "options.translations.fr."
    gaps = ["questions.reason.text", "questions.reason.options", "subject", "intro", "ack.detractor.subject"]
    assert [field for field in gaps if shown_error(html, base + field)] == gaps
    assert shown_error(html, base + "intro") == (
        "The French translation has no introduction: the campaign sets its own in English."
    )
    assert notice_text(html).startswith("Not saved. Correct the 5 fields marked below:")


def test_a_theme_name_error_marks_the_name_and_a_keyword_error_the_keywords(client):
    admin = session_headers()
    campaign = campaigns.create_campaign(
        campaigns.parse_campaign({"name": "Themes", "survey": {"questions": [NPS]}}), time.time()
    )
    fields = {
        "options.themes[0].name": "Price",
        "options.themes[0].keywords": "cost",
        "options.themes[1].name": "support",
        "options.themes[1].keywords": "",
    }
    html = post_step(client, campaign, "follow-up", fields, admin).body.decode()
    assert (
        shown_error(html, "options.themes[0].name")
        == "A theme name is lower-case letters, digits, _ or -, not “Price”."
    )
    assert 'aria-invalid="true"' in input_tag(html, "options.themes[0].name")
    assert "aria-invalid" not in input_tag(html, "options.themes[0].keywords")
    assert shown_error(html, "options.themes[1].keywords") == "Give 1 to 30 keywords of at most 50 characters."
    assert 'aria-invalid="true"' in input_tag(html, "options.themes[1].keywords")
    assert "aria-invalid" not in input_tag(html, "options.themes[1].name")


def test_a_repeated_choice_names_both_options(client):
    campaign_id = api_create(client)
    questions = [NPS, {"type": "single_choice", "id": "plan", "text": "Plan?", "options": "A\nB\nA"}]
    form = {"action": "save", **survey_fields(questions)}
    html = submit_form(client, f"/dashboard/campaigns/{campaign_id}/edit/survey", session_headers(), form).body.decode()
    assert shown_error(html, "survey.questions[1].options") == (
        "Options 1 and 3 (“A”) look the same to a customer: make each choice read differently."
    )
