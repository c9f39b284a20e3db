"""What may stand in a mail header, and in a text a CX lead writes for emails and pages. Pure, so every
entry (options, contacts, templates, surveys) refuses what the mail layer (chalicelib.mail.message) could
not carry, by the same test."""

from __future__ import annotations

import unicodedata

_LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def header_problem(text: str) -> str | None:
    """What makes `text` unfit for a mail header, or None: a line break (which could start a header
    of its own, e.g. `Bcc:`) or another control character. The same test serves entry and send."""
    for char in text:
        if char in _LINE_BREAKS:
            return f"a line break (U+{ord(char):04X})"
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            return f"a control character (U+{ord(char):04X})"
    return None


def text_problem(text: str) -> str | None:
    """What makes `text` unfit for an email's body or a page, or None: a control character other than tab
    and line breaks (NUL, a bell, a terminal's escape), which no keyboard types and a mail client shows as
    garbage, or a lone surrogate."""
    for char in text:
        if char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cs"):
            return f"a control character (U+{ord(char):04X})"
    return None
