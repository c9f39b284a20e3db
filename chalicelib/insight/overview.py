"""A campaign at a glance, for the dashboard's campaign pages: the metrics, trend and stats the admin
API returns, the change of NPS in the `nps` module's words, and the digest's segments and themes.

Nothing is computed twice: the numbers are `reports.metrics_for` and `reports.trend_for` (the
metrics and trend endpoints), `stats.campaign_stats` (the stats endpoint), `nps.compare` and
`nps.describe_change` (as the digest words a change), `digest.segment_groups` (weakest and small
segments) and `digest.top_themes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from chalicelib.campaigns.campaigns import CampaignView, load_campaign, view
from chalicelib.core import counters, nps
from chalicelib.insight import digest, reports, stats
from chalicelib.store.counts import read

CHANGE_DAYS = 28
"""NPS of the last CHANGE_DAYS days (today included) is compared with the CHANGE_DAYS before."""
TREND_WEEKS = digest.TREND_WEEKS


@dataclass(frozen=True)
class Change:
    """NPS of the last CHANGE_DAYS days against the CHANGE_DAYS before, and the verdict in words."""

    current: nps.NpsSummary
    previous: nps.NpsSummary
    words: str
    since: str  # the first day of the current period, ISO


@dataclass(frozen=True)
class Overview:
    """What the campaign page shows; `metrics`, `trend` and `stats` are the admin API's JSON bodies."""

    campaign: CampaignView
    metrics: dict[str, Any]
    trend: dict[str, Any]
    stats: dict[str, Any]
    change: Change | None  # None when the survey has no NPS question
    segments: list[digest.SegmentGroup]
    themes: list[digest.Theme]
    small_segment: int = digest.SMALL_SEGMENT

    @property
    def nps_margin(self) -> int | None:
        """The ± margin to show beside the all-time NPS: only when its interval is symmetric around it
        (digest.estimate), else None and the page shows the interval alone."""
        found = self.metrics["nps"]
        if not found or found["score"] is None:
            return None
        return digest.symmetric_margin(found["score"], found["interval"]["low"], found["interval"]["high"])


def campaign_overview(campaign_id: str, now: float) -> Overview:
    """Everything the campaign page shows: two Queries on counter items plus one for each period's days.

    Raises NotFound for an unknown campaign.
    """
    model = load_campaign(campaign_id)
    campaign = view(model)
    everyone = counters.ALL_SEGMENT
    metrics = reports.metrics_for(campaign, model.created_at, everyone, None, None, now)
    weeks = read(campaign.id, "W#")
    by_segment = reports.by_segment(weeks, {reports.split_key(key)[0] for key in weeks})
    return Overview(
        campaign=campaign,
        metrics=metrics,
        trend=reports.trend_for(campaign, everyone, TREND_WEEKS, None, now),
        stats=stats.campaign_stats(campaign.id),
        change=_change(campaign, model.created_at, now) if campaign.survey.nps_question else None,
        segments=digest.segment_groups(campaign, by_segment),
        themes=digest.top_themes(by_segment.get(everyone, {}), {}),
    )


def _change(campaign: CampaignView, created_at: float, now: float) -> Change:
    today = reports.local_date(now, campaign.timezone)
    start = today - timedelta(days=CHANGE_DAYS - 1)
    before = (start - timedelta(days=CHANGE_DAYS), start - timedelta(days=1))
    current = _nps_between(campaign, created_at, start, today, now)
    previous = _nps_between(campaign, created_at, *before, now)
    words = nps.describe_change(nps.compare(current, previous), since=f"the {CHANGE_DAYS} days before")
    return Change(current, previous, words, start.isoformat())


def _nps_between(campaign: CampaignView, created_at: float, first: date, last: date, now: float) -> nps.NpsSummary:
    """The metrics endpoint's NPS counts for days `first` to `last`, as a summary."""
    body = reports.metrics_for(campaign, created_at, counters.ALL_SEGMENT, first, last, now)
    counts = body["nps"] or {}
    return nps.summary(counts.get("promoters", 0), counts.get("passives", 0), counts.get("detractors", 0))


def campaign_row(campaign: CampaignView) -> dict[str, Any]:
    """One line of the campaigns list: the campaign, its all-time rates and NPS with its interval
    (the metrics endpoint's `nps` and `rates`, from one Query on its week counter items)."""
    body = reports.metrics(campaign, stats.totals(campaign.id))
    return {"campaign": campaign, "nps": body["nps"], "rates": body["rates"]}
