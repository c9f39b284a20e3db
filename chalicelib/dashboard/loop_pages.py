"""Working the loop in the browser: the loop queue (home), the responses list with its filters, one
response with its loop actions, and the CSV export of the list as filtered.

Each page calls the admin API's use cases (admin.api: list_responses, get_response, set_loop,
responses_csv) or the plain queries of its feature (loop.casework, insight.falling): no rule is
copied here. This module turns form fields into the API's query and the answers into pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response

from chalicelib.core.config import get_settings
from chalicelib.core.counters import plain
from chalicelib.core.errors import CloseloopError, Conflict, ValidationError
from chalicelib.core.lazy import OnFirstUse
from chalicelib.dashboard.web import Ctx, in_words, page, redirect, view

if TYPE_CHECKING:
    from chalicelib.campaigns.campaigns import CampaignView
    from chalicelib.loop.casework import Case
    from chalicelib.loop.followups import CaseChanged

api = OnFirstUse("chalicelib.admin.api")  # cold start: the admin API's use cases, on request
auth = OnFirstUse("chalicelib.admin.auth")  # cold start: the caller of a loop change, on request
campaigns = OnFirstUse("chalicelib.campaigns.campaigns")  # cold start: campaigns are read on request
casework = OnFirstUse("chalicelib.loop.casework")  # cold start: the loop queue's queries, on request
falling = OnFirstUse("chalicelib.insight.falling")  # cold start: the falling response rates, on request
followups = OnFirstUse("chalicelib.loop.followups")  # cold start: excerpts of comments, on request
zoneinfo = OnFirstUse("zoneinfo")  # cold start: time zones load only for a page that shows times

routes = Blueprint(__name__)
MAX_CAMPAIGNS = 100
PAGE_SIZE = 25
# The responses page's filter fields, in the order the form shows them.
FILTERS = ("campaign", "category", "loop_status", "since", "until", "property", "value", "theme", "q")
# What a CX lead may record, as the form offers it, and the loop status each one sets.
ACTIONS = {
    "contacted": ("contacted", "Contacted: we talked to them or wrote to them"),
    "resolved": ("resolved", "Resolved: the problem is dealt with"),
    "reopen": ("acknowledged", "Reopen: more is needed"),
}
SAVED = {"contacted": "Marked contacted.", "resolved": "Marked resolved.", "reopen": "Reopened."}
# What the form offers for each loop status: an open or contacted case is contacted (again) or resolved;
# only a resolved case is reopened (followups.set_loop_status refuses the rest).
OFFERED = {"resolved": ("reopen",)}
OPEN_ACTIONS = ("contacted", "resolved")
NO_RESPONSES = ("draft", "scheduled")


@dataclass(frozen=True)
class QueueRow:
    """A waiting case as the queue shows it: `left` seconds until its target (negative: overdue)."""

    case: Case
    left: float

    @property
    def overdue(self) -> bool:
        return self.left <= 0

    @property
    def segments(self) -> list[tuple[str, str]]:
        """The customer's values of the campaign's segment properties ("–" when they have none)."""
        properties = plain(self.case.invitation.properties)
        return [(name, str(properties.get(name, "–"))) for name in self.case.campaign.segments]

    @property
    def comment(self) -> str:
        return followups.excerpt(self.case.invitation.comment)


def answered_campaigns() -> list[CampaignView]:
    """Campaigns that may hold responses, newest first (one Query of the all-campaigns index)."""
    found, _ = campaigns.list_campaigns(MAX_CAMPAIGNS, None)
    return [c for c in found if c.status not in NO_RESPONSES]


@view(routes, "/dashboard")
def loop_queue(ctx: Ctx) -> Response:
    """The loop queue: cases waiting (most overdue first), today's acknowledgements, falling response rates.

    Round trips: 1 Query for the campaigns, then per campaign that has sent (at most MAX_CAMPAIGNS)
    1 Query of the sparse open-cases index, 1 Query of today's responses (campaign-responses) and
    1 BatchGetItem of two week counter items. Nothing reads all responses.
    """
    sent = answered_campaigns()
    rows = [QueueRow(case, case.due_at - ctx.now) for case in casework.waiting_cases(sent)]
    acknowledged = [(c, i) for c in sent for i in casework.acknowledged_today(c, ctx.now)]
    acknowledged.sort(key=lambda pair: -float(pair[1].ack_sent_at))
    drops = [drop for c in sent if (drop := falling.falling_response_rate(c, ctx.now))]
    return page(
        ctx,
        "loop_queue.html",
        overdue=[r for r in rows if r.overdue],
        waiting=[r for r in rows if not r.overdue],
        acknowledged=acknowledged,
        drops=drops,
        campaigns=len(sent),
        duration=duration,
        zone_time=zone_time,
    )


@view(routes, "/dashboard/responses")
def responses(ctx: Ctx) -> Response:
    """The responses of one campaign, filtered, a page at a time (api.list_responses)."""
    sent = answered_campaigns()
    form = {name: ctx.query.get(name, "").strip() for name in FILTERS}
    campaign = _chosen(sent, form["campaign"])
    rows: list[dict] = []
    next_cursor = None
    error = None
    if campaign:
        form["campaign"] = campaign.id
        try:
            query = {**api_query(campaign, form), "limit": str(PAGE_SIZE), "cursor": ctx.query.get("cursor", "")}
            _, body = api.list_responses(campaign.id, query)
            rows, next_cursor = body["responses"], body["next_cursor"]
            rows = [{**row, "excerpt": followups.excerpt(row["comment"])} for row in rows]  # as the loop queue
        except ValidationError as exc:
            error = exc
    kept = {name: value for name, value in form.items() if value}
    return page(
        ctx,
        "loop_responses.html",
        status=error.status if error else 200,
        campaigns=sent,
        campaign=campaign,
        form=form,
        error=_field_error(error),
        rows=rows,
        paged=bool(ctx.query.get("cursor")),
        first_page=f"/dashboard/responses?{urlencode(kept)}",
        next_page=f"/dashboard/responses?{urlencode({**kept, 'cursor': next_cursor})}" if next_cursor else "",
        export=f"/dashboard/export.csv?{urlencode(kept)}",
        day_inputs={name: "date" if _is_day(form[name]) else "text" for name in ("since", "until")},
        categories=casework.CATEGORIES,
        loop_states=casework.LOOP_STATES,
        zone_time=zone_time,
    )


@view(routes, "/dashboard/export.csv")
def export_csv(ctx: Ctx) -> Response:
    """The responses CSV as api.responses_csv writes it, with the responses page's filters."""
    form = {name: ctx.query.get(name, "").strip() for name in FILTERS}
    campaign = campaigns.get_view(form["campaign"]) if form["campaign"] else None
    if campaign is None:
        raise ValidationError("Choose a campaign to export its responses.", "campaign")
    query = {**api_query(campaign, form), "limit": ctx.query.get("limit", ""), "cursor": ctx.query.get("cursor", "")}
    kept = {name: value for name, value in form.items() if value}
    status, text, headers = api.responses_csv(
        campaign.id,
        {k: v for k, v in query.items() if v},
        link=(f"{get_settings().base_url}/dashboard/export.csv", kept),
    )
    return Response(body=text, status_code=status, headers={**headers, "Cache-Control": "no-store"})


@view(routes, "/dashboard/responses/{response_id}")
def response_page(ctx: Ctx, response_id: str) -> Response:
    """One response: answers, comment, properties, acknowledgement, deliveries, loop history, actions."""
    return _response(ctx, response_id)


@view(routes, "/dashboard/responses/{response_id}/loop", methods=["POST"], change=True)
def set_loop(ctx: Ctx, response_id: str) -> Response:
    """Record a contact, a resolution or a reopening with a note (api.set_loop); an error keeps what was typed.

    The form carries the case's loop version as it was shown, so a change made since (in another tab, by a
    colleague) refuses this one with a 409 page showing the case as it is now, the note still in the form.
    """
    action = ctx.form.get("action", "")
    body: dict = {"status": ACTIONS[action][0] if action in ACTIONS else action, "note": ctx.form.get("note", "")}
    version = ctx.form.get("version", "").strip()
    if version:
        body["expected_version"] = int(version) if version.isascii() and version.isdigit() else version
    try:
        if action not in ACTIONS:
            raise ValidationError("Choose what happened: contacted, resolved or reopen.", "status")
        api.set_loop(
            response_id, body, auth.Caller(name=ctx.person.email, key=f"dashboard:{ctx.person.email}"), ctx.now
        )
    except (ValidationError, Conflict) as exc:
        return _response(ctx, response_id, error=exc)
    return redirect(f"/dashboard/responses/{quote(response_id, safe='')}?saved={action}#history")


def offered_actions(loop_status: str | None) -> dict[str, tuple[str, str]]:
    """The actions the form offers for a case in this loop status (OFFERED), in ACTIONS' order."""
    return {name: ACTIONS[name] for name in OFFERED.get(loop_status or "", OPEN_ACTIONS)}


def _response(ctx: Ctx, response_id: str, error: CloseloopError | None = None) -> Response:
    _, body = api.get_response(response_id)
    response = body["response"]
    campaign = campaigns.get_campaign(response["campaign_id"])
    timezone = campaign.timezone if campaign else "UTC"
    reply_to = (campaign.options.get("reply_to") or "") if campaign else ""
    subject = f"Your feedback{' to ' + campaign.company if campaign and campaign.company else ''}"
    mailto = f"mailto:{quote(response['email'], safe='@')}?" + urlencode(
        {"subject": subject, **({"cc": reply_to} if reply_to else {})}, quote_via=quote
    )
    return page(
        ctx,
        "loop_response.html",
        status=error.status if error else 200,
        response=response,
        campaign=campaign,
        questions=_questions(campaign, response["answers"]),
        other_answers=other_answers(response["other_answers"]),
        deliveries=[delivery_row(d) for d in response["deliveries"]],
        reply_to=reply_to,
        mailto=mailto,
        actions=offered_actions(response["loop"]["status"]),
        form=ctx.form if error else {},
        error=_field_error(error, timezone),
        saved=SAVED.get(ctx.query.get("saved", ""), ""),
        zone_time=zone_time,
        timezone=timezone,
    )


def changed_in_words(changed: CaseChanged, timezone: str) -> str:
    """A refused stale change in a person's words: who changed the case, to what and when (in `timezone`)."""
    latest = changed.latest
    what = f": {latest['by']} marked it {latest['status']} at {zone_time(latest['at'], timezone)}" if latest else ""
    return f"This case changed since you opened the page{what}. Nothing was saved; here it is now."


def _questions(campaign: CampaignView | None, answers: dict) -> list[tuple[str, object]]:
    """(question text, answer) for every answer, in the survey's order; unknown ids by their id."""
    texts = {q.id: q.text for q in campaign.survey.questions} if campaign else {}
    ordered = [q for q in texts if q in answers] + sorted(set(answers) - set(texts))
    return [(texts.get(q, q), answers[q]) for q in ordered]


def other_answers(given: list) -> list[tuple[str, str]]:
    """(question text, answer) of answers imported from Delighted to questions the campaign does not ask,
    from Delighted's shape ({question: {text}, value: {free_response | scale | select_one | select_many}})."""
    shown = []
    for item in given:
        if not isinstance(item, dict):
            continue
        question = item.get("question") if isinstance(item.get("question"), dict) else {}
        value = item.get("value") if isinstance(item.get("value"), dict) else {}
        if "free_response" in value or "scale" in value:
            answer = str(value.get("free_response", value.get("scale")))
        else:
            many = value.get("select_many")
            chosen = many if isinstance(many, list) else [value.get("select_one")]
            answer = ", ".join(str(c.get("text")) if isinstance(c, dict) else str(c) for c in chosen if c)
        shown.append((str(question.get("text") or question.get("id") or "(a question)"), answer))
    return shown


def delivery_row(delivery: dict) -> dict:
    """A ledger entry in words: what was sent (alert by email or Slack, webhook), to whom, its state."""
    parts = delivery["key"].split("#")
    if parts[0] == "alert" and len(parts) >= 3:
        what, to = ("Alert by email", parts[3] if len(parts) > 3 else "") if parts[2] == "email" else ("Slack", "")
    elif parts[0] == "webhook" and len(parts) >= 3:
        what, to = "Webhook", parts[1]
    else:
        what, to = parts[0].capitalize(), ""
    event = parts[1] if parts[0] == "alert" else parts[-1]
    return {**delivery, "what": what, "to": to, "version": event.rpartition(".")[2]}


def api_query(campaign: CampaignView, form: dict[str, str]) -> dict[str, str]:
    """The admin API's query for the page's fields: days become ISO times in the campaign's zone, the
    property and its value become `name:value`; a day that is not one raises ValidationError on its field."""
    zone = zoneinfo.ZoneInfo(campaign.timezone)
    query = {name: form[name] for name in ("category", "loop_status", "theme", "q") if form.get(name)}
    for field, at, label in (("since", time(0), "Answered from"), ("until", time(23, 59, 59), "Answered until")):
        if not _is_day(form.get(field, "")):
            raise ValidationError(f"{label} is a day such as 2026-09-01.", field)
        if form.get(field):
            query[field] = datetime.combine(date.fromisoformat(form[field]), at, zone).isoformat()
    if query.get("since") and query.get("until") and form["since"] > form["until"]:
        raise ValidationError("Answered from is after Answered until.", "since")
    if form.get("property") or form.get("value"):
        if form.get("property") not in campaign.segments:
            raise ValidationError("Choose one of the campaign's segment properties.", "property")
        if not form.get("value"):
            raise ValidationError(f"Give the value of {form['property']} to keep.", "value")
        query["property"] = f"{form['property']}:{form['value']}"
    return query


def _is_day(value: str) -> bool:
    """Empty or a day: what an <input type="date"> may hold (anything else is shown as text, as typed)."""
    if not value:
        return True
    try:
        return date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _chosen(sent: list[CampaignView], wanted: str) -> CampaignView | None:
    """The campaign asked for (it may be older than the list shows), else the newest that has sent."""
    if wanted:
        return next((c for c in sent if c.id == wanted), None) or campaigns.get_view(wanted)
    return sent[0] if sent else None


def _field_error(error: CloseloopError | None, timezone: str = "UTC") -> dict | None:
    """The error as the templates show it, on the form field it concerns (the API's `status` is `action`);
    one that no field shows (a cursor from elsewhere, a case changed since the page was shown) stands above
    the form, a change's time in `timezone`."""
    if error is None:
        return None
    if isinstance(error, followups.CaseChanged):
        return {"field": "", "message": changed_in_words(error, timezone)}
    field = {"status": "action"}.get(error.field or "", error.field or "")
    return {"field": field, "message": in_words(error)}


def duration(seconds: float) -> str:
    """A case's clock in words, in hours up to three days (targets are in hours): "47 h 20 min", "4 days 2 h"."""
    minutes = int(abs(seconds) // 60)
    hours, mins = divmod(minutes, 60)
    if hours >= 72:
        days, hours = divmod(hours, 24)
        return f"{days} days {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def zone_time(epoch: float | None, timezone: str) -> str:
    """A moment in a campaign's time zone, for a person: "2026-11-30 14:05 Europe/Paris"."""
    if epoch is None:
        return "–"
    return f"{datetime.fromtimestamp(float(epoch), zoneinfo.ZoneInfo(timezone)):%Y-%m-%d %H:%M} {timezone}"
