"""Jinja2 rendering of pages and emails from `templates/`, escaped by default.

`templates/` sits beside `chalicelib/` in the project and, through the `vendor/templates`
link, at the root of the Lambda package, so one relative path serves both.
"""

from __future__ import annotations

import functools
import hashlib
import time
from typing import Any

from chalicelib.core.config import PROJECT_ROOT, base_url

TEMPLATE_DIR = PROJECT_ROOT / "templates"


ASSETS = {
    "site.css": "text/css; charset=utf-8",
    "survey.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "builder_options.js": "text/javascript; charset=utf-8",
    "builder.js": "text/javascript; charset=utf-8",
    "recipients.js": "text/javascript; charset=utf-8",
}


@functools.cache
def asset(name: str) -> tuple[str, str]:
    """A static file of the pages and a version of its content, so browsers may cache it for a year."""
    text = (TEMPLATE_DIR / name).read_text()
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


def asset_url(name: str) -> str:
    return f"{base_url()}/static/{name}?v={asset(name)[1]}"


def asset_headers(name: str) -> dict[str, str]:
    return {
        "Content-Type": ASSETS[name],
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }


@functools.cache
def environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["asset_url"] = asset_url
    env.filters["datetime"] = lambda epoch: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
    return env


def render(template: str, /, **context: Any) -> str:
    return environment().get_template(template).render(**context)
