"""Jinja2 rendering of pages and emails from `templates/`, escaped by default, in a customer's or a CX
team's language: the i18n extension's `{% trans %}` and `_()` take that language's catalog
(chalicelib/locales, see core.i18n), `lang` and `dir` say it on the page's root, and filters write
numbers, percentages and moments as the language does.

`templates/` sits beside `chalicelib/` in the project and, through the `vendor/templates`
link, at the root of the Lambda package, so one relative path serves both.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

from chalicelib.core import i18n
from chalicelib.core.config import PROJECT_ROOT, base_url

TEMPLATE_DIR = PROJECT_ROOT / "templates"
COMPILED = "__jinja__"  # under TEMPLATE_DIR: the templates' compiled code (build_environment)
MEMO_PAGES = 256  # remembered pages per process, a few KB each


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
    """The process's one environment, its templates compiled once (or read compiled, see build_environment)."""
    return build_environment(TEMPLATE_DIR)


def build_environment(template_dir: Path) -> Any:
    """A Jinja2 environment for the templates under `template_dir`, whose compiled code it keeps in
    `template_dir/__jinja__` (Jinja2's bytecode cache, by template name and source checksum, so an edited
    template is compiled again): compiling the survey and thank-you pages cost a cold start 25 to 50 ms.
    Locally the cache fills on first render; the Lambda package, read-only, carries it compiled
    (compile_templates, called by infra/bytecode.py)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

    @pass_context
    def finalize(context: Any, value: Any) -> Any:
        # an interface sentence from Python (an answer's error, a default label) is shown in the page's language
        return i18n.translate(value, context.get("locale", i18n.DEFAULT_LOCALE))

    env = Environment(
        loader=FileSystemLoader(str(template_dir)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
        finalize=finalize,
        bytecode_cache=_compiled_templates()(template_dir / COMPILED),
    )
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks are not part of its msgid
    env.install_null_translations(newstyle=True)
    env.globals["asset_url"] = asset_url
    env.filters["datetime"] = lambda epoch: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
    env.filters["moment"] = pass_context(
        lambda context, epoch, zone="UTC": i18n.format_datetime(epoch, context["locale"], zone)
    )
    env.filters["number"] = pass_context(lambda context, number: i18n.format_number(number, context["locale"]))
    env.filters["percent"] = pass_context(lambda context, fraction: i18n.format_percent(fraction, context["locale"]))
    env.filters["code_spans"] = pass_context(
        lambda context, message: code_spans(i18n.translate(message, context.get("locale", i18n.DEFAULT_LOCALE)))
    )
    return env


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def code_spans(message: Any) -> Any:
    """A message written for the API's JSON, where `email` marks a column or field name as Markdown does,
    escaped for a page with each such span as <code>email</code>, not with its backticks shown."""
    from markupsafe import Markup, escape

    pieces = _CODE_SPAN.split(str(message))  # text, code, text, ...: odd pieces were between backticks
    return Markup("").join(Markup("<code>{}</code>").format(p) if i % 2 else escape(p) for i, p in enumerate(pieces))


@functools.cache
def _compiled_templates() -> type:
    """Jinja2's file bytecode cache, made fit for a package built in one place and run in another."""
    from jinja2 import FileSystemBytecodeCache

    class CompiledTemplates(FileSystemBytecodeCache):
        def __init__(self, directory: Path) -> None:
            with contextlib.suppress(OSError):  # read-only (Lambda's /var/task): the package brought it
                directory.mkdir(exist_ok=True)
            super().__init__(str(directory))

        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            # by name alone: the package is compiled in a scratch folder and runs from /var/task
            return super().get_cache_key(name)

        def dump_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError):  # read-only: the template is compiled in memory instead
                super().dump_bytecode(bucket)

    return CompiledTemplates


def compile_templates(template_dir: Path, shown_as: str) -> int:
    """Write the compiled code of every template (.html, .txt) under `template_dir` into its cache, each
    compiled as the file `shown_as/<name>` (what a traceback names); returns how many. For the Lambda
    package (infra/bytecode.py): its /var/task is read-only, so a cold start would compile them again."""
    from jinja2.bccache import Bucket

    env = build_environment(template_dir)
    cache = env.bytecode_cache
    names = env.list_templates(
        filter_func=lambda name: name.endswith((".html", ".txt")) and not name.startswith(f"{COMPILED}/")
    )
    for name in names:
        source = (template_dir / name).read_text(encoding="utf-8")
        bucket = Bucket(env, cache.get_cache_key(name), cache.get_source_checksum(source))
        bucket.code = env.compile(source, name, f"{shown_as}/{name}")
        cache.dump_bytecode(bucket)
    return len(names)


@functools.cache
def gettext_callables(locale: str) -> dict[str, Any]:
    """A language's `gettext` and `ngettext` as the i18n extension calls them when `newstyle`: they fill in
    `%(name)s` themselves and mark the result safe in an escaped template (the values stay escaped)."""
    from jinja2 import pass_context
    from markupsafe import Markup

    catalog = i18n.translations(locale)

    @pass_context
    def gettext(context: Any, message: str, /, **values: Any) -> str:
        text = catalog.gettext(message)
        # the catalogs are ours (chalicelib/locales), as trusted as the templates; the values are escaped
        return (Markup(text) if context.eval_ctx.autoescape else text) % values  # noqa: S704

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, n: int, /, **values: Any) -> str:
        text = catalog.ngettext(singular, plural, n)
        values.setdefault("num", n)
        return (Markup(text) if context.eval_ctx.autoescape else text) % values  # noqa: S704

    return {"gettext": gettext, "ngettext": ngettext}


def render(template: str, /, locale: str = i18n.DEFAULT_LOCALE, **context: Any) -> str:
    """A template in `locale` (a key of core.i18n.LANGUAGES), which it reads as `locale`, `lang` (the
    BCP 47 tag, "pt-BR") and `dir` ("rtl" for Arabic)."""
    return (
        environment()
        .get_template(template)
        .render(
            locale=locale,
            lang=locale.replace("_", "-"),
            dir=i18n.direction(locale),
            **gettext_callables(locale),
            **context,
        )
    )


_memo: OrderedDict[Hashable, tuple[str, list[Any]]] = OrderedDict()
_PLAIN = frozenset({str, int, float, bool, type(None)})
_memo_lock = threading.Lock()


def render_memo(template: str, /, locale: str, slots: Mapping[str, str], **context: Any) -> str:
    """`render`, remembered for a page served again and again with the same content (the survey page of a
    clicked score, the thank-you page of an answer without a comment): rendering it costs more than half a
    millisecond of the customer's wait, a remembered one a few microseconds (bench/answer_latency.py).

    `slots` are the values that differ on every request (a link with its token, a CSRF token): the page is
    rendered once with a marker in each slot's place, and each request's value is put there escaped, as
    autoescape would have written it; so a template must write a slot as it is (`{{ csrf }}`), never
    filtered, else the page is rendered each time. The key is the template, the language and every value
    of `context`: plain values (text, numbers, lists, mappings) by value, other objects (a campaign) by
    identity, each kept alive while its page is remembered so that no other object can take its id.
    """
    from markupsafe import escape  # cold start: loaded with Jinja2, by the first page

    kept: list[Any] = []
    key = (template, locale, tuple(sorted(slots)), _frozen(context, kept))
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None:
            _memo.move_to_end(key)
    if hit is None:
        markers = {name: f"\x00{name}\x00" for name in slots}
        page = render(template, locale, **context, **markers)
        if not all(marker in page for marker in markers.values()):
            return render(template, locale, **context, **slots)
        hit = (page, kept)
        with _memo_lock:
            _memo[key] = hit
            while len(_memo) > MEMO_PAGES:
                _memo.popitem(last=False)
    page = hit[0]
    for name, value in slots.items():
        page = page.replace(f"\x00{name}\x00", str(escape(value)))
    return page


def _frozen(value: Any, kept: list[Any]) -> Hashable:
    """A hashable stand-in for a context value: plain data by value, anything else by identity (kept)."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is i18n.Text:
        return (kind, value.msgid, _frozen(value.values, kept))
    if isinstance(value, str):
        return (kind, str(value))
    if isinstance(value, Mapping):
        return (Mapping, tuple((_frozen(k, kept), _frozen(v, kept)) for k, v in value.items()))
    if kind is list or kind is tuple:
        return (kind, tuple(_frozen(item, kept) for item in value))
    kept.append(value)
    return (object, id(value))
