"""Web adapter: HTTP replies that any host (Chalice, a test, a bench) can send as they are, and
(in submodules) Jinja2 rendering (`render`) and the local outbox pages (`outbox`).

May use: core. Imports no feature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs

MAX_FORM_BYTES = 64 * 1024


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def html(body: str, status: int = 200, frames: bool = False) -> Reply:
    """An HTML page that loads nothing from elsewhere, runs only our own script files, is never cached."""
    frame = "frame-src 'self'; " if frames else ""
    return Reply(
        status,
        body,
        {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; "
                "script-src 'self'; "
                f"connect-src 'self'; form-action 'self'; {frame}frame-ancestors 'none'; base-uri 'none'"
            ),
            "Referrer-Policy": "same-origin",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "X-Robots-Tag": "noindex, nofollow",
        },
    )


def json_reply(data: object, status: int = 200) -> Reply:
    return Reply(
        status,
        json.dumps(data, separators=(",", ":")),
        {"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def parse_form(raw: bytes | str | None) -> dict[str, list[str]] | None:
    """Fields of an urlencoded body, or None when it is too large to be a survey answer."""
    if raw is None:
        return {}
    if len(raw) > MAX_FORM_BYTES:
        return None
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=200)
    except ValueError:
        return None


def wants_json(headers: dict[str, str]) -> bool:
    return "application/json" in (headers.get("accept") or headers.get("Accept") or "")
