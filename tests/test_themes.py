"""Keyword themes: what a comment is about, predictable enough for a CX lead to tune."""

from __future__ import annotations

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.core.themes import detect, parse_themes

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
