"""Web adapter: HTTP replies that any host (Chalice, a test, a bench) can send as they are, and
(in submodules) Jinja2 rendering (`render`) and the local outbox pages (`outbox`).

May use: core. Imports no feature.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from chalicelib.core.errors import PayloadTooLarge, ValidationError

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 200
# A JSON body becomes at most one DynamoDB item (400 KB). Surveys and options are stored as JSON
# text with non-ASCII characters escaped ("é", 2 bytes, becomes "\u00e9", 6 bytes): at most 3 times
# the body's size, so 120 KB always fits, with room for what the server adds.
MAX_JSON_BYTES = 120 * 1024
MAX_JSON_DEPTH = 32


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


def parse_form(
    raw: bytes | str | None, limit: int = MAX_FORM_BYTES, max_fields: int = MAX_FORM_FIELDS
) -> dict[str, list[str]] | None:
    """Fields of an urlencoded body, or None when it is larger than `limit` bytes or has more than
    `max_fields` fields."""
    if raw is None:
        return {}
    if len(raw) > limit:
        return None
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=max_fields)
    except ValueError:
        return None


def from_another_site(headers: Mapping[str, str], base_url: str) -> bool:
    """A browser's word that a POST comes from another site's page: `Sec-Fetch-Site` (`cross-site`, or
    `same-site` for a sibling host; every current browser sends it) or an `Origin` other than
    `base_url`'s. A page of ours sends `same-origin`, which no page can forge (a browser sets it), also
    when it was served under another name than `base_url`'s (a customer on `www.`, a developer on
    `localhost`): that page is ours. `Origin: null` (a sandboxed or privacy-minded page) with no
    `Sec-Fetch-Site` is left to the form's CSRF token."""
    fetch_site = (headers.get("sec-fetch-site") or headers.get("Sec-Fetch-Site") or "").lower()
    if fetch_site in ("cross-site", "same-site"):
        return True
    if fetch_site == "same-origin":
        return False
    origin = (headers.get("origin") or headers.get("Origin") or "").rstrip("/")
    if not origin or origin == "null":
        return False
    ours, theirs = urlsplit(base_url), urlsplit(origin)
    return (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc)


def under_base(base_url: str, path: str) -> str:
    """`path` under the base URL's own path, without its scheme and host: a form's action that posts back to
    the host that served the page (the content security policy's `form-action 'self'`), also when the page
    was reached under another name; `https://x.example/api` + `/s/T` is `/api/s/T`."""
    return urlsplit(base_url).path.rstrip("/") + path


def wants_json(headers: dict[str, str]) -> bool:
    return "application/json" in (headers.get("accept") or headers.get("Accept") or "")


def parse_json(raw: bytes | str | None, limit: int = MAX_JSON_BYTES) -> object:
    """A request's JSON body ({} when empty), only with values DynamoDB can store.

    Raises PayloadTooLarge (413) past `limit` bytes, and ValidationError (400) for anything
    that is not JSON, nests deeper than MAX_JSON_DEPTH (DynamoDB stores 32 levels), holds text
    that is not Unicode (a lone surrogate such as "\\ud800") or a number DynamoDB cannot hold
    (NaN, infinities, more than 38 digits, beyond 1e125 or below 1e-130).
    """
    if raw is None or len(raw) == 0:
        return {}
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body is {_size(len(raw))}; this endpoint takes at most {_size(limit)}.", "body")
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValidationError(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError:
        raise ValidationError("The request body is not valid JSON.") from None
    _check_values(value)
    return value


def _no_constant(name: str) -> None:
    raise ValueError(name)


def _check_values(value: object) -> None:
    """Walks the parsed body without recursion, so no depth of nesting can exhaust the stack."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(item, dict):
            pending.extend((k, depth) for k in item)
            pending.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            pending.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValidationError("The JSON body holds a lone surrogate such as \\ud800: not text.") from None
        elif isinstance(item, int | float) and not isinstance(item, bool) and not _storable(item):
            raise ValidationError(
                "Numbers have at most 38 digits and lie between 1e-130 and 1e125 in size (DynamoDB's range)."
            )


def _storable(number: int | float) -> bool:
    if isinstance(number, int):
        return len(str(abs(number))) <= 38
    return math.isfinite(number) and (number == 0 or 1e-130 <= abs(number) < 1e125)


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB" if count >= 1024 * 1024 else f"{count / 1024:.0f} KB"
