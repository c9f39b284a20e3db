"""A campaign's settings: who receives its digest and how often, and the suppression list.

Every change goes through the admin API's use cases (chalicelib.admin.api): the digest form becomes
the body of PUT /api/campaigns/{id}/digest-recipients, the add form the body of POST /api/suppression
and the search the query of GET /api/suppression, so the page refuses what the API refuses, with the
same message next to the field it names. The suppression list is global: every campaign's settings
show the same list. Nothing here removes a suppression: an unsubscribe is never undone by an admin.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response

from chalicelib.campaigns import suppression
from chalicelib.core.errors import ValidationError
from chalicelib.core.lazy import OnFirstUse
from chalicelib.dashboard.web import Ctx, in_words, page, redirect, view

api = OnFirstUse("chalicelib.admin.api")  # cold start: the admin API's use cases, on request
auth = OnFirstUse("chalicelib.admin.auth")  # cold start: the caller of a suppression added, on request
campaigns = OnFirstUse("chalicelib.campaigns.campaigns")  # cold start: campaigns are read on request
digest_recipients = OnFirstUse("chalicelib.insight.digest_recipients")  # cold start: frequencies, on request

routes = Blueprint(__name__)
SEARCH_PAGE = 25
_ROW = re.compile(r"^recipients\[(\d+)\]\.email$")
_ITEM_FIELD = re.compile(r"^recipients\[(\d+)\](.*)$")


def _settings_path(campaign_id: str) -> str:
    return f"/dashboard/campaigns/{quote(campaign_id, safe='')}/settings"


@view(routes, "/dashboard/campaigns/{campaign_id}/settings")
def settings_page(ctx: Ctx, campaign_id: str) -> Response:
    return _page(ctx, campaign_id)


@view(routes, "/dashboard/campaigns/{campaign_id}/settings/digest", methods=["POST"], change=True)
def save_digest(ctx: Ctx, campaign_id: str) -> Response:
    removed = ctx.form_lists.get("remove", [])
    body, rows = digest_body(ctx.form, removed)
    try:
        api.set_digest_recipients(campaign_id, body, ctx.now)
    except ValidationError as exc:
        field = form_field(exc.field, rows)
        return _page(ctx, campaign_id, 400, digest_errors={field: exc.message}, typed=ctx.form, removed=removed)
    return redirect(f"{_settings_path(campaign_id)}?done=digest#digest")


@view(routes, "/dashboard/campaigns/{campaign_id}/settings/suppression", methods=["POST"], change=True)
def add_suppression(ctx: Ctx, campaign_id: str) -> Response:
    campaigns.get_view(campaign_id)
    caller = auth.Caller(name=ctx.person.email, key=f"dashboard:{ctx.person.email}")
    try:
        fields = {name: ctx.form[name] for name in suppression.ADD_BODY["properties"] if name in ctx.form}
        _, body = api.add_suppression(fields, ctx.now, caller)
    except ValidationError as exc:
        return _page(ctx, campaign_id, 400, add_errors={exc.field or "": exc.message}, add_typed=ctx.form)
    query = {"email_prefix": body["suppression"]["email"], "done": "suppressed" if body["added"] else "already"}
    return redirect(f"{_settings_path(campaign_id)}?{urlencode(query)}#suppression")


def digest_body(form: dict[str, str], removed: list[str]) -> tuple[dict[str, Any], list[int]]:
    """The body of PUT /api/campaigns/{id}/digest-recipients from the form's rows (`recipients[i].email`,
    `recipients[i].frequency`, `was-i`: the frequency the page showed, a `remove` box per row), and the
    form row of each item of the body, so an error naming an item is shown next to its row. A row left
    blank (the empty "add" row) is no item. A row whose frequency is as the page showed it is sent
    without one (kept as it is), so a recipient's own choice made while the page was open is not undone;
    a recipient who stopped the digest has none to choose."""
    items: list[dict[str, Any]] = []
    rows: list[int] = []
    for index in sorted(int(m.group(1)) for name in form if (m := _ROW.match(name))):
        email = form[f"recipients[{index}].email"]
        if str(index) in removed or not email.strip():
            continue
        item: dict[str, Any] = {"email": email}
        frequency = form.get(f"recipients[{index}].frequency")
        if frequency is not None and frequency != form.get(f"was-{index}"):
            item["frequency"] = frequency
        items.append(item)
        rows.append(index)
    return {"recipients": items}, rows


def form_field(field: str | None, rows: list[int]) -> str:
    """The form's name for the body's field at fault: `recipients[1].email` of the body may be row 3."""
    found = _ITEM_FIELD.match(field or "")
    if found and int(found.group(1)) < len(rows):
        return f"recipients[{rows[int(found.group(1))]}]{found.group(2)}"
    return field or ""


def _stray(errors: dict[str, str], rows: int) -> dict[str, str]:
    """The errors that name no input of the digest form (its rows are 0 to `rows`, the last for a new one)."""
    return {
        field: message
        for field, message in errors.items()
        if not (found := _ITEM_FIELD.match(field)) or int(found.group(1)) > rows
    }


def _page(
    ctx: Ctx,
    campaign_id: str,
    status: int = 200,
    *,
    digest_errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    removed: list[str] | None = None,
    add_errors: dict[str, str] | None = None,
    add_typed: dict[str, str] | None = None,
) -> Response:
    campaign = campaigns.get_view(campaign_id)
    _, listed = api.list_digest_recipients(campaign_id)
    query = {k: v for k, v in ctx.query.items() if k in ("email_prefix", "cursor")}
    search_errors: dict[str, str] = {}
    try:
        _, found = api.search_suppressions({**query, "limit": str(SEARCH_PAGE)})
    except ValidationError as exc:
        search_errors[exc.field or "email_prefix"] = in_words(exc)
        status, found = 400, {"suppressions": [], "next_cursor": None}
    more = None
    prefix = {"email_prefix": query["email_prefix"]} if query.get("email_prefix") else {}
    if found["next_cursor"]:
        following = {**prefix, "cursor": found["next_cursor"]}
        more = f"{_settings_path(campaign_id)}?{urlencode(following)}#suppression"
    return page(
        ctx,
        "settings_campaign.html",
        status=status,
        c=campaign,
        recipients=listed["recipients"],
        frequencies=list(digest_recipients.LABELS.items()),
        digest_errors=digest_errors or {},
        digest_stray=_stray(digest_errors or {}, len(listed["recipients"])),
        typed=typed,
        removed=removed or [],
        prefix=query.get("email_prefix", ""),
        paged=bool(query.get("cursor")),
        suppressions=found["suppressions"],
        campaign_names=campaigns.names(s["campaign_id"] for s in found["suppressions"] if s.get("campaign_id")),
        more=more,
        first_page=f"{_settings_path(campaign_id)}{'?' + urlencode(prefix) if prefix else ''}#suppression",
        search_errors=search_errors,
        add_errors=add_errors or {},
        add_typed=add_typed or {},
        reasons=list(suppression.MANUAL_REASONS.items()),
        sources=suppression.SOURCES,
        done=ctx.query.get("done"),
        settings_path=_settings_path(campaign_id),
    )
