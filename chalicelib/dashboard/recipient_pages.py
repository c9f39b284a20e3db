"""A campaign's recipients in the browser: upload a CSV or paste addresses, follow a large import's
progress, read its report with every rejected row, download those rows to fix, and see before sending
who will get the survey and who will be skipped, and why.

An upload or a paste calls the admin API's import use case (admin.api.import_recipients) with the
body the API would get: the multipart form as it came, or the pasted text as a text/csv body (a list of
addresses as `header=absent`). So the parsing, charsets, delimiters, limits and messages are the API's;
a form over the import's size limit gets the page with the API's message by its field (413). The skip list is
sending.forecast's, which the send page reuses.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response

from chalicelib.core.config import get_settings
from chalicelib.core.errors import PayloadTooLarge, ValidationError
from chalicelib.core.lazy import OnFirstUse
from chalicelib.dashboard import words
from chalicelib.dashboard.web import UPLOAD, Ctx, page, redirect, view

api = OnFirstUse("chalicelib.admin.api")  # cold start: the admin API's use cases, on request
auth = OnFirstUse("chalicelib.admin.auth")  # cold start: the caller an import is counted against
campaigns = OnFirstUse("chalicelib.campaigns.campaigns")  # cold start: campaigns are read on request
forecast = OnFirstUse("chalicelib.sending.forecast")  # cold start: the skip list, on request
imports = OnFirstUse("chalicelib.sending.imports")  # cold start: an import's rejected rows, on request

routes = Blueprint(__name__)
RECIPIENTS_PAGE = 100
REJECTED_SHOWN = 1000  # the page lists this many rejected rows; the CSV has them all
UPLOAD_FIELD = "file"
PASTE_FIELD = "paste"
OUTCOMES = {
    "will get it": "Will get it",
    "sent": "Sent",
    "skipped": "Skipped",
    "failed": "Failed",
    "answered, not mailed": "Answered through the API, not mailed",  # forecast.NOT_MAILED, imported on first use
}


def _base(campaign_id: str) -> str:
    return f"/dashboard/campaigns/{quote(campaign_id, safe='')}"


@view(routes, "/dashboard/campaigns/{campaign_id}/recipients")
def recipients(ctx: Ctx, campaign_id: str) -> Response:
    """The upload and paste forms, then a page of recipients with what will happen to each."""
    return _recipients_page(ctx, campaign_id)


@view(routes, "/dashboard/campaigns/{campaign_id}/recipients", methods=["POST"], change=True, uploads=True)
def import_recipients(ctx: Ctx, campaign_id: str) -> Response:
    """A CSV file (multipart) or pasted text, through the admin API's import; then its progress page."""
    content_type = ctx.request.headers.get("content-type") or ""
    uploading = content_type.split(";")[0].strip().lower() in UPLOAD
    pasted = ctx.form.get(PASTE_FIELD, "")
    caller = auth.Caller(name=ctx.person.email, key=f"dashboard:{ctx.person.email}")
    try:
        if uploading:
            _, body = api.import_recipients(campaign_id, content_type, ctx.request.raw_body, ctx.now, caller)
        else:
            if not pasted.strip():
                raise ValidationError(
                    "Paste addresses, one a line or separated by , or ;, or CSV text with a header.", PASTE_FIELD
                )
            _, body = api.import_recipients(campaign_id, pasted_type(pasted), pasted.encode(), ctx.now, caller)
    except (ValidationError, PayloadTooLarge) as exc:
        field = UPLOAD_FIELD if uploading else PASTE_FIELD
        kept = "" if isinstance(exc, PayloadTooLarge) else pasted  # the page would be as large as the paste
        return _recipients_page(ctx, campaign_id, status=exc.status, errors={field: exc.message}, pasted=kept)
    return redirect(f"{_base(campaign_id)}/imports/{quote(body['import']['id'], safe='')}")


def pasted_type(text: str) -> str:
    """The Content-Type of pasted text: CSV text with its header as it is when its first line that is not
    blank reads as a header with an email column (imports.has_header, parse_csv's own reading); else a list
    of addresses, CSV without a header (RFC 4180's `header=absent`), whose rows are numbered as the lines
    the person sees, so a first line that is no address (`ana.example.com`, a name) is one rejected row
    and the addresses under it are imported."""
    return "text/csv; charset=utf-8" + ("" if imports.has_header(text) else "; header=absent")


def _recipients_page(
    ctx: Ctx, campaign_id: str, *, status: int = 200, errors: dict | None = None, pasted: str = ""
) -> Response:
    campaign = campaigns.get_view(campaign_id)
    scope = api.cursor_scope("recipients", campaign_id)
    cursor = api.decode_cursor(ctx.query, api.PAGE_CURSOR, scope)
    settings = get_settings()
    fates, following = forecast.forecast_page(campaign, cursor, RECIPIENTS_PAGE, ctx.now, settings)
    more = None
    if following:
        more = f"{_base(campaign_id)}/recipients?{urlencode({'cursor': api.encode_cursor(following, scope)})}"
    return page(
        ctx,
        "recipients_list.html",
        status=status,
        c=campaign,
        fates=fates,
        more=more,
        first_page=f"{_base(campaign_id)}/recipients" if cursor else "",
        outcomes=OUTCOMES,
        reason_text=words.reason_text,
        fatigue_text=words.fatigue_text,
        fatigue_days=campaign.fatigue_days(settings.fatigue_days),
        errors=errors or {},
        pasted=pasted,
        max_bytes=api.MAX_IMPORT_BYTES,
        too_large=api.IMPORT_TOO_LARGE,
        editable=ctx.person.is_admin and campaign.status != "cancelled",
    )


@view(routes, "/dashboard/campaigns/{campaign_id}/imports/{import_id}")
def import_page(ctx: Ctx, campaign_id: str, import_id: str) -> Response:
    """Progress while the chunks are written, then the report with each rejected row."""
    _, body = api.import_status(campaign_id, import_id)
    report = body["import"]
    rejected: list[dict] = []
    if report["status"] == "done" and report["rejected"]:
        _, rejected = imports.rejected_rows(import_id)
    return page(
        ctx,
        "recipients_import.html",
        c=campaigns.get_view(campaign_id),
        report=report,
        rejected=rejected[:REJECTED_SHOWN],
        base=_base(campaign_id),
        status_url=f"{_base(campaign_id)}/imports/{quote(import_id, safe='')}/status.json",
    )


@view(routes, "/dashboard/campaigns/{campaign_id}/imports/{import_id}/status.json")
def import_progress(ctx: Ctx, campaign_id: str, import_id: str) -> Response:
    """The import's progress as the admin API reports it (GET /api/campaigns/{id}/imports/{import_id})."""
    _, body = api.import_status(campaign_id, import_id)
    return _json(body)


@view(routes, "/dashboard/campaigns/{campaign_id}/imports/{import_id}/rejected.csv")
def rejected_csv(ctx: Ctx, campaign_id: str, import_id: str) -> Response:
    """The rejected rows to fix and upload again: the admin API's CSV."""
    status, text, headers = api.rejected_csv(campaign_id, import_id)
    return Response(body=text, status_code=status, headers={**headers, "Cache-Control": "no-store"})


def _json(body: dict[str, Any]) -> Response:
    return Response(
        body=json.dumps(body),
        status_code=200,
        headers={
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
