"""Jinja2 rendering of pages and emails from `templates/`, escaped by default.

`templates/` sits beside `chalicelib/` in the project and, through the `vendor/templates`
link, at the root of the Lambda package, so one relative path serves both.
"""

from __future__ import annotations

import functools
from typing import Any

from chalicelib.config import PROJECT_ROOT

TEMPLATE_DIR = PROJECT_ROOT / "templates"


@functools.cache
def environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render(template: str, /, **context: Any) -> str:
    return environment().get_template(template).render(**context)
