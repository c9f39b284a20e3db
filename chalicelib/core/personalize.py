"""Campaign-written text (subject, intro) rendered per contact in a sandbox, under limits.

CX leads write `Hi {{ first_name | default("there") }}`; the text is theirs, the values are
the contact's, so it runs in Jinja's sandbox (no attribute tricks) and missing properties
render empty unless given a default. It is text: the HTML part escapes all of it.

Jinja's sandbox guards against reaching Python's internals, not against cost: `range(10**9)`,
`7**10000000` (which Jinja would fold into a constant while compiling) or `"x" * 10**9` would
hold a worker for seconds or exhaust its memory. So this sandbox is narrowed to what a
subject line or an intro needs: the operators that can grow a value (`*`, `**`, `%`) are
intercepted (Jinja then neither folds them at compile time nor runs them unchecked), `range`,
`join` and `replace` check the size of what they would make, the filters and the methods of
values are a short list of those whose output is bounded, and the statements that could
compound growth (`set`, `with`, macros, nested or recursive loops) are refused when the
template is parsed. A render also stops after `RENDER_SECONDS` or `MAX_OUTPUT` characters.
A template is rendered with sample properties when it is saved, and again for every contact.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import Mapping
from typing import Any

from chalicelib.core.errors import ValidationError
from chalicelib.core.headers import header_problem, text_problem

MAX_TEMPLATE = 2000
MAX_OUTPUT = 10_000  # characters, of one rendered text or of any value made on the way
MAX_RANGE = 1000
MAX_POWER_BITS = 1024
RENDER_SECONDS = 0.5
SAMPLE = {"first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace", "company": "Acme", "plan": "pro"}
SAMPLE_EMAIL = "ada@example.com"
_FILTERS = (
    *("abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "int", "join", "last"),
    *("length", "list", "lower", "map", "max", "min", "reject", "replace", "reverse", "round", "select"),
    *("sort", "string", "striptags", "sum", "title", "trim", "truncate", "unique", "upper", "wordcount"),
)
_METHODS = frozenset(
    {"lower", "upper", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith", "endswith"}
    | {"get", "keys", "values", "items"}
)
_REFUSED = {
    "Assign": "{% set %}",
    "AssignBlock": "{% set %}",
    "With": "{% with %}",
    "Macro": "{% macro %}",
    "CallBlock": "{% call %}",
}
_deadline: contextvars.ContextVar[float] = contextvars.ContextVar("template_deadline", default=float("inf"))


class TemplateRefused(ValidationError):
    """A template that breaks a limit or fails to render: 400 at entry, a failed invitation at send."""


class _Limit(Exception):
    """A limit met while rendering; becomes a TemplateRefused naming the field."""


def _check_clock() -> None:
    if time.monotonic() > _deadline.get():
        raise _Limit(f"it takes longer than {RENDER_SECONDS} seconds to render")


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_OUTPUT:
        raise _Limit(f"it makes a value of more than {MAX_OUTPUT:,} characters or items")
    return value


def _range(*args: int) -> range:
    _check_clock()
    made = range(*args)
    if len(made) > MAX_RANGE:
        raise _Limit(f"range() gives at most {MAX_RANGE:,} numbers")
    return made


def _join(value: Any, d: Any = "") -> str:
    items = [str(v) for v in value]
    if sum(map(len, items)) + len(str(d)) * max(0, len(items) - 1) > MAX_OUTPUT:
        raise _Limit(f"join would make more than {MAX_OUTPUT:,} characters")
    return str(d).join(items)


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old, new = str(value), str(old), str(new)
    if not old:
        raise _Limit("replace needs some text to look for")
    times = text.count(old) if count is None else min(count, text.count(old))
    if len(text) + times * max(0, len(new) - len(old)) > MAX_OUTPUT:
        raise _Limit(f"replace would make more than {MAX_OUTPUT:,} characters")
    return text.replace(old, new, -1 if count is None else count)


@functools.cache
def _environment() -> Any:
    from jinja2.sandbox import SandboxedEnvironment

    class LimitedEnvironment(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%"})

        def wrap_str_format(self, value: Any) -> None:
            return None  # str.format and format_map are refused like other methods (widths: `{:>999999999}`)

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            if callable(value) and attr not in _METHODS:
                return False
            return super().is_safe_attribute(obj, attr, value)

        def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
            _check_clock()
            return _sized(super().call(context, obj, *args, **kwargs))

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_clock()
            if operator == "%" and isinstance(left, str):
                raise _Limit("%-formatting is not available; write the text around the values instead")
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_OUTPUT:
                        raise _Limit(f"it makes a value of more than {MAX_OUTPUT:,} characters or items")
            big = isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0
            if operator == "**" and big and right * abs(left).bit_length() > MAX_POWER_BITS:
                raise _Limit(f"{left} ** {right} is too large a number")
            return super().call_binop(context, operator, left, right)

    environment = LimitedEnvironment(autoescape=False)
    environment.globals = {"range": _range}
    environment.filters = {name: environment.filters[name] for name in _FILTERS}
    environment.filters["join"] = _join
    environment.filters["replace"] = _replace
    return environment


# Jinja's own globals and the template's self-reference: not contact properties, so a
# template naming them would render nothing useful (or fail) for every contact.
_UNAVAILABLE_NAMES = frozenset({"self", "lipsum", "namespace", "cycler", "joiner", "dict"})


def _refuse_costly_statements(text: str) -> None:
    """Statements that could compound a value's growth or a loop's count are refused before compiling."""
    from jinja2 import nodes

    def walk(node: Any, loops: int) -> None:
        name = type(node).__name__
        if name in _REFUSED:
            raise _Limit(f"{_REFUSED[name]} is not available in these texts")
        if isinstance(node, nodes.Name) and node.name in _UNAVAILABLE_NAMES:
            raise _Limit(f"`{node.name}` is not available in these texts")
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise _Limit(f"`{node.attr}` is not available in these texts")
        if isinstance(node, nodes.For):
            if node.recursive:
                raise _Limit("recursive loops are not available in these texts")
            if loops:
                raise _Limit("a loop inside a loop is not available in these texts")
            loops += 1
        for child in node.iter_child_nodes():
            walk(child, loops)

    walk(_environment().parse(text), 0)


@functools.lru_cache(maxsize=64)
def _compiled(template: str) -> Any:
    _refuse_costly_statements(template)
    return _environment().from_string(template)


def _render(template: str, values: Mapping[str, Any], field: str, lenient: bool = False) -> str:
    """The rendered text; TemplateRefused naming `field` for a syntax error, a limit or a failure
    (with `lenient`, a failure caused by a missing value renders as empty text instead)."""
    from jinja2 import TemplateSyntaxError, UndefinedError

    if len(template) > MAX_TEMPLATE:
        raise TemplateRefused(f"At most {MAX_TEMPLATE} characters.", field)
    token = _deadline.set(time.monotonic() + RENDER_SECONDS)
    try:
        compiled = _compiled(template)
        parts: list[str] = []
        size = 0
        for part in compiled.generate(values):
            size += len(part)
            if size > MAX_OUTPUT:
                raise _Limit(f"it renders more than {MAX_OUTPUT:,} characters")
            _check_clock()
            parts.append(part)
        return "".join(parts)
    except TemplateSyntaxError as exc:
        raise TemplateRefused(f"Template error on line {exc.lineno}: {exc.message}", field) from None
    except _Limit as exc:
        raise TemplateRefused(f"This template is refused: {exc}.", field) from None
    except UndefinedError as exc:
        if lenient:
            return ""
        raise TemplateRefused(f"This template cannot be rendered for this contact: {exc}", field) from None
    except Exception as exc:  # a value the template cannot handle (1/0, text + number, ...)
        raise TemplateRefused(f"This template cannot be rendered: {type(exc).__name__}: {exc}", field) from None
    finally:
        _deadline.reset(token)


def check_template(text: str, field: str, header: bool = False) -> str:
    """The template if it compiles and renders with sample properties within the limits; a
    TemplateRefused (ValidationError, 400) naming the field otherwise. A `header` template (a
    subject) may not produce a line break or control character, nor any template another control character.

    A failure that only a missing property causes (`{{ count + 1 }}` without `count`) is left to
    send time, where it fails that contact's invitation alone, with the reason.
    """
    output = _render(text, variables(SAMPLE, SAMPLE_EMAIL), field, lenient=True)
    problem = (header_problem(text) or header_problem(output)) if header else None
    if problem:
        raise ValidationError(f"A subject goes into an email header, so it cannot hold {problem}.", field)
    problem = text_problem(text)
    if problem:
        raise ValidationError(f"This text goes into emails and pages, so it cannot hold {problem}.", field)
    return text


def variables(properties: Mapping[str, Any], email: str) -> dict[str, Any]:
    return {**{k: v for k, v in properties.items() if k.isidentifier()}, "email": email, "properties": properties}


def render_text(template: str, properties: Mapping[str, Any], email: str, field: str = "template") -> str:
    """For subjects and plain-text parts: no escaping. TemplateRefused (naming `field`) when the
    template fails for this contact or breaks a limit: the caller fails this message alone."""
    return _render(template, variables(properties, email), field)


def render_html(template: str, properties: Mapping[str, Any], email: str, field: str = "template") -> Any:
    """For HTML parts: the text is text, all of it escaped (the CX lead's and the contact's), lines kept."""
    from markupsafe import Markup, escape

    lines = render_text(template, properties, email, field).splitlines()
    return Markup("<br>").join(escape(line) for line in lines)
