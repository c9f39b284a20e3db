"""Real MIME messages: multipart/alternative with a plain-text and an HTML part."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from chalicelib.mail.exceptions import MessageInvalid

_LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "closeloop.localhost"


def header_problem(text: str) -> str | None:
    """What makes `text` unfit for a mail header, or None: a line break (which could start a header
    of its own, e.g. `Bcc:`) or another control character. The same test serves entry and send."""
    for char in text:
        if char in _LINE_BREAKS:
            return f"a line break (U+{ord(char):04X})"
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            return f"a control character (U+{ord(char):04X})"
    return None


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """One message; MessageInvalid (a MailRejected) when a header cannot carry its value, so the
    caller fails this message alone instead of its whole batch."""
    subject = " ".join(subject.split())
    values = {"From": sender, "To": to, "Subject": subject, "Reply-To": reply_to or "", **(headers or {})}
    for name, value in values.items():
        problem = header_problem(value)
        if problem:
            raise MessageInvalid(f"The {name} header cannot hold {problem}.")
    try:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = str(Address(addr_spec=to))
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=sender_domain(sender))
        if reply_to:
            message["Reply-To"] = reply_to
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(text)
        message.add_alternative(html, subtype="html")
    except (ValueError, TypeError, MessageError) as exc:  # header defects are ValueErrors
        raise MessageInvalid(f"The message cannot be built: {exc}") from exc
    return message
