"""What every dashboard page builds on: the signed-in `Person`, the `Ctx` a view receives, the `view`
decorator that checks the session, the role and the CSRF token before the view runs, and `page`
and `redirect` to answer (DASHBOARD.md is the contract)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.core.config import base_url
from chalicelib.core.errors import (
    CloseloopError,
    CursorRefused,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    ValidationError,
)
from chalicelib.core.lazy import OnFirstUse
from chalicelib.web import from_another_site, parse_form
from chalicelib.web.render import render

if TYPE_CHECKING:
    from chalicelib.dashboard.people import Person

sessions = OnFirstUse("chalicelib.dashboard.sessions")  # cold start: links, cookies and mail, on request
email_parser = OnFirstUse("email.parser")  # cold start: multipart uploads only
email_policy = OnFirstUse("email.policy")  # cold start: multipart uploads only
logger = logging.getLogger(__name__)

__all__ = [
    "FORM",
    "Ctx",
    "check_origin",
    "error_page",
    "first_page",
    "in_words",
    "page",
    "public_page",
    "redirect",
    "refused_before_view",
    "view",
]

FORM = ["application/x-www-form-urlencoded"]
UPLOAD = ["multipart/form-data"]
MAX_UPLOAD_BYTES = 6 * 1024 * 1024  # what Lambda takes in a request: the admin API's import limit too
# A form of an upload view is read up to this size, so the view itself can say a file or a paste is too large
# (the import's limit), next to its field; percent-encoding makes a 6 MB paste at most three times larger.
MAX_UPLOAD_FORM_BYTES = 3 * MAX_UPLOAD_BYTES + 64 * 1024
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'; "
        "object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
# A refused page link (CursorRefused: changed, another list's or filters', or given out before cursors named
# their list) in a person's words, the same on every page, shown beside a link to the list's first page.
PAGE_LINK_REFUSED = (
    "That page link belongs to another list or other filters, or was changed: start from the first page."
)
INTERNAL = CloseloopError("Something went wrong on our side; it is logged. Try again in a moment.")
NAV = (
    ("/dashboard", "Loop queue"),
    ("/dashboard/responses", "Responses"),
    ("/dashboard/campaigns", "Campaigns"),
    ("/dashboard/held", "Held answers"),
    ("/dashboard/people", "People"),
    ("/dashboard/tokens", "API tokens"),
)


@dataclass
class Ctx:
    """What a dashboard view receives."""

    person: Person
    request: Request
    query: dict[str, str]  # query string, first values
    form: dict[str, str]  # POST form fields, first values ({} for GET)
    form_lists: dict[str, list[str]]
    csrf: str  # the token every form must carry as <input type="hidden" name="csrf">
    now: float  # time.time() of the request


def view(
    blueprint: Blueprint,
    path: str,
    *,
    methods: list[str] | None = None,
    change: bool = False,
    uploads: bool = False,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register `fn(ctx, **url_params) -> Response` as a dashboard route.

    With `uploads=True` a POST may also be multipart/form-data (a form with a file): `ctx.form` holds
    its text fields (the `csrf` token among them) and the view reads the file from the request's raw
    body, as the admin API does. Such a view's forms are read up to MAX_UPLOAD_FORM_BYTES (a pasted text
    field too), so a file or paste over the import's limit reaches the view, which says so by its field.

    Before the view runs: no valid session -> 303 to the sign-in page with `next` (a GET's own path
    and query; for a POST, the dashboard page it was posted from). A POST needs the session's CSRF
    token in the form's `csrf` field (403 page otherwise) and, with `change=True`, the admin role
    (a viewer gets the 403 page). A CloseloopError raised by the view becomes the error page with
    its status and message; any other exception is a bug: logged, and the error page says 500 in
    generic words.
    """
    methods = methods or ["GET"]
    posts = "POST" in methods

    def register(fn: Callable[..., Response]) -> Callable[..., Response]:
        def guarded(**params: str) -> Response:
            request = blueprint.current_request
            now = time.time()
            signed = None
            try:
                signed = sessions.check_session(request.headers.get("cookie"), now)
                if signed is None:
                    return redirect(f"{sessions.SIGN_IN}?{urlencode({'next': _return_path(request)})}")
                form_lists: dict[str, list[str]] = {}
                if request.method == "POST":
                    form_lists = _post_form(request, uploads)
                    check_origin(request)
                    if change and not signed.person.is_admin:
                        raise Forbidden("Your role is viewer: you can see everything here but change nothing.")
                    if not sessions.check_csrf(signed, (form_lists.get("csrf") or [""])[0]):
                        raise Forbidden("This form has expired or did not come from this dashboard: reload the page.")
                ctx = Ctx(
                    person=signed.person,
                    request=request,
                    query=_query(request),
                    form={name: values[0] for name, values in form_lists.items() if values},
                    form_lists=form_lists,
                    csrf=signed.csrf,
                    now=now,
                )
                return fn(ctx, **_checked_path(params))
            except CloseloopError as exc:
                return error_page(exc, signed.person if signed else None, signed.csrf if signed else "", request)
            except Exception:
                logger.exception("dashboard %s %s failed", request.method, path)
                return error_page(INTERNAL, signed.person if signed else None, signed.csrf if signed else "", request)

        guarded.__name__, guarded.__doc__ = fn.__name__, fn.__doc__
        extra = {"content_types": FORM + (UPLOAD if uploads else [])} if posts else {}
        blueprint.route(path, methods=methods, **extra)(guarded)
        return fn

    return register


def page(ctx: Ctx, template: str, *, status: int = 200, **context: Any) -> Response:
    """templates/dashboard/<template> in the layout, for the signed-in person, with the dashboard's HTML headers."""
    return _render(template, status, ctx.person, ctx.csrf, _current_path(ctx.request), context)


def public_page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A page for someone not signed in (sign-in pages): the layout without navigation."""
    return _render(template, status, None, context.pop("csrf", ""), "", context)


def redirect(location: str) -> Response:
    """303 See Other: after a POST the browser GETs `location`."""
    return Response(
        body="",
        status_code=303,
        headers={"Location": location, "Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"},
    )


def error_page(
    exc: CloseloopError,
    person: Person | None,
    csrf: str,
    request: Request | None = None,
    back: tuple[str, str] | None = None,
) -> Response:
    """The dashboard's page for a refused request: the error's status and its message, in words; `back` is
    (a dashboard path, its link text) to the page the request came from, so nobody resends a refused form."""
    status = exc.status if 400 <= exc.status < 600 else 500
    restart = isinstance(exc, CursorRefused) and person is not None
    response = _render(
        "error.html",
        status,
        person,
        csrf,
        _current_path(request) if request is not None and person else "",
        {
            "status": status,
            "message": in_words(exc),
            "sign_in_again": status in (400, 410) and person is None,
            "back": back if person else None,
            "first_page": first_page(request) if restart and request is not None else "",
        },
    )
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def refused_before_view(status: int, message: str) -> Response:
    """The error page for what chalice answers before any view runs (415, 405, an uncaught exception),
    in words for the person at the page rather than chalice's."""
    if status == 415:
        message = "This form was not sent as the dashboard's pages send it: reload the page and try again."
    elif status >= 500:
        message = INTERNAL.message
    error = CloseloopError(message)
    error.status = status
    return error_page(error, None, "")


def _render(template: str, status: int, person: Person | None, csrf: str, current: str, context: dict) -> Response:
    nav = [
        {
            "href": href,
            "label": label,
            "current": current == href or (href != "/dashboard" and current.startswith(href)),
        }
        for href, label in NAV
    ]
    body = render(f"dashboard/{template}", person=person, csrf=csrf, nav=nav if person else [], **context)
    return Response(body=body, status_code=status, headers=dict(HEADERS))


def in_words(exc: CloseloopError) -> str:
    """What a person reads for an error: a refused page link in the dashboard's words, the rest as raised."""
    return PAGE_LINK_REFUSED if isinstance(exc, CursorRefused) else exc.message


def first_page(request: Request) -> str:
    """This page's address without its `cursor`: where a list starts again after a refused page link."""
    query = request.query_params or {}
    pairs = [(name, value) for name in query if name != "cursor" for value in query.getlist(name)]
    return _current_path(request) + (f"?{urlencode(pairs)}" if pairs else "")


def _current_path(request: Request) -> str:
    """The request's path as the browser sent it (chalice gives the route's template and its parameters)."""
    path = request.context.get("resourcePath", "/dashboard")
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def _return_path(request: Request) -> str:
    """Where sign-in should come back to: this page for a GET, the page a POST came from otherwise."""
    if request.method == "GET":
        query = request.query_params or {}
        pairs = [(name, value) for name in query for value in query.getlist(name)]
        path = _current_path(request) + (f"?{urlencode(pairs)}" if pairs else "")
    else:
        referer = urlsplit(request.headers.get("referer") or "")
        path = referer.path + (f"?{referer.query}" if referer.query else "")
    return sessions.safe_next(path)


def _query(request: Request) -> dict[str, str]:
    query = request.query_params or {}
    values = {name: query.getlist(name)[0] for name in query}
    for name, value in values.items():
        if not (name + value).isprintable() or "\ufffd" in name + value:
            raise ValidationError(f"{name[:60]!r} holds a control character or bytes that are not UTF-8.", name[:60])
    return values


def _post_form(request: Request, uploads: bool) -> dict[str, list[str]]:
    content_type = request.headers.get("content-type") or ""
    if uploads and content_type.split(";")[0].strip().lower() in UPLOAD:
        return _multipart_fields(content_type, request.raw_body or b"")
    form = parse_form(request.raw_body, MAX_UPLOAD_FORM_BYTES) if uploads else parse_form(request.raw_body)
    if form is None:
        raise PayloadTooLarge("This form is larger than any the dashboard sends.")
    return form


def _multipart_fields(content_type: str, raw: bytes) -> dict[str, list[str]]:
    """The text fields of a multipart/form-data body (RFC 7578); file parts are left to the view."""
    if len(raw) > MAX_UPLOAD_FORM_BYTES:
        raise PayloadTooLarge(f"At most {MAX_UPLOAD_BYTES // 1024 // 1024} MB per upload; split the file.")
    message = email_parser.BytesParser(policy=email_policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields: dict[str, list[str]] = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if name and part.get_filename() is None:
            payload = part.get_payload(decode=True) or b""
            fields.setdefault(str(name), []).append(payload.decode("utf-8", errors="replace"))
    return fields


def check_origin(request: Request) -> None:
    """A browser names the page a POST comes from; another site's page never changes anything here."""
    if from_another_site(request.headers, base_url()):
        origin = (request.headers.get("origin") or "").rstrip("/")
        ours = urlsplit(base_url())
        if origin.startswith(("http://", "https://")) and len(origin) <= 200:
            raise Forbidden(
                f"This form was sent from a page of {origin}, and the dashboard is at {ours.scheme}://{ours.netloc}: "
                f"open {ours.scheme}://{ours.netloc}/dashboard and send it from there."
            )
        raise Forbidden("This form was sent from another site.")


def _checked_path(params: dict[str, str]) -> dict[str, str]:
    """The path's values as typed (a page says "No response '<x>'", not '%3Cx%3E'); NotFound for one
    no id can be."""
    values = {name: unquote(value, errors="replace") for name, value in params.items()}
    for name, value in values.items():
        if len(value) > 320 or not value.isprintable() or "\ufffd" in value:
            raise NotFound(f"No {name.removesuffix('_id').replace('_', ' ')} {value[:60]!r}.", name)
    return values


def textarea_lines(text: str) -> list[str]:
    """One entry per non-blank line of a textarea, without the spaces around it. A textarea's lines end in
    CR LF, CR or LF only: a U+2028 typed or pasted into a choice stays in it, for the API to refuse by name
    (str.splitlines would split the choice in two and save both)."""
    return [line.strip() for line in _LINE_END.split(text) if line.strip()]


_LINE_END = re.compile(r"\r\n|\r|\n")
