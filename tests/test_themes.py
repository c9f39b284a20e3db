"""Keyword themes: what a comment is about, predictable enough for a CX lead to tune."""

from __future__ import annotations

import pytest

from chalicelib.campaigns import campaigns
from chalicelib.core.errors import ValidationError
from chalicelib.core.themes import detect, matches, parse_themes

THEMES = {"pricing": ["price", "expensive", "cost"], "support": ["support", "help desk"], "bugs": ["bug", "crash"]}


@pytest.mark.parametrize(
    ("comment", "found"),
    [
        ("Way too EXPENSIVE for what it does", ["pricing"]),
        ("The help desk fixed my bug in an hour", ["support", "bugs"]),
        ("Debugging was painless", []),  # a keyword inside another word does not count
        ("Costs went up; pricing page unclear", []),  # "costs" is not "cost": keywords are exact words
        ("", []),
        (None, []),
    ],
)
def test_detect(comment, found):
    assert detect(comment, THEMES) == found


def test_bad_theme_definitions_name_the_field():
    with pytest.raises(ValidationError) as caught:
        parse_themes({"Pricing!": ["x"]})
    assert caught.value.field == "options.themes.Pricing!"
    with pytest.raises(ValidationError):
        parse_themes({"pricing": []})
    assert parse_themes({"pricing": [" Price "]}) == {"pricing": ["price"]}


@pytest.mark.parametrize(
    ("comment", "found"),
    [
        ("Priceless service", []),  # a keyword inside another word does not match
        ("The PRICE-sensitive plan", [("pricing", ("price",))]),  # a hyphen ends a word
        ("Fair price's worth it", [("pricing", ("price",))]),
        ("ｐｒｉｃｅ went up", [("pricing", ("price",))]),  # compatibility forms fold (NFKC)
        ("The help\n   desk was kind", [("support", ("help desk",))]),  # a phrase, whatever spaces between
        ("helpdesk, help-desk, desk help", []),  # but its words, whole and in order
        ("Café fermé", []),  # "cafe" is not "café" (composed or not: the accent is part of the letter)
        ("Cafe\u0301 ferme\u0301", []),
        ("Die STRASSE war laut", [("street", ("straße",))]),  # case folding: ß is ss
        ("价格太贵了", [("pricing", ("价格",))]),  # no spaces between Chinese words: no boundary needed
        ("El precio subió, price too", [("pricing", ("price", "precio"))]),  # in the campaign's order
        ("the invoice page cost me an hour", [("pricing", ("cost",))]),  # a whole word, yet a misreading
    ],
)
def test_keywords_match_whole_words_and_phrases_and_say_which_matched(comment, found):
    themes = {
        "pricing": ["price", "precio", "价格", "cost"],
        "support": ["help desk"],
        "cafe": ["cafe"],
        "street": ["straße"],
    }
    assert [(m.theme, m.keywords) for m in matches(comment, themes)] == found
    assert detect(comment, themes) == [name for name, _ in found]


def test_quote_themes_is_a_campaign_option_off_by_default():
    body = {"name": "T", "survey": {"questions": [{"id": "nps", "type": "nps", "text": "Recommend us?"}]}}
    assert campaigns.parse_campaign(body)["options"].get("quote_themes") is None
    on = campaigns.parse_campaign({**body, "options": {"quote_themes": True}})
    assert on["options"]["quote_themes"] is True
    assert campaigns.OPTIONS_SCHEMA["properties"]["quote_themes"]["type"] == "boolean"
    with pytest.raises(ValidationError) as caught:
        campaigns.parse_campaign({**body, "options": {"quote_themes": "yes"}})
    assert caught.value.field == "options.quote_themes"
