"""Which language a customer or a CX team is addressed in: the supported languages and how a
requested locale (a contact's `locale` property, BCP 47 or POSIX style) is matched to one of them.

Pure functions: the catalogs and formatting that use the chosen language live beside the renderer.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
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
    "AR_eg.UTF-8" → "ar", "fr@euro" → "fr"; anything unsupported or not a string → None."""
    if not isinstance(tag, str):
        return None
    parts = tag.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")
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


def contact_locale(options: Mapping[str, Any], properties: Mapping[str, Any]) -> str:
    """The language a contact is addressed in: their `locale` property when the campaign (its `options`)
    offers it, else the campaign's default language, for every word of a message or page."""
    default, offered = campaign_locales(options)
    return negotiate(properties.get("locale"), offered, default)


def language_header(locale: str) -> dict[str, str]:
    """The `Content-Language` header of a message in `locale` (RFC 3282, a BCP 47 tag: "pt-BR")."""
    return {"Content-Language": locale.replace("_", "-")}


def direction(locale: str) -> str:
    """ "rtl" for right-to-left languages, else "ltr" (the `dir` attribute of a page or email)."""
    return "rtl" if locale in RTL_LANGUAGES else "ltr"


# --- Catalogs: the interface's own sentences in each language ------------------------------------

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locales"


class Text(str):
    """An interface sentence written in English in Python code, translated where it is shown.

    It is the English sentence (so logs, JSON and tests read as before) and keeps its gettext msgid
    and the values put into it (`%(name)s`), so `translate` gives it in any language. `pybabel
    extract -k Text` collects every `Text("...")` into the catalogs (see README, Languages).
    """

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Text:
        text = super().__new__(cls, msgid % values if values else msgid)
        text.msgid, text.values = msgid, values
        return text


@functools.cache
def translations(locale: str) -> Any:
    """The compiled catalog of a supported language (a gettext.NullTranslations), loaded on its first use
    and kept for the process (a Lambda answers most requests in one or two languages); English is the
    source, so it has none."""
    import gettext  # cold start: `import app` need not load it; the first page rendered does

    if locale == DEFAULT_LOCALE or locale not in LANGUAGES:
        return gettext.NullTranslations()
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo").open("rb") as catalog:
        return gettext.GNUTranslations(catalog)


def translate(text: Any, locale: str) -> Any:
    """A `Text` in `locale` (a supported code); anything else as it is (a CX lead's own words)."""
    if not isinstance(text, Text):
        return text
    translated = translations(locale).gettext(text.msgid)
    return translated % text.values if text.values else translated


def team_locale(options: Mapping[str, Any], setting: str) -> str:
    """The CX team's language (digest, alerts): the campaign's `team_locale` option, else the
    CLOSELOOP_TEAM_LOCALE `setting`; an unsupported value gives English."""
    return normalize(options.get("team_locale")) or normalize(setting) or DEFAULT_LOCALE


# --- Numbers and dates, as each language writes them (Babel's CLDR data) --------------------------


def format_number(number: float, locale: str) -> str:
    """1234.5 → "1,234.5" (en), "1 234,5" (fr), "1.234,5" (de)."""
    from babel.numbers import format_decimal  # cold start: Babel's number data only when a number is shown

    return format_decimal(number, locale=locale)


def format_percent(fraction: float, locale: str) -> str:
    """A fraction (0.25) as a whole percent: "25%" (en), "25 %" (fr, de)."""
    from babel.numbers import format_percent as babel_percent  # cold start: as format_number

    return babel_percent(fraction, locale=locale)


def format_datetime(epoch: float, locale: str, zone: str = "UTC") -> str:
    """A moment (epoch seconds) as the language writes it, in an IANA time `zone` whose abbreviation follows:
    "Nov 30, 2026, 4:04 PM CET" (en), "30.11.2026, 16:04 CET" (de), "30 nov. 2026, 16:04 CET" (fr)."""
    from datetime import UTC, datetime  # cold start: dates are shown by emails, never by the answer page
    from zoneinfo import ZoneInfo  # cold start: as datetime

    from babel import Locale  # cold start: Babel's date data only when a date is shown
    from babel.dates import format_date, format_time  # cold start: as Locale

    moment = datetime.fromtimestamp(epoch, UTC).astimezone(ZoneInfo(zone))
    pattern = Locale.parse(locale).datetime_formats["medium"].replace("'", "")
    day, hour = format_date(moment, "medium", locale=locale), format_time(moment, "short", locale=locale)
    return f"{pattern.replace('{1}', day).replace('{0}', hour)} {moment.tzname()}"


def format_list(items: list[str], locale: str) -> str:
    """["pricing", "support", "bugs"] → "pricing, support, and bugs" (en), "pricing, support et bugs" (fr)."""
    from babel.lists import format_list as babel_list  # cold start: only acknowledgements that name themes

    return babel_list(items, locale=locale)


# --- The digest's signed points, p-values and days (Babel's CLDR data) ----------------------------

# English dates are written day first ("Sun 22 Nov", "16 – 22 Nov 2026"), as the digest always wrote them.
DATE_LOCALES = {"en": "en_GB"}


def format_signed(number: int, locale: str) -> str:
    """Whole points with their sign, in the language's digits and signs: "+44", "-6", "0", "+1,000"."""
    from babel.numbers import format_decimal  # cold start: as format_number

    return format_decimal(number, format="+#,##0;-#,##0", locale=locale) if number else format_decimal(0, locale=locale)


def format_fixed(number: float, places: int, locale: str) -> str:
    """`number` rounded to `places` decimals as Python's format rounds it, then written as the language
    writes decimals: 0.0045, 3 → "0.005" (en), "0,005" (de)."""
    from decimal import Decimal  # cold start: only p-values need it

    from babel.numbers import format_decimal  # cold start: as format_number

    return format_decimal(Decimal(f"{number:.{places}f}"), format="0." + "0" * places, locale=locale)


def format_day(day: Any, skeleton: str, locale: str) -> str:
    """A date (or datetime) from a CLDR skeleton: "MMMEd" → "Sun 22 Nov" (en), "So., 22. Nov." (de);
    "yMMMM" → "November 2026"; "full" → "Sunday, 22 November 2026"."""
    from babel.dates import format_date, format_skeleton  # cold start: as format_datetime

    locale = DATE_LOCALES.get(locale, locale)
    return (
        format_date(day, "full", locale=locale) if skeleton == "full" else format_skeleton(skeleton, day, locale=locale)
    )


def format_days(first: Any, last: Any, locale: str) -> str:
    """The days from `first` to `last` (dates): "16 – 22 Nov 2026" (en), "16.–22. Nov. 2026" (de)."""
    from babel.dates import format_interval  # cold start: as format_datetime

    return format_interval(first, last, "yMMMd", locale=DATE_LOCALES.get(locale, locale))


def format_clock(moment: Any, locale: str) -> str:
    """A datetime's time of day, short: "10:00" (en, de), "10:00 ص" (ar)."""
    from babel.dates import format_time  # cold start: as format_datetime

    return format_time(moment, "short", locale=DATE_LOCALES.get(locale, locale))
