"""The local outbox as pages: newcomers click through real invitation emails (local stage only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from chalicelib.core.config import get_settings
from chalicelib.web import Reply, html
from chalicelib.web.render import render

_NAME = re.compile(r"^[0-9]+-[A-Za-z0-9._=-]+\.eml$")


@dataclass(frozen=True)
class Entry:
    name: str
    subject: str
    to: str
    date: str


def _enabled() -> Path | None:
    settings = get_settings()
    if not settings.is_local or settings.mail_backend != "file":
        return None
    return settings.outbox_dir


def read_message(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


def listing() -> Reply:
    outbox = _enabled()
    if outbox is None:
        return html(render("not_found.html"), status=404)
    files = sorted(outbox.glob("*.eml"), reverse=True) if outbox.is_dir() else []
    entries = []
    for path in files[:500]:
        message = read_message(path)
        entries.append(Entry(path.name, str(message["Subject"]), str(message["To"]), str(message["Date"])))
    return html(render("outbox.html", entries=entries, total=len(files), outbox=str(outbox)))


def show(name: str) -> Reply:
    outbox = _enabled()
    if outbox is None or not _NAME.match(name) or not (outbox / name).is_file():
        return html(render("not_found.html"), status=404)
    message = read_message(outbox / name)
    text = message.get_body(("plain",))
    body = message.get_body(("html",))
    page_html = body.get_content() if body else ""
    framed = page_html.replace("<head>", '<head><base target="_top">', 1)
    return html(
        render(
            "outbox_message.html",
            message_name=name,
            headers=[(k, str(v)) for k, v in message.items()],
            text=text.get_content() if text else "",
            framed=framed,
        ),
        frames=True,
    )
