"""Real MIME messages: multipart/alternative with a plain-text and an HTML part."""

from __future__ import annotations

from collections.abc import Mapping
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from chalicelib.core.headers import header_problem
from chalicelib.mail.exceptions import MessageInvalid


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "closeloop.localhost"


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
            if not name.lower().startswith("content-"):
                message[name] = value
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        for name, value in (headers or {}).items():  # after the body, which rewrites a message's Content-*
            if name.lower().startswith("content-"):
                message[name] = value
    except (ValueError, TypeError, MessageError) as exc:  # header defects are ValueErrors
        raise MessageInvalid(f"The message cannot be built: {exc}") from exc
    return message


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes out. Headers are folded at RFC 5322's 998-character limit, not the
    policy's 78: a header with nowhere to fold (`List-Unsubscribe: <https://...>`, a URL near 100
    characters) would otherwise be RFC 2047-encoded, which mailbox providers do not decode there,
    so one-click unsubscribe would break. Bodies keep the transfer encoding chosen when built."""
    return message.as_bytes(policy=message.policy.clone(max_line_length=998))
