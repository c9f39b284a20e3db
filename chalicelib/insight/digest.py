"""The digest: each recipient's summary of a campaign, at 08:00 in the campaign's time zone, exactly once.

When. Chalice schedules run in UTC, so `send_digests` runs every hour and decides per
campaign, in its time zone: a digest is due from 08:00 on its day (Monday for weekly, every
day for daily, the 1st for monthly) and covers the ISO week, day or month before. The runs
until 11:59 send whatever an earlier run could not (a crash, SES throttling), so a failed
run costs an hour, not the digest. docs/digest.md explains the choice.

What. NPS with its adjusted-Wald interval, the change since the previous period in words
(significant or not), sent, responses, response and comment rates with their changes, a
12-week trend as HTML table bars, loud warnings when answers stop or the response rate falls
significantly, NPS by segment with the weakest flagged and small segments marked, top
themes, the latest detractor comments and the detractors still waiting for a personal
contact. `gather` reads (counter items, one bounded page of comments, the open cases);
`build` is a pure function of what it read, so tests call it with plain numbers. Every word,
number and date is in the CX team's language (config.team_locale: gettext catalogs, Babel's
CLDR formats), an Arabic digest right to left; docs/digest.md, "Language".

Once. Each (campaign, recipient, period) is claimed in the ledger before sending and marked
done after: a schedule that fires twice sends nothing twice, and a run that dies midway
leaves a lease that expires, so a later run sends what is missing.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import mail
from chalicelib.campaigns import suppression
from chalicelib.campaigns.campaigns import CampaignView, view
from chalicelib.core import counters, i18n, nps
from chalicelib.core.config import Settings, get_settings, team_locale
from chalicelib.insight import digest_recipients, reports
from chalicelib.loop.followups import excerpt, response_page
from chalicelib.sending import ledger
from chalicelib.sending.invitations import unsubscribe_headers
from chalicelib.store import bind, raw_client, table_name
from chalicelib.store.counts import read_between
from chalicelib.store.models import Campaign, Invitation
from chalicelib.web.render import render

log = logging.getLogger(__name__)

SEND_HOUR = 8
CATCH_UP_HOURS = 4  # 08:00-11:59 local
SMALL_SEGMENT = 30
TREND_WEEKS = 12
SHOWN_COMMENTS = 5
COMMENT_PAGE = 100
COMMENT_PAGES = 2
SHOWN_CASES = 10
CASES_COUNTED = 1000
SHOWN_THEMES = 5
EXCERPT = 300
REPORTED_STATES = ("sending", "sent", "paused")


# --- Periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days a digest covers, in the campaign's time zone."""

    frequency: str
    first: date
    last: date

    @property
    def key(self) -> str:
        """The ledger's name of the period: `W#2026-W47`, `D#2026-11-22` or `M#2026-10`."""
        if self.frequency == "weekly":
            return reports.week_of(self.first)
        if self.frequency == "daily":
            return f"D#{self.first.isoformat()}"
        return f"M#{self.first:%Y-%m}"

    @property
    def previous(self) -> Period:
        if self.frequency == "weekly":
            return Period(self.frequency, self.first - timedelta(weeks=1), self.last - timedelta(weeks=1))
        if self.frequency == "daily":
            return Period(self.frequency, self.first - timedelta(days=1), self.last - timedelta(days=1))
        last = self.first - timedelta(days=1)
        return Period(self.frequency, last.replace(day=1), last)

    @property
    def days(self) -> list[str]:
        return reports.day_periods(self.first, self.last)

    @property
    def short(self) -> str:
        """ "week 47", "Sun 22 Nov", "October 2026" (`short_in` another language)."""
        return self.short_in(i18n.DEFAULT_LOCALE)

    @property
    def name(self) -> str:
        """ "week 47 (16 – 22 Nov 2026)", "Sunday, 22 November 2026", "October 2026"."""
        return self.name_in(i18n.DEFAULT_LOCALE)

    def short_in(self, locale: str) -> str:
        """The short name in `locale`: "KW 47", "So., 22. Nov.", "Oktober 2026" in German."""
        if self.frequency == "weekly":
            return Words(locale).gettext("week %(number)s", number=self.first.isocalendar()[1])
        if self.frequency == "daily":
            return i18n.format_day(self.first, "MMMEd", locale)
        return i18n.format_day(self.first, "yMMMM", locale)

    def name_in(self, locale: str) -> str:
        """The full name in `locale`: "KW 47 (16.–22. Nov. 2026)", "Sonntag, 22. November 2026"."""
        if self.frequency == "weekly":
            days = i18n.format_days(self.first, self.last, locale)
            return Words(locale).gettext("week %(number)s (%(days)s)", number=self.first.isocalendar()[1], days=days)
        if self.frequency == "daily":
            return i18n.format_day(self.first, "full", locale)
        return self.short_in(locale)

    def epochs(self, timezone: str) -> tuple[float, float]:
        """[start, end) of the period as epoch seconds: local midnight to local midnight."""
        zone = ZoneInfo(timezone)
        start = datetime.combine(self.first, time(0), zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), zone)
        return start.timestamp(), end.timestamp()


def due_period(frequency: str, local: datetime) -> Period | None:
    """The period a digest sent at local time `local` covers, or None when it is not due then."""
    if not SEND_HOUR <= local.hour < SEND_HOUR + CATCH_UP_HOURS:
        return None
    today = local.date()
    if frequency == "daily":
        return Period("daily", today - timedelta(days=1), today - timedelta(days=1))
    if frequency == "weekly" and today.weekday() == 0:
        return Period("weekly", today - timedelta(weeks=1), today - timedelta(days=1))
    if frequency == "monthly" and today.day == 1:
        last = today - timedelta(days=1)
        return Period("monthly", last.replace(day=1), last)
    return None


def latest_period(frequency: str, now: float, timezone: str, so_far: bool = False) -> Period:
    """The last complete period of a frequency at `now` (yesterday, last ISO week, last month), or
    with `so_far` the one in progress (today, this week, this month), for previews."""
    today = datetime.fromtimestamp(now, ZoneInfo(timezone)).date()
    if so_far:
        today += {"daily": timedelta(days=1), "weekly": timedelta(weeks=1), "monthly": timedelta(days=31)}[frequency]
    day = {"daily": today, "weekly": reports.monday_of(today), "monthly": today.replace(day=1)}[frequency]
    period = due_period(frequency, datetime.combine(day, time(SEND_HOUR), ZoneInfo(timezone)))
    assert period is not None  # 08:00 on the digest's own day is always due
    return period


# --- What the digest reads ------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A detractor's comment, or an open case: the response as the digest lists it. `opened_at` (epoch seconds)
    is the time of the answer version that opened a case: one opened by an edit waits from the edit, not from
    the first answer (None for a case opened before it was kept: its answer's time)."""

    invitation_id: str
    email: str
    score: int | None
    comment: str
    answered_at: float
    opened_at: float | None = None


@dataclass(frozen=True)
class Inputs:
    """Everything `build` needs: counts per segment for the period and the one before, the trend, lists."""

    current: dict[str, dict[str, int]]
    previous: dict[str, dict[str, int]]
    trend: list[reports.TrendPoint]
    comments: list[Answer]
    cases: list[Answer]
    cases_total: int
    cases_capped: bool
    at: float


def gather(campaign: CampaignView, period: Period, now: float) -> Inputs:
    """Counter items (one Query of 12 weeks, one of the days for daily and monthly digests), one or two
    pages of the period's newest responses for detractor comments, one page of open cases.

    A daily or monthly digest's last trend week is summed from its days up to the period's last day, so
    it counts no answer the digest's own figures do not: a week item would hold the days after it too."""
    mondays = reports.week_mondays(period.last, TREND_WEEKS)
    weeks = read_between(campaign.id, reports.week_of(mondays[0]), reports.week_of(mondays[-1]) + "~")
    trend = reports.trend(weeks, reports.since_first_send(campaign, mondays), counters.ALL_SEGMENT)
    if period.frequency == "weekly":
        current = reports.by_segment(weeks, [period.key])
        previous = reports.by_segment(weeks, [period.previous.key])
    else:
        before, monday = period.previous, reports.monday_of(period.last)
        low = min(before.first, monday)
        days = read_between(campaign.id, f"D#{low.isoformat()}", f"D#{period.last.isoformat()}~")
        current = reports.by_segment(days, period.days)
        previous = reports.by_segment(days, before.days)
        if trend and trend[-1].starts == monday:  # the week so far, as its days were on the digest's last day
            so_far = reports.by_segment(days, reports.day_periods(monday, period.last))
            trend[-1] = replace(trend[-1], counts=so_far.get(counters.ALL_SEGMENT, {}))
    cases, total, capped = open_cases(campaign.id, now)
    return Inputs(
        current=current,
        previous=previous,
        trend=trend,
        comments=detractor_comments(campaign.id, *period.epochs(campaign.timezone)),
        cases=cases,
        cases_total=total,
        cases_capped=capped,
        at=now,
    )


def _answer(invitation: Invitation) -> Answer:
    return Answer(
        invitation_id=invitation.id,
        email=invitation.email,
        score=int(invitation.score) if invitation.score is not None else None,
        comment=excerpt(invitation.comment, EXCERPT),
        answered_at=float(invitation.answered_at or 0),
        opened_at=None if invitation.case_opened_at is None else float(invitation.case_opened_at),
    )


def detractor_comments(campaign_id: str, start: float, end: float) -> list[Answer]:
    """The newest detractor comments of the period: at most COMMENT_PAGES pages of COMMENT_PAGE responses
    read from the campaign-responses index, newest first, so a campaign of any size costs the same."""
    bind()
    params: dict = {
        "TableName": table_name(Invitation),
        "IndexName": "campaign-responses",
        "KeyConditionExpression": "responded_campaign = :c AND answered_at BETWEEN :start AND :end",
        "FilterExpression": "category = :d AND attribute_exists(#comment)",
        "ExpressionAttributeNames": {"#comment": "comment"},
        "ExpressionAttributeValues": {
            ":c": {"S": campaign_id},
            ":start": {"N": repr(start)},
            ":end": {"N": repr(end - 0.001)},
            ":d": {"S": nps.DETRACTOR},
        },
        "ScanIndexForward": False,
        "Limit": COMMENT_PAGE,
    }
    found: list[Answer] = []
    for _ in range(COMMENT_PAGES):
        page = raw_client().query(**params)
        found += [_answer(Invitation.from_raw_data(item)) for item in page.get("Items", [])]
        if len(found) >= SHOWN_COMMENTS or "LastEvaluatedKey" not in page:
            break
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found[:SHOWN_COMMENTS]


def open_cases(campaign_id: str, now: float) -> tuple[list[Answer], int, bool]:
    """(the oldest overdue cases, how many are overdue, whether the count stopped at CASES_COUNTED)."""
    bind()
    shown = [
        _answer(i) for i in Invitation.open_cases.query(campaign_id, Invitation.case_due_at <= now, limit=SHOWN_CASES)
    ]
    if len(shown) < SHOWN_CASES:
        return shown, len(shown), False
    page = raw_client().query(
        TableName=table_name(Invitation),
        IndexName="open-cases",
        KeyConditionExpression="case_campaign = :c AND case_due_at <= :now",
        ExpressionAttributeValues={":c": {"S": campaign_id}, ":now": {"N": repr(now)}},
        Select="COUNT",
        Limit=CASES_COUNTED,
    )
    return shown, int(page["Count"]), "LastEvaluatedKey" in page


# --- Building: pure ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """The digest's language: its sentences from core.i18n's catalogs, its numbers and dates as the
    language writes them (Babel's CLDR data). `locale` is a key of i18n.LANGUAGES."""

    locale: str = i18n.DEFAULT_LOCALE

    def gettext(self, message: str, /, **values: Any) -> str:
        """`message` (an English msgid) in the language, its `%(name)s` filled from `values`."""
        text = i18n.translations(self.locale).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """The form for `n` (Arabic has six), with `%(num)s` the number as the language writes it."""
        return i18n.translations(self.locale).ngettext(singular, plural, n) % {"num": self.number(n), **values}

    def number(self, n: float) -> str:
        """1000 → "1,000" (en), "1.000" (de), "1 000" (fr)."""
        return i18n.format_number(n, self.locale)

    def answers(self, n: int) -> str:
        """ "1 answer", "1.000 Antworten"."""
        return self.ngettext("%(num)s answer", "%(num)s answers", n)


ENGLISH = Words()


def signed(value: float, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """Whole NPS points with their sign: "+44", "-6", "0" (the language's signs and digits)."""
    return i18n.format_signed(nps.whole_points(value), locale)


def percent(share: float, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A share (0..1) in whole percent, halves away from zero: "91%" (en), "91 %" (de)."""
    return i18n.format_percent(nps.whole_points(100 * share) / 100, locale)


def symmetric_margin(score: float, low: float, high: float) -> int | None:
    """The ± margin in whole points when the rounded interval is symmetric around the rounded score, else None."""
    points, below, above = nps.whole_points(score), nps.whole_points(low), nps.whole_points(high)
    return points - below if points - below == above - points else None


def estimate(score: float, low: float, high: float, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """An NPS beside its 95% interval, in whole points, in a form that cannot contradict the interval.

    "+44 ± 19" only when the rounded interval is symmetric around the rounded score (score ± margin are
    then its bounds); otherwise "+44 (+23 to +61)". The adjusted-Wald interval is centred nearer 0 than
    the score, so "-100 ± 74" for one detractor would name bounds (-174, -26) that its interval
    (-100 to +49) does not have. Expects low <= score <= high, which nps.adjusted_wald guarantees.
    """
    words, margin = Words(locale), symmetric_margin(score, low, high)
    if margin is not None:
        return words.gettext("%(score)s ± %(margin)s", score=signed(score, locale), margin=words.number(margin))
    return words.gettext(
        "%(score)s (%(low)s to %(high)s)",
        score=signed(score, locale),
        low=signed(low, locale),
        high=signed(high, locale),
    )


def headline(stats: nps.NpsStats, locale: str = i18n.DEFAULT_LOCALE) -> tuple[str, str]:
    """(the headline, its interval in words): ("NPS -100", "95% interval -100 to +49, 1 answer"); the
    headline is "NPS 0 ± 20" when the interval is symmetric around the score (see `estimate`), and
    ("no answers, so no NPS", "") without answers. In `locale`, with its numbers: the same figures."""
    s, i, words = stats.summary, stats.interval, Words(locale)
    if s.nps is None:
        return words.gettext("no answers, so no NPS"), ""
    margin = symmetric_margin(s.nps, i.low, i.high)
    score = signed(s.nps, locale)
    figure = (
        words.gettext("NPS %(score)s", score=score)
        if margin is None
        else words.gettext("NPS %(score)s ± %(margin)s", score=score, margin=words.number(margin))
    )
    interval = words.gettext(
        "%(level)s interval %(low)s to %(high)s, %(answers)s",
        level=i18n.format_percent(0.95, locale),
        low=signed(i.low, locale),
        high=signed(i.high, locale),
        answers=words.answers(s.n),
    )
    return figure, interval


@dataclass(frozen=True)
class Figure:
    """One line of the numbers: label, value now, and its change since the previous period in words."""

    label: str
    value: str
    change: str
    count: int = 0  # the number a count's value shows


@dataclass(frozen=True)
class SegmentRow:
    key: str  # the counter segment, "plan=pro"
    value: str
    n: int
    score: float | None
    low: float
    high: float
    small: bool
    weakest: bool = False
    words: Words = ENGLISH

    @property
    def figure(self) -> str:
        """The NPS with its interval (see `estimate`), "+7 (-8 to +22)"; "" when there is no score."""
        return "" if self.score is None else estimate(self.score, self.low, self.high, self.words.locale)

    @property
    def text(self) -> str:
        if self.small:
            return self.words.gettext(
                "too small to judge (%(answers)s; fewer than %(small)s)",
                answers=self.words.answers(self.n),
                small=self.words.number(SMALL_SEGMENT),
            )
        return self.words.gettext("NPS %(figure)s, %(answers)s", figure=self.figure, answers=self.words.answers(self.n))


@dataclass(frozen=True)
class SegmentGroup:
    name: str
    rows: list[SegmentRow]
    verdict: str


@dataclass(frozen=True)
class TrendRow:
    label: str
    n: int
    score: float | None
    low: float
    high: float
    words: Words = ENGLISH

    @property
    def figure(self) -> str:
        """The NPS with its interval (see `estimate`), "-40 (-74 to +13)"; "" when there is no score."""
        return "" if self.score is None else estimate(self.score, self.low, self.high, self.words.locale)

    @property
    def answers(self) -> str:
        return self.words.answers(self.n)

    @property
    def text(self) -> str:
        if self.score is None:
            return self.words.gettext("no answers")
        return self.words.gettext("%(figure)s, %(answers)s", figure=self.figure, answers=self.answers)

    @property
    def negative(self) -> int:
        """Bar width in percent of the left (negative) half; at least 1 so a small score still shows."""
        return max(1, -nps.whole_points(self.score)) if self.score is not None and self.score < -0.5 else 0

    @property
    def positive(self) -> int:
        return max(1, nps.whole_points(self.score)) if self.score is not None and self.score >= 0.5 else 0


@dataclass(frozen=True)
class Theme:
    name: str
    count: int
    share: float | None
    previous: int


@dataclass(frozen=True)
class Digest:
    """The digest's numbers and its sentences in `locale` (the team's language); `inputs` is what it was
    built from, so `render_message` can build it again in another language."""

    campaign: CampaignView
    period: Period
    nps: nps.NpsStats | None
    headline: str
    interval: str
    change: str
    figures: list[Figure]
    warnings: list[str]
    trend: list[TrendRow]
    segments: list[SegmentGroup]
    themes: list[Theme]
    comments: list[Answer]
    cases: list[Answer]
    cases_total: int
    cases_capped: bool
    at: float
    locale: str = i18n.DEFAULT_LOCALE
    inputs: Inputs | None = None

    @property
    def words(self) -> Words:
        return Words(self.locale)

    @property
    def short(self) -> str:
        """The period's short name in the digest's language ("week 47")."""
        return self.period.short_in(self.locale)

    @property
    def subject(self) -> str:
        """Warnings come first, so a falling response rate shows in the inbox list."""
        words = self.words
        what = words.ngettext("%(num)s response", "%(num)s responses", self.figures[1].count)
        if self.nps is not None:
            n = self.nps.summary.n
            what = words.gettext("%(headline)s, %(answers)s", headline=self.headline, answers=words.answers(n))
            what = what if n else self.headline
        subject = words.gettext(
            "%(campaign)s, %(period)s: %(news)s", campaign=self.campaign.name, period=self.short, news=what
        )
        return words.gettext("Warning: %(subject)s", subject=subject) if self.warnings else subject

    @property
    def heading(self) -> str:
        """ "Weekly digest, week 47 (16 – 22 Nov 2026)"."""
        name, words = self.period.name_in(self.locale), self.words
        if self.period.frequency == "daily":
            return words.gettext("Daily digest, %(period)s", period=name)
        if self.period.frequency == "monthly":
            return words.gettext("Monthly digest, %(period)s", period=name)
        return words.gettext("Weekly digest, %(period)s", period=name)

    @property
    def how_often(self) -> str:
        """ "You get this digest weekly."."""
        if self.period.frequency == "daily":
            return self.words.gettext("You get this digest daily.")
        if self.period.frequency == "monthly":
            return self.words.gettext("You get this digest monthly.")
        return self.words.gettext("You get this digest weekly.")

    @property
    def trend_heading(self) -> str:
        """ "NPS, last 12 weeks"; fewer when the campaign was first sent more recently."""
        if not self.trend:
            return self.words.gettext("NPS per week: none yet, the campaign has not been sent")
        return self.words.ngettext("NPS, last %(num)s week", "NPS, last %(num)s weeks", len(self.trend))

    def waited(self, case: Answer) -> str:
        since = case.answered_at if case.opened_at is None else case.opened_at
        return self.words.ngettext("%(num)s hour", "%(num)s hours", int((self.at - since) // 3600))

    def when(self, epoch: float) -> str:
        """A moment in the campaign's time zone, short: "Sat 21 Nov 10:00" (en), "Sa., 21. Nov. 10:00" (de)."""
        moment = datetime.fromtimestamp(epoch, ZoneInfo(self.campaign.timezone))
        return f"{i18n.format_day(moment, 'MMMEd', self.locale)} {i18n.format_clock(moment, self.locale)}"


def _count_figure(label: str, now: int, before: int, since: str, words: Words) -> Figure:
    if now == before:
        change = words.gettext("same as %(period)s", period=since)
    else:
        values = {"difference": words.number(abs(now - before)), "period": since, "before": words.number(before)}
        change = (
            words.gettext("up %(difference)s on %(period)s (%(before)s)", **values)
            if now > before
            else words.gettext("down %(difference)s on %(period)s (%(before)s)", **values)
        )
    return Figure(label, words.number(now), change, now)


def _rate_figure(
    label: str, now: nps.Proportion, before: nps.Proportion, since: str, none: str, words: Words
) -> Figure:
    locale = words.locale
    value = percent(now.share, locale) if now.share is not None else none
    if now.share is None or before.share is None:
        return Figure(label, value, words.gettext("nothing to compare with %(period)s", period=since))
    test = nps.compare_proportions(now, before)
    points = nps.whole_points(100 * (now.share - before.share))
    values = {"period": since, "before": percent(before.share, locale)}
    if points > 0:
        was = words.ngettext(
            "up %(num)s point on %(period)s (%(before)s)",
            "up %(num)s points on %(period)s (%(before)s)",
            points,
            **values,
        )
    elif points < 0:
        was = words.ngettext(
            "down %(num)s point on %(period)s (%(before)s)",
            "down %(num)s points on %(period)s (%(before)s)",
            -points,
            **values,
        )
    else:
        was = words.gettext("unchanged on %(period)s (%(before)s)", **values)
    if test.p_value is None:
        return Figure(label, value, was)
    p_text = nps.format_p(test.p_value, locale)
    if not test.significant:
        return Figure(label, value, words.gettext("%(change)s, within the noise", change=was))
    if points > 0:
        return Figure(label, value, words.gettext("%(change)s, a real rise (%(p)s)", change=was, p=p_text))
    return Figure(label, value, words.gettext("%(change)s, a real drop (%(p)s)", change=was, p=p_text))


def _warnings(
    current: Mapping[str, int], previous: Mapping[str, int], period: Period, trend_answers: int, words: Words
) -> list[str]:
    """Loud, because customers who stop answering may have stopped caring, or left.

    * Answers stopped: none in the period although invitations went out, or although the
      12 weeks before had some. Other tools pause their digest when feedback stops; ours says so.
    * The response rate fell, significantly by the two-proportion z test (nps.compare_proportions).
    """
    sent, responses = current.get("sent", 0), current.get("responses", 0)
    locale = words.locale
    since, short = period.previous.short_in(locale), period.short_in(locale)
    out = []
    if responses == 0 and sent:
        out.append(
            words.ngettext(
                "No answers in %(period)s, although %(num)s invitation went out. Check that invitations arrive "
                "and that the survey page works: silence is not satisfaction.",
                "No answers in %(period)s, although %(num)s invitations went out. Check that invitations arrive "
                "and that the survey page works: silence is not satisfaction.",
                sent,
                period=short,
            )
        )
    elif responses == 0 and (previous.get("responses", 0) or trend_answers):
        out.append(
            words.gettext(
                "No answers in %(period)s (%(before)s in %(previous)s), and no invitations went out. Feedback has "
                "stopped: customers who stop answering may have left already.",
                period=short,
                before=words.number(previous.get("responses", 0)),
                previous=since,
            )
        )
    rates = nps.compare_proportions(nps.rates(current).response_rate, nps.rates(previous).response_rate)
    if rates.significant and rates.difference is not None and rates.difference < 0 and responses:
        assert rates.p_value is not None
        out.append(
            words.gettext(
                "The response rate fell from %(before)s in %(previous)s to %(now)s in %(period)s: a real drop "
                "(%(p)s), not chance. Customers who stop answering may have stopped caring, or left.",
                before=percent(rates.previous.share or 0, locale),
                previous=since,
                now=percent(rates.current.share or 0, locale),
                period=short,
                p=nps.format_p(rates.p_value, locale),
            )
        )
    return out


def segment_groups(
    campaign: CampaignView, current: Mapping[str, Mapping[str, int]], locale: str = i18n.DEFAULT_LOCALE
) -> list[SegmentGroup]:
    """NPS per value of each segment property; the weakest judgeable value is compared with the rest.

    `current` is {counter segment: counts}; a value with fewer than SMALL_SEGMENT answers is small
    (too few to judge, never the weakest). The dashboard's campaign page applies the same rule.
    The verdicts and rows speak `locale`, the value of those who gave none too ("(aucune)")."""
    everyone = current.get(counters.ALL_SEGMENT, {})
    words = Words(locale)
    small = words.number(SMALL_SEGMENT)
    groups = []
    for name in campaign.segments:
        rows = []
        for segment, counts in current.items():
            parts = reports.segment_parts(segment)
            if parts is None or parts[0] != name:
                continue
            stats = nps.from_counts(counts)
            if stats.summary.n == 0:
                continue
            n = stats.summary.n
            low, high = stats.interval.low, stats.interval.high
            value = words.gettext("(none)") if parts[1] == counters.NO_VALUE else parts[1]
            rows.append(SegmentRow(segment, value, n, stats.summary.nps, low, high, n < SMALL_SEGMENT, words=words))
        judged = [r for r in rows if not r.small]
        verdict = words.gettext(
            "Every %(name)s with answers has fewer than %(small)s: too few to compare.", name=name, small=small
        )
        if len(judged) == 1:
            verdict = words.gettext(
                "Only %(value)s has %(small)s answers or more: nothing to compare it with.",
                value=judged[0].value,
                small=small,
            )
        elif len(judged) > 1:
            weakest = min(judged, key=lambda r: (r.score, -r.n))
            counts = current[weakest.key]
            rest = {k: everyone.get(k, 0) - counts.get(k, 0) for k in ("promoters", "passives", "detractors")}
            test = nps.compare(nps.from_counts(counts).summary, nps.from_counts(rest).summary)
            assert weakest.score is not None and test.previous.nps is not None and test.p_value is not None
            values = {
                "name": name,
                "value": weakest.value,
                "score": signed(weakest.score, locale),
                "others": signed(test.previous.nps, locale),
                "p": nps.format_p(test.p_value, locale),
            }
            verdict = (
                words.gettext(
                    "Weakest %(name)s: %(value)s, NPS %(score)s against %(others)s for everyone else, "
                    "a real gap (%(p)s).",
                    **values,
                )
                if test.significant
                else words.gettext(
                    "Weakest %(name)s: %(value)s, NPS %(score)s against %(others)s for everyone else, "
                    "but the gap is within the noise (%(p)s).",
                    **values,
                )
            )
            rows = [replace(r, weakest=r is weakest) for r in rows]
        rows.sort(key=lambda r: (-r.n, r.value))
        if rows:
            groups.append(SegmentGroup(name, rows, verdict))
    return groups


def top_themes(current: Mapping[str, int], previous: Mapping[str, int]) -> list[Theme]:
    """The SHOWN_THEMES most frequent themes of the comments counted in `current`, with their share of
    comments (a fraction, None without comments) and their count in `previous`."""
    comments = current.get("comments", 0)
    found = [
        Theme(name[6:], count, nps.rate(count, comments), previous.get(name, 0))
        for name, count in current.items()
        if name.startswith("theme.") and count > 0
    ]
    return sorted(found, key=lambda t: (-t.count, t.name))[:SHOWN_THEMES]


def _week_label(point: reports.TrendPoint, period: Period, locale: str) -> str:
    """ "W47 (16 Nov)"; the week that goes on after the digest's last day, which `gather` counts up to that
    day (a daily or monthly digest), says so: "W49 (up to Mon 30 Nov)"."""
    words = Words(locale)
    if point.starts <= period.last < point.starts + timedelta(days=6):
        return words.gettext(
            "W%(week)s (up to %(day)s)", week=point.week[-2:], day=i18n.format_day(period.last, "MMMEd", locale)
        )
    return words.gettext("W%(week)s (%(day)s)", week=point.week[-2:], day=i18n.format_day(point.starts, "MMMd", locale))


def build(campaign: CampaignView, period: Period, inputs: Inputs, locale: str | None = None) -> Digest:
    """The digest's numbers and sentences, from what `gather` read (pure: tests give plain counts), in
    `locale` (a key of i18n.LANGUAGES), by default the campaign's team language (config.team_locale)."""
    locale = locale or team_locale(campaign.options)
    words = Words(locale)
    current = inputs.current.get(counters.ALL_SEGMENT, {})
    previous = inputs.previous.get(counters.ALL_SEGMENT, {})
    since = period.previous.short_in(locale)
    stats = nps.from_counts(current) if campaign.survey.nps_question else None
    title, interval, change = "", "", ""
    if stats is not None:
        title, interval = headline(stats, locale)
        before = nps.from_counts(previous).summary
        change = nps.describe_change(nps.compare(stats.summary, before), since=since, locale=locale)
    now_rates, before_rates = nps.rates(current), nps.rates(previous)
    figures = [
        _count_figure(words.gettext("Invitations sent"), current.get("sent", 0), previous.get("sent", 0), since, words),
        _count_figure(
            words.gettext("Responses"), current.get("responses", 0), previous.get("responses", 0), since, words
        ),
        _rate_figure(
            words.gettext("Response rate"),
            now_rates.response_rate,
            before_rates.response_rate,
            since,
            words.gettext("none (no invitations)"),
            words,
        ),
        _rate_figure(
            words.gettext("Comment rate"),
            now_rates.comment_rate,
            before_rates.comment_rate,
            since,
            words.gettext("none (no responses)"),
            words,
        ),
    ]
    first = reports.local_date(campaign.sent_at, campaign.timezone) if campaign.sent_at is not None else None
    if first is not None and period.previous.last < first:
        # the period before had no campaign yet: "up 70 on week 46 (0)" would compare with nothing; a period
        # that ended before the first send (a preview of it) is not the campaign's first either
        nothing = {
            "weekly": words.gettext("nothing to compare: the campaign's first week"),
            "daily": words.gettext("nothing to compare: the campaign's first day"),
            "monthly": words.gettext("nothing to compare: the campaign's first month"),
        }[period.frequency]
        if period.last < first:
            nothing = words.gettext(
                "nothing to compare: the campaign was first sent on %(day)s",
                day=i18n.format_day(first, "MMMEd", locale),
            )
        figures = [replace(figure, change=nothing) for figure in figures]
        change = nothing if stats is not None else change
    trend = [
        TrendRow(
            _week_label(p, period, locale),
            p.stats.summary.n,
            p.stats.summary.nps,
            p.stats.interval.low,
            p.stats.interval.high,
            words,
        )
        for p in inputs.trend
    ]
    trend_answers = sum(p.counts.get("responses", 0) for p in inputs.trend[:-1])
    return Digest(
        campaign=campaign,
        period=period,
        nps=stats,
        headline=title,
        interval=interval,
        change=change,
        figures=figures,
        warnings=_warnings(current, previous, period, trend_answers, words),
        trend=trend,
        segments=segment_groups(campaign, inputs.current, locale),
        themes=top_themes(current, previous),
        comments=inputs.comments,
        cases=inputs.cases,
        cases_total=inputs.cases_total,
        cases_capped=inputs.cases_capped,
        at=inputs.at,
        locale=locale,
        inputs=inputs,
    )


# --- Rendering and sending --------------------------------------------------------------------


def response_link(settings: Settings, invitation_id: str) -> str:
    return response_page(settings, invitation_id)


def render_message(digest: Digest, email: str, settings: Settings, locale: str | None = None) -> EmailMessage:
    """The digest for one recipient: HTML (table bars, no images or script) and plain text, with the
    RFC 8058 headers; their link opens the recipient's preferences, and a one-click POST stops it.

    In `locale` (a key of i18n.LANGUAGES), by default the language the digest was built in (the
    campaign's team language); another one builds it again from its inputs (the preview gallery)."""
    if locale is not None and locale != digest.locale and digest.inputs is not None:
        digest = build(digest.campaign, digest.period, digest.inputs, locale)
    preferences = digest_recipients.link(digest.campaign.id, email)
    context = {
        "d": digest,
        "preferences": preferences,
        "small_segment": SMALL_SEGMENT,
        "link": lambda invitation_id: response_link(settings, invitation_id),
        "signed": lambda value: signed(value, digest.locale),
        "percent": lambda share: percent(share, digest.locale),
        "p_below": lambda threshold: nps.p_below(threshold, digest.locale),
    }
    return mail.build_message(
        sender=settings.sender,
        to=email,
        subject=digest.subject,
        text=render("email/digest.txt", digest.locale, **context),
        html=render("email/digest.html", digest.locale, **context),
        headers=unsubscribe_headers(preferences),
    )


def reported_campaigns() -> Iterator[CampaignView]:
    """Campaigns that can have news: sending, sent or paused (a Query on the all-campaigns index, paged)."""
    bind()
    for campaign in Campaign.all_campaigns.query("campaign", filter_condition=Campaign.status.is_in(*REPORTED_STATES)):
        yield view(campaign)


def send_due(now: float, settings: Settings | None = None) -> dict[str, int]:
    """Send every digest due at `now` in its campaign's time zone, each (recipient, period) once.

    A period that ended before the campaign's first send has nothing to report and is not sent.

    Returns how many were sent, already claimed (sent, or being sent by an overlapping run),
    left for a retry or failed. A digest is built once per campaign and period, and only when a
    recipient still needs it. A mail error marks the claim for a retry (the next hourly run
    takes it); any other error is logged and the claim released the same way, so one campaign
    cannot stop the others. A run that dies leaves its claim to expire after a lease.
    """
    settings = settings or get_settings()
    outcome: Tally = Tally()
    for campaign in reported_campaigns():
        if campaign.sent_at is None:
            continue
        local = datetime.fromtimestamp(now, ZoneInfo(campaign.timezone))
        first = reports.local_date(campaign.sent_at, campaign.timezone)
        due = {f: p for f in digest_recipients.FREQUENCIES if (p := due_period(f, local)) and p.last >= first}
        if not due:
            continue
        built: dict[str, Digest] = {}
        for subscription in digest_recipients.subscriptions(campaign.id):
            period = due.get(subscription.frequency)
            if period is not None:
                outcome[_send_one(campaign, period, subscription.email, built, now, settings)] += 1
    return dict(outcome)


def _send_one(
    campaign: CampaignView, period: Period, email: str, built: dict[str, Digest], now: float, settings: Settings
) -> str:
    key = f"digest#{campaign.id}#{email}#{period.key}"
    delivery = ledger.claim(key, now)
    if delivery is None:
        return "already_claimed"
    reason = suppression.reason_for(email)
    if reason:  # a digest that bounced or was marked as spam: mailing it again hurts every sender's reputation
        ledger.failed(delivery, now, f"suppressed: {reason}", permanent=True)
        return "suppressed"
    try:
        if period.key not in built:
            built[period.key] = build(campaign, period, gather(campaign, period, now))
        mail.get_mailer(settings).send(render_message(built[period.key], email, settings), tags={"digest": campaign.id})
    except mail.MailError as exc:
        return ledger.failed(delivery, now, str(exc), permanent=isinstance(exc, mail.MailRejected))
    except Exception as exc:
        log.exception("digest %s could not be built or sent", key)
        ledger.failed(delivery, now, f"{type(exc).__name__}: {exc}")
        return "error"
    ledger.done(key, now)
    return "sent"


def preview(campaign: CampaignView, period: Period, now: float) -> Digest:
    """The digest of a period, built now without sending (the CLI's `digest-preview`, tests, the bench)."""
    return build(campaign, period, gather(campaign, period, now))
