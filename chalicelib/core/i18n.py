"""Which language a customer or a CX team is addressed in: the supported languages and how a
requested locale (a contact's `locale` property, BCP 47 or POSIX style) is matched to one of them.

Pure functions: the catalogs and formatting that use the chosen language live beside the renderer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_LOCALE = "en"
# The interface languages shipped with gettext catalogs, with their names in their own language.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
    "ar": "العربية",
}
RTL_LANGUAGES = frozenset({"ar"})


def normalize(tag: Any) -> str | None:
    """The supported language a locale tag names, or None: "fr-CA" → "fr", "pt-br" or "pt" → "pt_BR",
    "AR_eg.UTF-8" → "ar"; anything unsupported or not a string → None."""
    if not isinstance(tag, str):
        return None
    parts = tag.strip().split(".")[0].replace("-", "_").split("_")
    language = parts[0].lower()
    region = parts[1].upper() if len(parts) > 1 else ""
    if f"{language}_{region}" in LANGUAGES:
        return f"{language}_{region}"
    if language in LANGUAGES:
        return language
    return next((code for code in LANGUAGES if code.split("_")[0] == language), None) if language else None


def negotiate(requested: Any, offered: Iterable[str], default: str = DEFAULT_LOCALE) -> str:
    """The language to use: the requested one when it is offered, else `default`.

    `offered` and `default` are supported codes (keys of LANGUAGES)."""
    chosen = normalize(requested)
    return chosen if chosen is not None and chosen in set(offered) else default


def campaign_locales(options: Mapping[str, Any]) -> tuple[str, list[str]]:
    """A campaign's default language and every language it offers (the default first), from its
    options `default_locale` and `translations` (keyed by language)."""
    default = options.get("default_locale") or DEFAULT_LOCALE
    return default, [default, *(code for code in options.get("translations") or {} if code != default)]


def direction(locale: str) -> str:
    """ "rtl" for right-to-left languages, else "ltr" (the `dir` attribute of a page or email)."""
    return "rtl" if locale in RTL_LANGUAGES else "ltr"
