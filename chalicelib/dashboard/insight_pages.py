"""The campaigns list, one campaign's page with its trend chart, and the held answers to accept or dismiss.

The numbers come from the use cases the admin API calls (`insight.overview` gathers them); the
accept and dismiss decisions are `answers.held`'s. The trend chart is a small inline SVG drawn
here from the trend endpoint's weeks: no script, no build step, readable by a screen reader
(title, description, and the same numbers in a table below it); docs/architecture.md says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from chalice import Blueprint, Response

from chalicelib.core.config import get_settings
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.lazy import OnFirstUse
from chalicelib.dashboard.web import Ctx, error_page, page, redirect, view
from chalicelib.dashboard.words import reason_text

api = OnFirstUse("chalicelib.admin.api")  # cold start: the admin API's use cases, on request
held = OnFirstUse("chalicelib.answers.held")  # cold start: held answers, on request
campaigns = OnFirstUse("chalicelib.campaigns.campaigns")  # cold start: campaigns are read on request
nps = OnFirstUse("chalicelib.core.nps")  # cold start: NPS statistics, on request
digest = OnFirstUse("chalicelib.insight.digest")  # cold start: the digest's words and rules, on request
overview = OnFirstUse("chalicelib.insight.overview")  # cold start: a campaign's numbers, on request
stats = OnFirstUse("chalicelib.insight.stats")  # cold start: sending progress, on request

routes = Blueprint(__name__)
CAMPAIGNS_PAGE = 25
HELD_CAMPAIGNS = 25
HELD_SHOWN = 50
HELD_PATH = "/dashboard/held"
HELD_VIEW = ("campaign", "cursor")
"""The query of a view of the held list: which campaign (none: every campaign) and which page."""
PROBLEMS_SHOWN = 50
DONE = {
    "accepted": "Accepted: the answer counts now, once, and is acknowledged and alerted like any other "
    "(the counters move within a minute).",
    "dismissed": "Dismissed: it stays out of the scores.",
}

# the chart's box, in SVG user units: the viewBox is about as wide as a phone, so its text stays legible
WIDTH, HEIGHT = 360, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 28
GRID = (100, 50, 0, -50, -100)


@view(routes, "/dashboard/campaigns")
def campaigns_list(ctx: Ctx) -> Response:
    query = {"limit": str(CAMPAIGNS_PAGE), **({"cursor": ctx.query["cursor"]} if ctx.query.get("cursor") else {})}
    _, body = api.list_campaigns(query)
    rows = [overview.campaign_row(c) for item in body["campaigns"] if (c := campaigns.get_campaign(item["id"]))]
    more = f"/dashboard/campaigns?{urlencode({'cursor': body['next_cursor']})}" if body["next_cursor"] else None
    return page(
        ctx,
        "insight_campaigns.html",
        rows=rows,
        more=more,
        paged="cursor" in query,
        signed=digest.signed,
        percent=_percent,
    )


@view(routes, "/dashboard/campaigns/{campaign_id}")
def campaign_page(ctx: Ctx, campaign_id: str) -> Response:
    found = overview.campaign_overview(campaign_id, ctx.now)
    waiting, more = held.list_held(campaign_id, HELD_SHOWN)
    _, problems = api.skipped(campaign_id, {"limit": str(PROBLEMS_SHOWN)})
    resent = ctx.query.get("resent")
    return page(
        ctx,
        "insight_campaign.html",
        o=found,
        sending=stats.sending_progress(found.stats),
        problems=problems["skipped"],
        problems_more=problems["next_cursor"] is not None,
        resent=(int(resent), ctx.query.get("more") == "1") if resent and resent.isdigit() else None,
        waiting=len(waiting),
        waiting_more=more is not None,
        reasons=sorted(Counter(entry.reason for entry in waiting).items(), key=lambda kv: (-kv[1], kv[0])),
        reason_text=held.REASONS,
        chart=trend_chart(found.trend["weeks"]),
        signed=digest.signed,
        percent=_percent,
        whole=nps.whole_points,
        days=overview.CHANGE_DAYS,
        sending_reason=reason_text,
        fatigue_days=found.campaign.fatigue_days(get_settings().fatigue_days),
    )


@view(routes, "/dashboard/held")
def held_list(ctx: Ctx) -> Response:
    """One campaign's held answers, newest first, or every campaign's (one Scan of the sparse index a page,
    however many campaigns there are), a page at a time; "Nothing is held" only once the list has been read
    to its end. Each decision's form carries this view, so the decision comes back to it."""
    chosen = ctx.query.get("campaign")
    scope = api.cursor_scope("held", chosen) if chosen else api.cursor_scope("held of every campaign")
    cursor = api.decode_cursor(ctx.query, api.PAGE_CURSOR, scope)
    if chosen:
        entries, after = held.list_held(chosen, HELD_SHOWN, cursor)
        groups = [{"campaign": campaigns.get_view(chosen), "entries": entries}]
    else:
        entries, after = held.list_every_held(HELD_SHOWN, cursor)
        groups = _by_campaign(entries)
    following = {"campaign": chosen} if chosen else {}
    more = f"{HELD_PATH}?{urlencode({**following, 'cursor': api.encode_cursor(after, scope)})}" if after else None
    return page(
        ctx,
        "insight_held.html",
        groups=groups,
        chosen=chosen,
        paged=cursor is not None,
        more=more,
        here=_held_view(ctx.query),
        done=DONE.get(ctx.query.get("done", "")),
        shown=HELD_SHOWN,
    )


def _by_campaign(entries: list) -> list[dict[str, Any]]:
    """Held answers grouped by campaign, the campaign with the latest activity first, each newest first."""
    groups: dict[str, list] = {}
    for entry in sorted(entries, key=lambda e: -e.at):
        groups.setdefault(entry.campaign_id, []).append(entry)
    found = ((campaigns.get_campaign(campaign_id), listed) for campaign_id, listed in groups.items())
    return [{"campaign": campaign, "entries": listed} for campaign, listed in found if campaign]


@view(routes, "/dashboard/held/{invitation_id}/accept", methods=["POST"], change=True)
def held_accept(ctx: Ctx, invitation_id: str) -> Response:
    return _decide(ctx, lambda: held.accept(invitation_id, ctx.person.email, ctx.now, get_settings()), "accepted")


@view(routes, "/dashboard/held/{invitation_id}/dismiss", methods=["POST"], change=True)
def held_dismiss(ctx: Ctx, invitation_id: str) -> Response:
    return _decide(ctx, lambda: held.dismiss(invitation_id, ctx.person.email, ctx.now), "dismissed")


def _decide(ctx: Ctx, decide: Callable[[], Any], done: str) -> Response:
    """Make the decision, then back to the view of the held list it was made from (the form's `back`): there
    it says what was done; a refused decision (decided already, or changed) links back to that view too."""
    back = _back_to(ctx.form.get("back", ""))
    try:
        entry = decide()
    except (Conflict, NotFound) as exc:
        return error_page(exc, ctx.person, ctx.csrf, ctx.request, back=(back or HELD_PATH, "Back to the held answers"))
    back = back or _held_view({"campaign": entry.campaign_id})
    return redirect(f"{back}{'&' if '?' in back else '?'}{urlencode({'done': done})}")


def _held_view(query: dict[str, str]) -> str:
    """The held list's address for a view: /dashboard/held with its campaign and page cursor, nothing else."""
    kept = {name: query[name] for name in HELD_VIEW if query.get(name)}
    return f"{HELD_PATH}?{urlencode(kept)}" if kept else HELD_PATH


def _back_to(raw: str) -> str | None:
    """The held list's view a form came from, or None: only /dashboard/held with a campaign and a page cursor,
    rebuilt from them, so a forged `back` cannot send anyone to another address."""
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or parts.fragment or parts.path != HELD_PATH:
        return None
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names) or not set(names) <= set(HELD_VIEW):
        return None
    return _held_view(dict(pairs))


def _percent(share: float | None) -> str:
    return "–" if share is None else digest.percent(share)


# --- the trend chart ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """An SVG trend chart's geometry in user units, and its words: `band` and `line` are SVG path data."""

    width: int
    height: int
    band: str
    line: str
    dots: list[dict[str, Any]]
    grid: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    title: str
    description: str


def trend_chart(weeks: list[dict[str, Any]]) -> Chart:
    """NPS per week as a line, its 95% interval as a band, from the trend endpoint's `weeks` (oldest first).

    A week without answers breaks the line and the band (no NPS is not an NPS of 0). Each `weeks`
    entry has `week` ("2026-W47"), `n`, `nps`, `low` and `high` in points (-100..100).
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(weeks))

    def x(i: int) -> float:
        return round(LEFT + (i + 0.5) * step, 1)

    def y(value: float) -> float:
        return round(TOP + (100 - value) / 200 * plot_h, 1)

    runs: list[list[int]] = []
    for i, week in enumerate(weeks):
        if week["nps"] is None:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    band, line = [], []
    for run in runs:
        if len(run) == 1:
            i, half = run[0], min(6.0, step / 3)
            low, high = y(weeks[i]["low"]), y(weeks[i]["high"])
            band.append(f"M{x(i) - half},{high}H{x(i) + half}V{low}H{x(i) - half}Z")
            continue
        top = [f"{x(i)},{y(weeks[i]['high'])}" for i in run]
        bottom = [f"{x(i)},{y(weeks[i]['low'])}" for i in reversed(run)]
        band.append("M" + "L".join(top + bottom) + "Z")
        line.append("M" + "L".join(f"{x(i)},{y(weeks[i]['nps'])}" for i in run))
    dots = [
        {"x": x(i), "y": y(w["nps"]), "text": f"W{w['week'][-2:]}: NPS {digest.signed(w['nps'])}"}
        for i, w in enumerate(weeks)
        if w["nps"] is not None
    ]
    last = len(weeks) - 1
    labels = [{"x": x(i), "text": f"W{w['week'][-2:]}"} for i, w in enumerate(weeks) if (last - i) % 2 == 0]
    grid = [{"y": y(v), "text": digest.signed(v) if v else "0"} for v in GRID]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        band=" ".join(band),
        line=" ".join(line),
        dots=dots,
        grid=grid,
        labels=labels,
        title=f"NPS per week, the last {len(weeks)} weeks",
        description=_describe(weeks),
    )


def _describe(weeks: list[dict[str, Any]]) -> str:
    """The chart in one or two sentences, for a screen reader: the range of weeks, the latest, the extremes."""
    if not weeks:
        return "No weeks to show."
    span = f"From week {weeks[0]['week']} to week {weeks[-1]['week']}"
    scored = [w for w in weeks if w["nps"] is not None]
    if not scored:
        return f"{span} there were no answers, so there is no NPS to draw."
    latest = scored[-1]
    low = min(scored, key=lambda w: w["nps"])
    high = max(scored, key=lambda w: w["nps"])
    return (
        f"{span}, {len(scored)} of {len(weeks)} weeks had answers. The latest, week {latest['week']}, "
        f"has NPS {digest.signed(latest['nps'])} (95% interval {digest.signed(latest['low'])} to "
        f"{digest.signed(latest['high'])}); the lowest was {digest.signed(low['nps'])} in week {low['week']}, "
        f"the highest {digest.signed(high['nps'])} in week {high['week']}. The shaded band is the 95% interval. "
        "The table below gives every week's numbers."
    )
