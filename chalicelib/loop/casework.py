"""Reading the loop's work: the cases still waiting, today's acknowledgements, and a filtered search of responses.

Every read is a Query on a key or a sparse index (docs/data-model.md), never a Scan: the admin
API and the dashboard page through them with the same functions. Times are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core import themes
from chalicelib.core.errors import ValidationError
from chalicelib.store import bind
from chalicelib.store.models import Invitation

CATEGORIES = ("promoter", "passive", "detractor")
LOOP_STATES = ("new", "acknowledged", "contacted", "resolved")
MAX_SEARCH = 200
# A search reads at most this many responses per call (a few 1 MB Query pages), however few match;
# the cursor then resumes where it stopped, so a rare match costs more pages, never a longer request.
MAX_EXAMINED = 2000
READ_PAGE = 200
# An acknowledgement goes out CLOSELOOP_ACK_DELAY after the last edit, retried for at most a few
# hours: an answer acknowledged today arrived within the last two days.
ACK_LOOKBACK = 2 * 86400
LATEST = 10**11


@dataclass(frozen=True)
class Case:
    """A detractor waiting for a personal contact: `due_at` is its target time (epoch seconds)."""

    campaign: CampaignView
    invitation: Invitation

    @property
    def due_at(self) -> float:
        return float(self.invitation.case_due_at)


@dataclass(frozen=True)
class ResponseFilter:
    """What a responses list or export keeps. Empty fields keep everything.

    `since`/`until` bound `answered_at` (epoch seconds, both included); `prop` is (name, value) of
    a contact property; `theme` a theme of the campaign; `text` a case-insensitive phrase of the comment.
    """

    category: str | None = None
    loop_status: str | None = None
    since: float | None = None
    until: float | None = None
    prop: tuple[str, str] | None = None
    theme: str | None = None
    text: str | None = None

    def check(self, campaign: CampaignView) -> ResponseFilter:
        """The filter itself, or a ValidationError naming the field a campaign cannot use."""
        if self.category and self.category not in CATEGORIES:
            raise ValidationError(f"category is one of {', '.join(CATEGORIES)}.", "category")
        if self.loop_status and self.loop_status not in LOOP_STATES:
            raise ValidationError(f"loop_status is one of {', '.join(LOOP_STATES)}.", "loop_status")
        if self.theme and self.theme not in campaign.themes:
            known = ", ".join(campaign.themes) or "none configured"
            raise ValidationError(f"theme is one of this campaign's themes ({known}).", "theme")
        if self.text is not None and len(self.text) > MAX_SEARCH:
            raise ValidationError(f"The search is at most {MAX_SEARCH} characters.", "q")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValidationError("since is after until.", "since")
        return self

    def condition(self) -> Any:
        """The part DynamoDB applies itself (category, loop status, property), or None."""
        clauses = []
        if self.category:
            clauses.append(Invitation.category == self.category)
        if self.loop_status == "new":
            clauses.append(Invitation.loop_status.does_not_exist() | (Invitation.loop_status == "new"))
        elif self.loop_status:
            clauses.append(Invitation.loop_status == self.loop_status)
        if self.prop:
            clauses.append(Invitation.properties[self.prop[0]] == self.prop[1])
        condition = None
        for clause in clauses:
            condition = clause if condition is None else condition & clause
        return condition

    def keeps(self, invitation: Invitation, campaign: CampaignView) -> bool:
        """The part read here: the theme (the campaign's keyword rules) and the text, whatever its case."""
        if self.theme and not themes.detect(invitation.comment, {self.theme: campaign.themes[self.theme]}):
            return False
        return not self.text or self.text.casefold() in (invitation.comment or "").casefold()


def find_responses(
    campaign: CampaignView,
    wanted: ResponseFilter,
    cursor: dict | None,
    limit: int,
    newest_first: bool = True,
) -> tuple[list[Invitation], dict | None]:
    """Up to `limit` responses that pass the filter, and the index key to resume after (None at the end).

    One Query on the campaign-responses index, in pages of 200, stopping after `limit` matches or
    MAX_EXAMINED responses read: a page may hold fewer than `limit` rows while a cursor remains.
    """
    since = max(0.0, wanted.since) if wanted.since is not None else 0
    until = min(float(LATEST), wanted.until) if wanted.until is not None else LATEST
    if since > until:  # a range wholly before 1970 or after LATEST: no answer is in it
        return [], None
    bind()
    result = Invitation.responses.query(
        campaign.id,
        Invitation.answered_at.between(since, until),
        filter_condition=wanted.condition(),
        scan_index_forward=not newest_first,
        last_evaluated_key=cursor,
        page_size=READ_PAGE,
    )
    pages = result.page_iter
    found: list[Invitation] = []
    for page in pages:
        items = [Invitation.from_raw_data(raw) for raw in page.get("Items", [])]
        for at, invitation in enumerate(items):
            if wanted.keeps(invitation, campaign):
                found.append(invitation)
                if len(found) >= limit:
                    rest = any(wanted.keeps(later, campaign) for later in items[at + 1 :])
                    more = rest or pages.last_evaluated_key is not None
                    return found, index_key(invitation) if more else None
        if pages.total_scanned_count >= MAX_EXAMINED:
            break
    return found, pages.last_evaluated_key


def index_key(invitation: Invitation) -> dict:
    """The campaign-responses index position just after this response (an ExclusiveStartKey)."""
    return {
        "id": {"S": invitation.id},
        "responded_campaign": {"S": invitation.responded_campaign},
        "answered_at": {"N": repr(invitation.answered_at)},
    }


def waiting_cases(campaigns: Iterable[CampaignView], per_campaign: int = 100) -> list[Case]:
    """Detractor cases still waiting for a personal contact, most overdue (earliest target) first.

    One Query of the sparse open-cases index per campaign (at most `per_campaign` cases each, the
    earliest targets): the index holds only the cases still open, so it costs what is waiting.
    """
    bind()
    cases = [
        Case(campaign, invitation)
        for campaign in campaigns
        for invitation in Invitation.open_cases.query(campaign.id, limit=per_campaign)
    ]
    return sorted(cases, key=lambda case: case.due_at)


def day_start(now: float, timezone: str) -> float:
    """Midnight of today in the time zone (epoch seconds): where "today" begins for a campaign."""
    zone = ZoneInfo(timezone)
    today = datetime.fromtimestamp(now, zone).date()
    return datetime.combine(today, time(0), zone).timestamp()


def acknowledged_today(campaign: CampaignView, now: float, limit: int = 50) -> list[Invitation]:
    """Responses whose acknowledgement went out today in the campaign's time zone, latest first.

    One Query of the campaign-responses index over the answers of the last ACK_LOOKBACK seconds
    before midnight, keeping those with `ack_sent_at` since midnight (DynamoDB filters them).
    """
    bind()
    midnight = day_start(now, campaign.timezone)
    found = Invitation.responses.query(
        campaign.id,
        Invitation.answered_at >= midnight - ACK_LOOKBACK,
        filter_condition=Invitation.ack_sent_at >= midnight,
        scan_index_forward=False,
    )
    return sorted(found, key=lambda i: -float(i.ack_sent_at))[:limit]
