"""What a comment is about, from keyword themes a campaign configures. Pure functions.

`{"pricing": ["price", "expensive", "cost"], "support": ["support", "help desk"]}`: a theme
matches when one of its keywords appears in the comment as a whole word, or a phrase of whole
words, whatever the case. Simple on purpose: CX leads can read, predict and tune it, and it
costs nothing.

How a keyword matches (our own code: a stemmer or a language model would be less predictable,
and the rule must be one a CX lead can check by eye):

* whole words only: "price" is not found in "priceless", "cost" not in "costs" (a lead adds
  "costs" when that is meant); a hyphen, an apostrophe or punctuation ends a word, so "price"
  is found in "price-sensitive" and "price's";
* case and compatibility forms do not matter: text and keywords are compared after Unicode
  NFKC normalisation and case folding ("PRICE", "Price" and "ｐｒｉｃｅ" are "price"; "STRASSE"
  finds "straße"), and a letter with a combining accent is one letter ("café" is not "cafe");
* a phrase of several words matches those words in that order, whatever spaces or line breaks
  stand between them ("help desk" finds "help\\n desk", not "help-desk" or "desk help");
* in scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer,
  Myanmar) and in Korean, where particles attach to the word, a keyword's edge in that script
  needs no boundary: "价格" is found in "价格太贵".

A theme is named to the customer (the acknowledgement) only when the campaign sets
`quote_themes`; the CX team always sees the themes and which keywords matched (`matches`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import ValidationError
from chalicelib.core.headers import text_problem

MAX_THEMES = 20
MAX_KEYWORDS = 30
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# Unicode character names of the scripts whose words are not separated by spaces (and Hangul: particles attach)
_SPACELESS = ("CJK ", "HIRAGANA", "KATAKANA", "THAI ", "LAO ", "KHMER ", "MYANMAR ", "HANGUL ", "IDEOGRAPHIC")


def parse_themes(value: Any, field: str = "options.themes") -> dict[str, list[str]]:
    """{theme name: keywords}, keywords trimmed and lower-cased; ValidationError naming the theme at fault."""
    if not isinstance(value, Mapping) or len(value) > MAX_THEMES:
        raise ValidationError(f"themes maps up to {MAX_THEMES} theme names to lists of keywords.", field)
    themes: dict[str, list[str]] = {}
    for name, keywords in value.items():
        if not isinstance(name, str) or not _NAME.match(name):
            shown = "".join(c if c.isprintable() else "\ufffd" for c in str(name)[:40])
            raise ValidationError(
                f"A theme name is lower-case letters, digits, _ or -, not “{shown}”.", f"{field}.{shown or '(empty)'}"
            )
        ok = isinstance(keywords, list) and 0 < len(keywords) <= MAX_KEYWORDS
        if not ok or not all(isinstance(k, str) and k.strip() and len(k) <= 50 for k in keywords):
            raise ValidationError(f"Give 1 to {MAX_KEYWORDS} keywords of at most 50 characters.", f"{field}.{name}")
        problem = next((text_problem(k) for k in keywords if text_problem(k)), None)
        if problem:
            raise ValidationError(f"A keyword cannot hold {problem}.", f"{field}.{name}")
        themes[name] = [" ".join(k.split()).lower() for k in keywords]
    return themes


@dataclass(frozen=True)
class Match:
    """A theme found in a comment and the keywords of it that matched, in the campaign's order."""

    theme: str
    keywords: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"theme": self.theme, "keywords": list(self.keywords)}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _in_word(char: str) -> bool:
    """A letter, digit, combining mark or underscore: what continues a word."""
    return char == "_" or unicodedata.category(char)[0] in "LNM"


def _spaceless(char: str) -> bool:
    return unicodedata.name(char, "").startswith(_SPACELESS)


def _found(keyword: str, text: str) -> bool:
    """Whether the folded keyword stands in the folded text as a whole word or phrase (see the module)."""
    words = keyword.split()
    if not words:
        return False
    pattern = re.compile(r"\s+".join(re.escape(word) for word in words))
    first, last = keyword[0], keyword[-1]
    start = 0
    while (hit := pattern.search(text, start)) is not None:
        before = text[hit.start() - 1] if hit.start() else ""
        after = text[hit.end()] if hit.end() < len(text) else ""
        open_left = not before or not _in_word(before) or (_spaceless(first) and _spaceless(before))
        open_right = not after or not _in_word(after) or (_spaceless(last) and _spaceless(after))
        if open_left and open_right:
            return True
        start = hit.start() + 1
    return False


def matches(text: str | None, themes: Mapping[str, Sequence[str]]) -> list[Match]:
    """The themes the text mentions, each with the keywords that matched, in the campaign's order."""
    if not text:
        return []
    folded = _fold(text)
    found = []
    for name, keywords in themes.items():
        hits = tuple(k for k in keywords if _found(_fold(" ".join(k.split())), folded))
        if hits:
            found.append(Match(name, hits))
    return found


def detect(text: str | None, themes: Mapping[str, Sequence[str]]) -> list[str]:
    """The names of the themes the text mentions, in the campaign's order (see `matches`)."""
    return [match.theme for match in matches(text, themes)]
