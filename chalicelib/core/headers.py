"""What may stand in a mail header. Pure, so every entry (options, contacts, templates) refuses
what the mail layer (chalicelib.mail.message) could not carry, by the same test."""

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
