"""What a comment is about, from keyword themes a campaign configures. Pure functions.

`{"pricing": ["price", "expensive", "cost"], "support": ["support", "help desk"]}`: a theme
matches when one of its keywords appears as a word (or phrase) in the comment, whatever the
case. Simple on purpose: CX leads can read, predict and tune it, and it costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.core.errors import ValidationError

MAX_THEMES = 20
MAX_KEYWORDS = 30
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def parse_themes(value: Any, field: str = "options.themes") -> dict[str, list[str]]:
    if not isinstance(value, Mapping) or len(value) > MAX_THEMES:
        raise ValidationError(f"themes maps up to {MAX_THEMES} theme names to lists of keywords.", field)
    themes: dict[str, list[str]] = {}
    for name, keywords in value.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValidationError("A theme name is lower-case letters, digits, _ or -.", f"{field}.{name}")
        ok = isinstance(keywords, list) and 0 < len(keywords) <= MAX_KEYWORDS
        if not ok or not all(isinstance(k, str) and k.strip() and len(k) <= 50 for k in keywords):
            raise ValidationError(f"Give 1 to {MAX_KEYWORDS} keywords of at most 50 characters.", f"{field}.{name}")
        themes[name] = [k.strip().lower() for k in keywords]
    return themes


def detect(text: str | None, themes: Mapping[str, Sequence[str]]) -> list[str]:
    """The themes whose keywords the text mentions, in the campaign's order."""
    if not text:
        return []
    lowered = text.lower()
    return [
        name
        for name, keywords in themes.items()
        if any(re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", lowered) for keyword in keywords)
    ]
