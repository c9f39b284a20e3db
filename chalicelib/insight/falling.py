"""Is a campaign's response rate falling? The weekly digest's warning, asked of any campaign at any time.

"Falling" means what the digest's warning means (docs/digest.md, "Warnings"): in the last complete
ISO week (in the campaign's time zone) the response rate (mailed responses / sent, AAPOR RR1;
nps.rates) is lower than in the week before, and the two-proportion z test
(nps.compare_proportions, pooled, two-sided 5%) says the drop is real, not chance. A drop within
the noise is not falling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core import counters, nps
from chalicelib.insight import reports
from chalicelib.store.counts import read_keys


@dataclass(frozen=True)
class RateDrop:
    """A significant drop: `week` and `previous` are ISO weeks ("2026-W47"), `change` the test's result."""

    campaign: CampaignView
    week: str
    previous: str
    change: nps.ProportionChange

    @property
    def words(self) -> str:
        """The drop in words: "41% in week 2026-W46, 28% in week 2026-W47 (p < 0.001)"."""
        before, now = self.change.previous.share or 0, self.change.current.share or 0
        p = nps.format_p(self.change.p_value or 0)
        return f"{100 * before:.0f}% in week {self.previous}, {100 * now:.0f}% in week {self.week} ({p})"


def falling_response_rate(campaign: CampaignView, now: float) -> RateDrop | None:
    """The drop of the last complete week against the week before, or None when the rate did not
    really fall. One BatchGetItem of two counter items (everyone's `_` segment)."""
    this_monday = reports.monday_of(reports.local_date(now, campaign.timezone))
    last, before = reports.week_of(this_monday - timedelta(weeks=1)), reports.week_of(this_monday - timedelta(weeks=2))
    keys = {period: counters.counter_key(period, counters.ALL_SEGMENT) for period in (last, before)}
    items = read_keys(campaign.id, keys.values())
    current, previous = items.get(keys[last], {}), items.get(keys[before], {})
    change = nps.compare_proportions(nps.rates(current).response_rate, nps.rates(previous).response_rate)
    if change.significant and change.difference is not None and change.difference < 0:
        return RateDrop(campaign, last[2:], before[2:], change)
    return None
