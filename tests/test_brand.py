"""A campaign's brand colour stays readable on its pages and emails (WCAG 2.1 contrast 4.5:1)."""

from __future__ import annotations

import pytest

from chalicelib.core import brand


@pytest.mark.parametrize("color", ["#0b6e4f", "#1a56db", "#ffcc00", "#f4f5f7", "#b42318", "#000000"])
def test_text_on_the_brand_colour_and_links_keep_their_contrast(color):
    colors = brand.palette(color)
    assert colors["accent"] == color
    assert brand.contrast(colors["accent"], colors["on_accent"]) >= 4.5
    assert brand.contrast(colors["link"], brand.WHITE) >= 4.5


def test_a_light_brand_colour_gets_dark_text_and_our_blue_links():
    assert brand.palette("#ffcc00") == {"accent": "#ffcc00", "on_accent": brand.INK, "link": brand.DEFAULT}
    assert brand.palette(None) == {"accent": brand.DEFAULT, "on_accent": brand.WHITE, "link": brand.DEFAULT}
