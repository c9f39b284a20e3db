"""A campaign's brand colour on its pages, kept readable.

The colour fills the chosen score and the Submit button and tints links, so each use gets a
readable partner (WCAG 2.1 contrast): text on the brand colour is white or dark, whichever
contrasts more, and links fall back to our blue when the brand colour has less than 4.5:1
on white. A few lines of the WCAG formula rather than a colour library, which would be a
dependency for one function.
"""

from __future__ import annotations

import functools

DEFAULT = "#1a56db"
INK = "#1f2933"
WHITE = "#ffffff"


def _luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of #rrggbb (or #rgb), 0 (black) to 1 (white)."""
    hexa = color.lstrip("#")
    if len(hexa) == 3:
        hexa = "".join(c * 2 for c in hexa)
    channels = [int(hexa[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def palette(color: str | None) -> dict[str, str]:
    """{accent, on_accent, link} for a validated hex brand colour (None: ours)."""
    accent = color or DEFAULT
    on_accent, link = _partners(accent)
    return {"accent": accent, "on_accent": on_accent, "link": link}


@functools.lru_cache(maxsize=256)
def _partners(accent: str) -> tuple[str, str]:
    """Every page a customer sees asks for its campaign's colour: the arithmetic is done once per colour."""
    on_accent = WHITE if contrast(accent, WHITE) >= contrast(accent, INK) else INK
    return on_accent, accent if contrast(accent, WHITE) >= 4.5 else DEFAULT
