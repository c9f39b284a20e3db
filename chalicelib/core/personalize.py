"""Campaign-written text (subject, intro) rendered per contact in a sandbox.

CX leads write `Hi {{ first_name | default("there") }}`; the text is theirs, the values are
the contact's, so it runs in Jinja's sandbox (no attribute tricks) and missing properties
render empty unless given a default. It is text: the HTML part escapes all of it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from chalicelib.core.errors import ValidationError

MAX_TEMPLATE = 2000


@functools.cache
def _environment() -> Any:
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=False)


def check_template(text: str, field: str) -> str:
    """The template if it compiles; a ValidationError naming the field otherwise."""
    from jinja2 import TemplateSyntaxError

    if len(text) > MAX_TEMPLATE:
        raise ValidationError(f"At most {MAX_TEMPLATE} characters.", field)
    try:
        _environment().from_string(text)
    except TemplateSyntaxError as exc:
        raise ValidationError(f"Template error on line {exc.lineno}: {exc.message}", field) from None
    return text


def variables(properties: Mapping[str, Any], email: str) -> dict[str, Any]:
    return {**{k: v for k, v in properties.items() if k.isidentifier()}, "email": email, "properties": properties}


def render_text(template: str, properties: Mapping[str, Any], email: str) -> str:
    """For subjects and plain-text parts: no escaping, single spaces."""
    from jinja2 import TemplateError

    try:
        return _environment().from_string(template).render(variables(properties, email))
    except TemplateError:
        return template


def render_html(template: str, properties: Mapping[str, Any], email: str) -> Any:
    """For HTML parts: the text is text, all of it escaped (the CX lead's and the contact's), lines kept."""
    from markupsafe import Markup, escape

    lines = render_text(template, properties, email).splitlines()
    return Markup("<br>").join(escape(line) for line in lines)
