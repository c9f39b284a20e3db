"""Routes for getting in and out of the dashboard and for who may: sign-in by emailed link, sign-out,
people (dashboard users and their roles) and named API tokens."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.core.config import get_settings
from chalicelib.core.errors import CloseloopError, NotFound, ValidationError
from chalicelib.core.lazy import OnFirstUse
from chalicelib.dashboard.web import FORM, Ctx, check_origin, error_page, page, public_page, redirect, view
from chalicelib.web import parse_form

auth = OnFirstUse("chalicelib.admin.auth")  # cold start: API tokens, the tokens page only
sessions = OnFirstUse("chalicelib.dashboard.sessions")  # cold start: links, cookies and mail, on request
people = OnFirstUse("chalicelib.dashboard.people")  # cold start: dashboard users (a transaction), the people pages only

routes = Blueprint(__name__)
MAX_TOKEN_NAME = 80
DONE = {
    "added": "Added: they can sign in now.",
    "changed": "Role changed: it applies from their next click.",
    "removed": "Removed: they are signed out and cannot sign in again.",
    "revoked": "Token revoked.",
}
MADE_ALREADY = "This token was made already and shown once; if you did not copy it, revoke it below and make another."
_PREFIX = re.compile(r"cl_[A-Za-z0-9_-]{4}")  # what auth.prefix_of keeps


# --- sign-in and sign-out ---------------------------------------------------------------------


@routes.route("/dashboard/sign-in", methods=["GET"])
def sign_in_form() -> Response:
    query = routes.current_request.query_params or {}
    next_path = sessions.safe_next(query.get("next"))
    return _sign_in_page(next_path, signed_out="signed_out" in query)


@routes.route("/dashboard/sign-in", methods=["POST"], content_types=FORM)
def request_link() -> Response:
    request = routes.current_request
    now = time.time()
    form = {name: values[0] for name, values in (parse_form(request.raw_body) or {}).items() if values}
    next_path = sessions.safe_next(form.get("next"))
    try:
        check_origin(request)
        if not sessions.check_form_csrf(form.get("csrf", ""), now, get_settings()):
            return _sign_in_page(next_path, form.get("email", ""), "This form had expired: send it again.", 403)
        client = (request.context.get("identity") or {}).get("sourceIp") or "unknown"
        email = sessions.request_link(form.get("email"), next_path, client, now)
    except ValidationError as exc:
        return _sign_in_page(next_path, form.get("email", ""), exc.message, 400)
    except CloseloopError as exc:
        return error_page(exc, None, "")
    return public_page("access_check_inbox.html", email=email, minutes=sessions.LINK_SECONDS // 60)


def _sign_in_page(next_path: str, email: str = "", error: str = "", status: int = 200, signed_out: bool = False):
    return public_page(
        "access_sign_in.html",
        status=status,
        csrf=sessions.form_csrf(time.time(), get_settings()),
        next_path=next_path,
        email=email[:320],
        error=error,
        signed_out=signed_out,
    )


@routes.route("/dashboard/sign-in/{token}", methods=["GET"])
def sign_in_link(token: str) -> Response:
    """What a mail scanner opens too: a page with a button, which spends nothing."""
    now = time.time()
    try:
        link = sessions.check_link(token, now)
    except CloseloopError as exc:
        return error_page(exc, None, "")
    return public_page(
        "access_link.html",
        csrf=sessions.link_csrf(token, now, get_settings()),
        email=link.email,
        action=f"{sessions.SIGN_IN}/{token}",
    )


@routes.route("/dashboard/sign-in/{token}", methods=["POST"], content_types=FORM)
def sign_in_with_link(token: str) -> Response:
    request = routes.current_request
    form = parse_form(request.raw_body) or {}
    try:
        check_origin(request)
        signed_in, next_path = sessions.consume_link(token, (form.get("csrf") or [""])[0], time.time())
    except CloseloopError as exc:
        return error_page(exc, None, "")
    response = redirect(next_path)
    response.headers["Set-Cookie"] = sessions.set_cookie(signed_in.session_id)
    return response


@view(routes, "/dashboard/sign-out", methods=["POST"])
def sign_out(ctx: Ctx) -> Response:
    """Any role may sign out (with the session's CSRF token, so another site cannot sign anyone out)."""
    session_id = sessions.session_id_of(ctx.request.headers.get("cookie"))
    if session_id:
        sessions.end_session(session_id)
    response = redirect(f"{sessions.SIGN_IN}?signed_out=1")
    response.headers["Set-Cookie"] = sessions.clear_cookie()
    return response


# --- people -----------------------------------------------------------------------------------


@view(routes, "/dashboard/people")
def people_page(ctx: Ctx) -> Response:
    return _people(ctx)


def _people(ctx: Ctx, status: int = 200, error: CloseloopError | None = None) -> Response:
    return page(
        ctx,
        "access_people.html",
        status=status,
        people=people.list_people(),
        roles=people.ROLES,
        done=DONE.get(ctx.query.get("done", ""), ""),
        error=error,
        form=ctx.form if error else {},
    )


@view(routes, "/dashboard/people", methods=["POST"], change=True)
def add_person(ctx: Ctx) -> Response:
    try:
        people.add_person(ctx.form.get("email"), ctx.form.get("name", ""), ctx.form.get("role"), ctx.now)
    except CloseloopError as exc:
        return _people(ctx, exc.status, exc)
    return redirect("/dashboard/people?done=added")


@view(routes, "/dashboard/people/role", methods=["POST"], change=True)
def change_role(ctx: Ctx) -> Response:
    people.set_role(ctx.form.get("email", ""), ctx.form.get("role"), ctx.now)
    return redirect("/dashboard/people?done=changed")


@view(routes, "/dashboard/people/remove", methods=["POST"], change=True)
def remove_person(ctx: Ctx) -> Response:
    people.remove_person(ctx.form.get("email", ""))
    return redirect("/dashboard/people?done=removed")


# --- API tokens -------------------------------------------------------------------------------


@view(routes, "/dashboard/tokens")
def tokens_page(ctx: Ctx) -> Response:
    return _tokens(ctx)


def _tokens(ctx: Ctx, status: int = 200, minted: str = "", error: str = "", refused: str = "") -> Response:
    return page(
        ctx,
        "access_tokens.html",
        status=status,
        tokens=auth.list_tokens(),
        minted=minted,
        minted_prefix=auth.prefix_of(minted),
        error=error,
        refused=refused,
        done=_revoked(ctx.query) if ctx.query.get("done") == "revoked" else "",
        name=ctx.form.get("name", "") if error else "",
        once=sessions.form_nonce(),
    )


def _revoked(query: dict[str, str]) -> str:
    """The notice after a revocation, naming the token by its name and prefix (from the redirect's query)."""
    name = " ".join(query.get("name", "").split())[:MAX_TOKEN_NAME]
    prefix = query.get("prefix", "")
    which = f"{prefix}…" if _PREFIX.fullmatch(prefix) else "made before prefixes were kept"
    return f"Token revoked: “{name}” ({which})." if name else DONE["revoked"]


@view(routes, "/dashboard/tokens", methods=["POST"], change=True)
def mint_token(ctx: Ctx) -> Response:
    """The new token is on this response only (no-store): it is shown once and kept as a hash. The form's
    nonce (`once`) makes one token at most: a reload, Back and Forward or a second click posts it again
    and is refused (409), so no second token with the same name appears."""
    name = " ".join(ctx.form.get("name", "").split())
    if not name or len(name) > MAX_TOKEN_NAME or not name.isprintable():
        return _tokens(ctx, 400, error=f"Name the token (1 to {MAX_TOKEN_NAME} characters), e.g. what will use it.")
    session_id = sessions.session_id_of(ctx.request.headers.get("cookie")) or ""
    nonce = ctx.form.get("once", "")
    if not sessions.spend_form_nonce(session_id, nonce):
        return _tokens(ctx, 409, refused=MADE_ALREADY)
    try:
        token = auth.mint_token(name, ctx.now, created_by=ctx.person.email)
    except Exception:
        sessions.unspend_form_nonce(session_id, nonce)
        raise
    return _tokens(ctx, 201, minted=token)


@view(routes, "/dashboard/tokens/revoke", methods=["POST"], change=True)
def revoke_token(ctx: Ctx) -> Response:
    revoked = auth.revoke_token(ctx.form.get("token", ""))
    if revoked is None:
        raise NotFound("No such token: it may have been revoked already.", "token")
    query = {"done": "revoked", "name": revoked.name, **({"prefix": revoked.prefix} if revoked.prefix else {})}
    return redirect(f"/dashboard/tokens?{urlencode(query)}")
