"""Choosing a customer's language from a contact's `locale` property and what a campaign offers."""

import pytest

from chalicelib.core import i18n


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("FR_fr.UTF-8", "fr"),
        ("fr@euro", "fr"),
        ("de_DE.UTF-8@euro", "de"),
        ("pt-BR", "pt_BR"),
        ("pt_br", "pt_BR"),
        ("pt", "pt_BR"),
        ("ar-EG", "ar"),
        ("de", "de"),
        ("zz", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_a_locale_tag_names_a_supported_language_or_none(tag, expected):
    assert i18n.normalize(tag) == expected


def test_a_customer_gets_their_language_only_when_the_campaign_offers_it():
    assert i18n.negotiate("fr-BE", ["en", "fr"]) == "fr"
    assert i18n.negotiate("de", ["en", "fr"]) == "en"
    assert i18n.negotiate("de", ["es"], default="es") == "es"
    assert i18n.negotiate(None, ["en", "ar"]) == "en"


def test_a_campaign_offers_its_default_language_first_then_its_translations():
    assert i18n.campaign_locales({}) == ("en", ["en"])
    assert i18n.campaign_locales({"default_locale": "de", "translations": {"fr": {}, "de": {}}}) == ("de", ["de", "fr"])


def test_arabic_is_laid_out_right_to_left():
    assert i18n.direction("ar") == "rtl"
    assert i18n.direction("fr") == "ltr"
