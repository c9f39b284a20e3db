"""A campaign's preview, its send page (now or at a time in its zone; unschedule, pause, resume, cancel)
and the resending of failed invitations.

The preview is the admin API's `preview` use case (the code that renders what is sent) and the survey
page's own renderer (`answers.survey_pages`). Its links go nowhere real: each placeholder link of the
preview becomes a page under `/preview/` that renders the real page and records nothing, with a banner
at its top (PREVIEW_BANNER) that the real pages do not carry. The email's
HTML part is its own document, served with its own headers (its inline styles need 'unsafe-inline';
it may be framed by the dashboard only) and shown in a sandboxed iframe. Sending, pausing, resuming,
cancelling and resending are the admin API's use cases, with its messages.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response

from chalicelib.core import i18n
from chalicelib.core.config import get_settings
from chalicelib.core.errors import CloseloopError, ValidationError
from chalicelib.core.lazy import OnFirstUse
from chalicelib.core.translations import language_name
from chalicelib.dashboard.web import Ctx, page, redirect, view
from chalicelib.dashboard.words import fatigue_text, reason_text
from chalicelib.web.render import render

api = OnFirstUse("chalicelib.admin.api")  # cold start: the admin API's use cases, on request
auth = OnFirstUse("chalicelib.admin.auth")  # cold start: the caller of a use case, on request
campaigns = OnFirstUse("chalicelib.campaigns.campaigns")  # cold start: campaigns are read on request
survey_pages = OnFirstUse("chalicelib.answers.survey_pages")  # cold start: the survey page's renderer, on request
models = OnFirstUse("chalicelib.store.models")  # cold start: a few recipient addresses, on request
imports = OnFirstUse("chalicelib.sending.imports")  # cold start: a running import's progress, on the send page
stats = OnFirstUse("chalicelib.insight.stats")  # cold start: a campaign's counts, on request
forecast = OnFirstUse("chalicelib.sending.forecast")  # cold start: who a send would reach, on the send page
zoneinfo = OnFirstUse("zoneinfo")  # cold start: time zones load only for the send page

routes = Blueprint(__name__)
WIDTHS = (("390", "Phone, 390 px"), ("1280", "Desktop, 1280 px"))
SAMPLE_EMAIL = "customer@example.com"
UNSENT = ("draft", "scheduled", "paused")  # the send page checks who a send would reach
RECIPIENTS_LISTED = 20
# The preview's documents in an iframe of the dashboard: the email's inline styles, no script anywhere.
EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'none'; "
    "frame-ancestors 'self'; base-uri 'none'"
)
SURVEY_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; script-src 'none'; "
    "form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
)
# Inside every preview document, above what a recipient sees, so a preview opened on its own is not
# taken for the live page; the inline style is the only one these documents' CSP allows.
PREVIEW_BANNER = (
    '<p class="preview-banner" style="margin:0;padding:8px 12px;background:#fff3bf;color:#1f2933;'
    'border-bottom:2px solid #8a6d00;font:600 15px/1.4 sans-serif;text-align:center">'
    "Preview: nothing you do here is recorded.</p>"
)
STATE_DONE = {
    "sending": "Sending: the invitations are going out now.",
    "scheduled": "Scheduled.",
    "pause": "Paused: nothing more goes out until you resume.",
    "resume": "Resumed.",
    "cancel": "Cancelled: nothing more goes out.",
    "unschedule": "Unscheduled: it is a draft again, and nothing goes out until you send or schedule it.",
}


def _caller(ctx: Ctx) -> Any:
    """The admin API's rate limits count a dashboard person's calls as theirs."""
    return auth.Caller(name=ctx.person.email, key=f"dashboard:{ctx.person.email}")


def _base(campaign_id: str) -> str:
    return f"/dashboard/campaigns/{quote(campaign_id, safe='')}"


# --- preview ------------------------------------------------------------------------------------


def parse_properties(text: str) -> dict[str, str] | None:
    """Sample properties typed as `name=value` lines: None when nothing is typed (the recipient's own
    are used). Raises ValidationError on the `properties` field for a line that is not name=value."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise ValidationError(f"Line {number} is not name=value: write one property per line.", "properties")
        found[name.strip()] = value.strip()
    return found or None


def _rewire(text: str, campaign_id: str, absolute: bool) -> str:
    """The preview's placeholder links (invitations.render_invitation with token "preview") to the
    dashboard's preview pages: the survey (with the clicked answer) and the unsubscribe page."""
    base_url = get_settings().base_url
    target = (base_url if absolute else "") + _base(campaign_id) + "/preview"
    return (
        text.replace(f"{base_url}/s/preview/t", f"{target}/survey")
        .replace(f"{base_url}/s/preview", f"{target}/survey")
        .replace(f"{base_url}/u/preview", f"{target}/unsubscribe")
    )


def _recipients(campaign_id: str) -> list[str]:
    """A few of the campaign's recipient addresses to choose from."""
    keys = [key.id for key in models.Invitation.by_campaign.query(campaign_id, limit=RECIPIENTS_LISTED)]
    found = models.Invitation.batch_get(keys, attributes_to_get=["id", "email"]) if keys else []
    return sorted({invitation.email for invitation in found})


@view(routes, "/dashboard/campaigns/{campaign_id}/preview")
def preview_page(ctx: Ctx, campaign_id: str) -> Response:
    """The preview for `?email=` (a recipient, by default the first listed) at `?width=`."""
    return _preview(ctx, campaign_id, ctx.query)


@view(routes, "/dashboard/campaigns/{campaign_id}/preview", methods=["POST"])
def preview_chosen(ctx: Ctx, campaign_id: str) -> Response:
    """The preview for the form's address and sample properties (lines of text: a query cannot carry them)."""
    return _preview(ctx, campaign_id, ctx.form)


def _preview(ctx: Ctx, campaign_id: str, fields: dict[str, str]) -> Response:
    campaign = campaigns.get_view(campaign_id)
    recipients = _recipients(campaign_id)
    typed = {"email": recipients[0] if recipients else SAMPLE_EMAIL, "properties": "", "locale": ""}
    typed |= {name: fields[name] for name in typed if name in fields}
    offered = i18n.campaign_locales(campaign.options)[1]
    width = fields.get("width") if fields.get("width") in dict(WIDTHS) else WIDTHS[0][0]
    errors: dict[str, str] = {}
    notice, email, chosen = None, None, {"email": typed["email"]}
    try:
        properties = parse_properties(typed["properties"])
        if properties is not None:
            chosen["properties"] = json.dumps(properties, ensure_ascii=False)
        asked = {"email": typed["email"], "properties": properties}
        if typed["locale"]:  # a language chosen here, else the one the recipient's locale property chooses
            asked["locale"] = chosen["locale"] = typed["locale"]
        _, email = api.preview(campaign_id, asked, ctx.now, _caller(ctx))
        email["text"] = _rewire(email["text"], campaign_id, absolute=True)
    except ValidationError as exc:
        field = "properties" if (exc.field or "").startswith("properties") else exc.field
        if field in ("email", "properties", "locale"):
            errors[field] = exc.message
        else:
            notice = f"{exc.field or 'The campaign'}: {exc.message}"
    return page(
        ctx,
        "send_preview.html",
        status=400 if (errors or notice) else 200,
        c=campaign,
        typed=typed,
        recipients=recipients,
        widths=WIDTHS,
        width=width,
        email=email,
        errors=errors,
        notice=notice,
        email_src=f"{_base(campaign_id)}/preview/email.html?{urlencode(chosen)}",
        base=_base(campaign_id),
        languages=[(code, language_name(code)) for code in offered] if len(offered) > 1 else [],
        survey_src=f"{_base(campaign_id)}/preview/survey" + (f"?l={typed['locale']}" if typed["locale"] else ""),
    )


def _framed(body: str, csp: str, status: int = 200) -> Response:
    """A preview document that only the dashboard's own pages may frame, with the preview's banner."""
    return Response(
        body=re.sub(r"<body[^>]*>", lambda found: found.group(0) + PREVIEW_BANNER, body, count=1),
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": csp,
            "X-Frame-Options": "SAMEORIGIN",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
            "X-Robots-Tag": "noindex, nofollow",
        },
    )


@view(routes, "/dashboard/campaigns/{campaign_id}/preview/email.html")
def preview_email(ctx: Ctx, campaign_id: str) -> Response:
    """The invitation's HTML part as it is sent, its links pointing at the preview pages; `?properties=` is
    JSON (the page's form read them from name=value lines)."""
    body: dict[str, Any] = {"email": ctx.query.get("email", "")}
    if "locale" in ctx.query:
        body["locale"] = ctx.query["locale"]
    if "properties" in ctx.query:
        try:
            body["properties"] = json.loads(ctx.query["properties"])
        except ValueError:
            body["properties"] = ctx.query["properties"]
    try:
        _, email = api.preview(campaign_id, body, ctx.now, _caller(ctx))
    except ValidationError as exc:
        body = render("dashboard/send_preview_refused.html", message=exc.message)
        return _framed(body, SURVEY_CSP, 400)
    return _framed(_rewire(email["html"], campaign_id, absolute=False), EMAIL_CSP)


@view(routes, "/dashboard/campaigns/{campaign_id}/preview/survey")
def preview_survey(ctx: Ctx, campaign_id: str) -> Response:
    """The survey page with the answer clicked in the email (`?a=`) chosen, posting to the preview."""
    campaign, language = survey_pages.in_language(campaigns.get_view(campaign_id), ctx.query.get("l"))
    values = survey_pages.clicked_values(campaign, ctx.query.get("a"))
    action = f"{_base(campaign_id)}/preview/survey"
    locale = survey_pages.page_locale(campaign, language)
    body = survey_pages.survey_html(campaign, action, ctx.csrf, values, script=False, language=language, locale=locale)
    return _framed(body, SURVEY_CSP)


@view(routes, "/dashboard/campaigns/{campaign_id}/preview/survey", methods=["POST"])
def preview_survey_submit(ctx: Ctx, campaign_id: str) -> Response:
    """Submit shows the thank-you page (or the answers to correct) and records nothing."""
    campaign, language = survey_pages.in_language(campaigns.get_view(campaign_id), ctx.form.get("l"))
    action = f"{_base(campaign_id)}/preview/survey"
    locale = survey_pages.page_locale(campaign, language)
    status, body = survey_pages.preview_submit(campaign, ctx.form_lists, action, ctx.csrf, locale)
    return _framed(body, SURVEY_CSP, status)


@view(routes, "/dashboard/campaigns/{campaign_id}/preview/unsubscribe")
def preview_unsubscribe(ctx: Ctx, campaign_id: str) -> Response:
    """The unsubscribe page the email links to, its button posting to the preview."""
    campaign = campaigns.get_view(campaign_id)
    action = f"{_base(campaign_id)}/preview/unsubscribe"
    body = render("unsubscribe.html", action=action, company=campaign.company, notice=None, csrf=ctx.csrf)
    return _framed(body, SURVEY_CSP)


@view(routes, "/dashboard/campaigns/{campaign_id}/preview/unsubscribe", methods=["POST"])
def preview_unsubscribe_submit(ctx: Ctx, campaign_id: str) -> Response:
    """The confirmation a person sees; nobody is suppressed."""
    campaigns.get_view(campaign_id)
    return _framed(render("unsubscribed.html", answered=False), SURVEY_CSP)  # from the invitation: not answered


# --- send, schedule, pause, resume, cancel, resend ------------------------------------------------


def local_time(value: str, timezone: str) -> str:
    """A datetime-local value ("2026-12-01T09:00") read in the campaign's `timezone`, as the ISO time with
    its offset that the admin API takes; anything else is passed on as typed, for the API's message.
    A wall time that a change of clock repeats is read with the offset before the change; one that it
    skips is a ValidationError on `at` (the API takes offsets, so only a page's local time can meet it)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        return value
    zone = zoneinfo.ZoneInfo(timezone)
    local = moment.replace(tzinfo=zone)
    try:
        skipped = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment
    except (OverflowError, ValueError):  # at the calendar's ends: the API's own message says why
        skipped = False
    if skipped:
        raise ValidationError(
            f"{moment:%Y-%m-%d %H:%M} does not exist in {timezone} (clocks go forward); choose another time.", "at"
        )
    return local.isoformat()


def _shown(moment: float, zone: Any) -> str | None:
    """`moment` as the campaign's local time; None for one outside the calendar (stored before it was refused)."""
    try:
        return datetime.fromtimestamp(moment, zone).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return None


def _importing(campaign_id: str) -> int | None:
    """Recipients that the campaign's running imports have still to write; None when none is running."""
    keys = list(models.ImportJob.running.query(campaign_id))
    if not keys:
        return None
    found = [imports.status(key.id) for key in keys]
    return sum(max(0, j["accepted"] - (j["invited"] or 0) - (j["already_invited"] or 0)) for j in found)


def _send_page(
    ctx: Ctx, campaign_id: str, *, status: int = 200, errors: dict | None = None, notice: str | None = None
) -> Response:
    campaign, settings = campaigns.get_view(campaign_id), get_settings()
    zone = zoneinfo.ZoneInfo(campaign.timezone)
    scheduled = _shown(campaign.send_at, zone) if campaign.send_at else None
    figures = stats.sending_progress(stats.campaign_stats(campaign_id))
    reach = forecast.summary(campaign, ctx.now, settings) if campaign.status in UNSENT else None
    if reach is not None and reach.complete:  # the invitations themselves, which the counters follow within a minute
        figures |= {"invited": reach.recipients, "pending": reach.pending}
    return page(
        ctx,
        "send_send.html",
        status=status,
        c=campaign,
        p=figures,
        reach=reach,
        now_local=datetime.fromtimestamp(ctx.now, zone).strftime("%Y-%m-%d %H:%M"),
        scheduled=scheduled,
        importing=_importing(campaign_id) if campaign.status in UNSENT else None,
        fatigue_days=campaign.fatigue_days(settings.fatigue_days),
        fatigue_text=fatigue_text,
        reason_text=reason_text,
        errors=errors or {},
        notice=notice,
        done=STATE_DONE.get(ctx.query.get("done", "")),
        form=ctx.form,
        base=_base(campaign_id),
    )


@view(routes, "/dashboard/campaigns/{campaign_id}/send")
def send_page(ctx: Ctx, campaign_id: str) -> Response:
    return _send_page(ctx, campaign_id)


@view(routes, "/dashboard/campaigns/{campaign_id}/send", methods=["POST"], change=True)
def send(ctx: Ctx, campaign_id: str) -> Response:
    campaign = campaigns.get_view(campaign_id)
    try:
        body = {"at": local_time(ctx.form.get("at", ""), campaign.timezone)} if ctx.form.get("when") == "at" else {}
        _, answer = api.send_campaign(campaign_id, body, ctx.now, _caller(ctx))
    except ValidationError as exc:
        return _send_page(ctx, campaign_id, status=400, errors={exc.field or "at": exc.message})
    except CloseloopError as exc:
        if exc.status != 409:
            raise
        return _send_page(ctx, campaign_id, status=409, notice=exc.message)
    return redirect(f"{_base(campaign_id)}/send?{urlencode({'done': answer['status']})}")


def _change(ctx: Ctx, campaign_id: str, action: str) -> Response:
    try:
        api.change_state(campaign_id, action, ctx.now)
    except CloseloopError as exc:
        if exc.status != 409:
            raise
        return _send_page(ctx, campaign_id, status=409, notice=exc.message)
    return redirect(f"{_base(campaign_id)}/send?{urlencode({'done': action})}")


@view(routes, "/dashboard/campaigns/{campaign_id}/pause", methods=["POST"], change=True)
def pause(ctx: Ctx, campaign_id: str) -> Response:
    return _change(ctx, campaign_id, "pause")


@view(routes, "/dashboard/campaigns/{campaign_id}/resume", methods=["POST"], change=True)
def resume(ctx: Ctx, campaign_id: str) -> Response:
    return _change(ctx, campaign_id, "resume")


@view(routes, "/dashboard/campaigns/{campaign_id}/unschedule", methods=["POST"], change=True)
def unschedule(ctx: Ctx, campaign_id: str) -> Response:
    return _change(ctx, campaign_id, "unschedule")


@view(routes, "/dashboard/campaigns/{campaign_id}/cancel", methods=["POST"], change=True)
def cancel(ctx: Ctx, campaign_id: str) -> Response:
    if ctx.form.get("confirm") != "yes":
        message = "Tick the box to confirm: a cancelled campaign sends nothing more, and cannot be restarted."
        return _send_page(ctx, campaign_id, status=400, errors={"confirm": message})
    return _change(ctx, campaign_id, "cancel")


@view(routes, "/dashboard/campaigns/{campaign_id}/resend-failed", methods=["POST"], change=True)
def resend_failed(ctx: Ctx, campaign_id: str) -> Response:
    _, answer = api.resend_failed(campaign_id, ctx.now, _caller(ctx))
    return redirect(f"{_base(campaign_id)}?{urlencode({'resent': answer['resent'], 'more': int(answer['more'])})}")
