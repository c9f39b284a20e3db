"""A remembered page (web.render.render_memo) is the page `render` gives, with each request's own link and
token, and never another customer's."""

from __future__ import annotations

import dataclasses

from chalicelib.answers.survey_pages import CHANGES_NOT_SAVED, survey_html, thanks_html
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core.surveys import parse_survey
from chalicelib.web.render import render, render_memo

SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend Acme?"},
        {"id": "why", "type": "single_choice", "text": "What matters most?", "options": ["Price", "Support"]},
    ]
}


def campaign(**options) -> CampaignView:
    return CampaignView(
        id="c1",
        name="Spring",
        status="sent",
        survey=parse_survey(SURVEY),
        segments=(),
        timezone="UTC",
        options={"company": "Acme", **options},
    )


def test_a_remembered_survey_page_is_the_rendered_one_with_each_customers_own_link_and_token():
    spring = campaign()
    first = survey_html(spring, "https://x.example/s/TOKEN-A", "CSRF-A", {"nps": "9"}, gesture=True)
    second = survey_html(spring, "https://x.example/s/TOKEN-B", "CSRF-B", {"nps": "9"}, gesture=True)
    assert 'action="https://x.example/s/TOKEN-B"' in second and 'value="CSRF-B"' in second
    assert "TOKEN-A" not in second and "CSRF-A" not in second
    assert second == first.replace("TOKEN-A", "TOKEN-B").replace("CSRF-A", "CSRF-B")
    assert first == render(
        "survey.html",
        "en",
        campaign=spring,
        survey=spring.survey,
        action="https://x.example/s/TOKEN-A",
        csrf="CSRF-A",
        values={"nps": "9"},
        comment="",
        errors={},
        notice=None,
        gesture=True,
        confirm="",
        edit=False,
        saved=CHANGES_NOT_SAVED,
        brand={"accent": "#1a56db", "on_accent": "#ffffff", "link": "#1a56db"},
        logo=None,
        script=True,
        language="",
    )


def test_the_clicked_score_the_language_and_the_campaign_each_give_their_own_page():
    spring = campaign()
    nine = survey_html(spring, "/s/t", "c", {"nps": "9"}, gesture=True)
    three = survey_html(spring, "/s/t", "c", {"nps": "3"}, gesture=True)
    assert 'value="9" checked' in nine and 'value="9" checked' not in three and 'value="3" checked' in three
    french = survey_html(spring, "/s/t", "c", {"nps": "9"}, gesture=True, locale="fr")
    assert 'lang="fr"' in french and french != nine
    # the campaign as the next read gives it (a corrected question): a new object, a new page
    corrected = dataclasses.replace(spring, options={"company": "Acme Corp"})
    assert "Acme Corp" in survey_html(corrected, "/s/t", "c", {"nps": "9"}, gesture=True)


def test_a_slot_is_escaped_as_autoescape_would_write_it():
    page = render_memo("thanks.html", "en", {"change_url": 'https://x.example/s/"><script>'}, **context())
    assert 'href="https://x.example/s/&#34;&gt;&lt;script&gt;"' in page
    assert "<script>" not in page


def test_a_thank_you_page_with_written_words_is_rendered_for_its_customer_alone():
    spring = campaign(reply_to="cx@acme.example")
    plain = thanks_html(spring, {"nps": 9}, None, "/s/a", get_back=True)
    worded = thanks_html(spring, {"nps": 9}, "The <b>support</b> was slow", "/s/b", get_back=True)
    assert "we will get back to you" in plain and "/s/a" in plain
    assert "The &lt;b&gt;support&lt;/b&gt; was slow" in worded and "/s/b" in worded


def context() -> dict:
    spring = campaign()
    return {
        "campaign": spring,
        "survey": spring.survey,
        "answers": {"nps": 9},
        "comment": None,
        "get_back": False,
        "brand": {"accent": "#1a56db", "on_accent": "#ffffff", "link": "#1a56db"},
        "logo": None,
    }
