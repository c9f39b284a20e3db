"""A campaign's numbers as the metrics API and the digest report them, and the CSV export of its responses.

Every number comes from counter items (chalicelib.core.counters), never from reading responses:
weeks for trends and all-time figures, days for any since/until range. The statistics are
those of chalicelib.core.nps, so the API, the digest and the tests share one path. The CSV export
is the one place that reads responses, a bounded page at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core import counters, nps
from chalicelib.core.counters import plain
from chalicelib.core.errors import ValidationError
from chalicelib.insight.stats import totals
from chalicelib.loop import casework, followups
from chalicelib.store.counts import read_keys
from chalicelib.store.models import Invitation

MAX_DAYS = 731
MAX_WEEKS = 104
BOM = "\ufeff"  # U+FEFF, encoded EF BB BF: the mark by which Excel recognises a UTF-8 CSV
MAX_CSV_BYTES = 5_000_000  # under Lambda's 6 MB response limit (API Gateway buffers the whole body)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- Counter keys -----------------------------------------------------------------------------


def split_key(key: str) -> tuple[str, str]:
    """("W#2026-W47", "plan=pro") from the counter key "W#2026-W47#plan=pro"."""
    kind, period, segment = key.split("#", 2)
    return f"{kind}#{period}", segment


def segment_parts(segment: str) -> tuple[str, str] | None:
    """("plan", "pro") for the segment key "plan=pro"; None for everyone ("_")."""
    if segment == counters.ALL_SEGMENT:
        return None
    name, _, quoted = segment.partition("=")
    return name, unquote(quoted)


# The `property` query parameter of the metrics and the trend, declared once: parse_segment reads it, and
# chalicelib.admin.openapi publishes it. The syntax is that of every filter of the API (name:value, as the
# responses list takes it); here the name must be one of the campaign's segment properties, which are counted.
SEGMENT: dict[str, Any] = followups.PROPERTY_FILTER | {
    "description": "name:value of one of the campaign's segment properties, e.g. plan:pro; everyone when "
    "absent or empty"
}
OLD_SEGMENT = "segment"


def parse_segment(campaign: CampaignView, query: Mapping[str, str]) -> str:
    """The counter segment named by `?property=plan:pro` (a segment property of the campaign and a value);
    everyone when absent. ValidationError naming the segment properties for any other property, and for
    the former `segment=plan=pro`, which would otherwise be ignored and answer with everyone's numbers."""
    if OLD_SEGMENT in query:
        raise ValidationError(
            "segment is no longer read: filter with property=name:value (e.g. property=plan:pro), "
            "as every list and filter of the API does.",
            OLD_SEGMENT,
        )
    found = followups.parse_property_filter(query.get(SEGMENT["name"]))
    if found is None:
        return counters.ALL_SEGMENT
    name, value = found
    if name not in campaign.segments:
        known = ", ".join(campaign.segments) or "none"
        raise ValidationError(
            f"property is one of this campaign's segment properties ({known}), as name:value.", SEGMENT["name"]
        )
    return counters.segment_key(name, value)


def add_counts(total: dict[str, int], more: Mapping[str, int]) -> dict[str, int]:
    for name, value in more.items():
        total[name] = total.get(name, 0) + value
    return total


def sum_items(items: Mapping[str, Mapping[str, int]], periods: Iterable[str], segment: str) -> dict[str, int]:
    """The counts of one segment summed over the given periods (missing items count nothing)."""
    total: dict[str, int] = {}
    for period in periods:
        add_counts(total, items.get(counters.counter_key(period, segment), {}))
    return total


def by_segment(items: Mapping[str, Mapping[str, int]], periods: Iterable[str]) -> dict[str, dict[str, int]]:
    """{segment: counts summed over `periods`} for every segment present."""
    wanted = set(periods)
    out: dict[str, dict[str, int]] = {}
    for key, counts in items.items():
        period, segment = split_key(key)
        if period in wanted:
            add_counts(out.setdefault(segment, {}), counts)
    return out


# --- Periods ----------------------------------------------------------------------------------


def local_date(epoch: float, timezone: str) -> date:
    return datetime.fromtimestamp(epoch, ZoneInfo(timezone)).date()


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"W#{year}-W{week:02d}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_mondays(last_day: date, weeks: int) -> list[date]:
    """The Mondays of `weeks` ISO weeks ending with the week of `last_day`, oldest first."""
    last = monday_of(last_day)
    return [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def since_first_send(campaign: CampaignView, mondays: list[date]) -> list[date]:
    """The Mondays of weeks from the week of the campaign's first send on (in its time zone); none before
    it is sent. A week before the first send has no answers by construction: drawn as "no answers" it
    would read as silence."""
    if campaign.sent_at is None:
        return []
    first = monday_of(local_date(campaign.sent_at, campaign.timezone))
    return [monday for monday in mondays if monday >= first]


def day_periods(first: date, last: date) -> list[str]:
    return [f"D#{(first + timedelta(days=n)).isoformat()}" for n in range((last - first).days + 1)]


def day_parameter(name: str, description: str) -> dict[str, Any]:
    """A query parameter parse_day reads: a day, YYYY-MM-DD; left empty it means the default, as when absent."""
    schema = {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}]}
    return {"name": name, "in": "query", "schema": schema, "description": description}


FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


def parse_day(raw: str | None, field: str) -> date | None:
    """A day, YYYY-MM-DD, from 1970 to 9998 (weeks around it stay dates); None when empty. Counter items
    count whole days, so a time is refused by name."""
    if raw is None or raw == "":
        return None
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(
            f"{field} is a day such as 2026-09-01: the numbers are counted per day in the campaign's time zone.",
            field,
        )
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(f"{field} is a day from {FIRST_DAY} to {LAST_DAY}.", field)
    return day


# --- Metrics ----------------------------------------------------------------------------------


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


# What proportion_json, mean_json, nps_json, metrics, TrendPoint.to_json, metrics_for and trend_for
# return, declared once for chalicelib.admin.openapi.
_SHARE = {"type": ["number", "null"], "description": "a fraction, 0 to 1; null without answers"}
_UNMAILED = {
    "type": "integer",
    "description": "of the responses, those to no mailed invitation (posted through the v1 API): not in the rate",
}
PROPORTION_JSON: dict[str, Any] = {
    "type": "object",
    "description": "A share with its Wilson 95% interval; null values when there are no answers",
    "properties": {
        "successes": {"type": "integer"},
        "n": {"type": "integer"},
        "share": _SHARE,
        "low": _SHARE,
        "high": _SHARE,
        "interval": {"const": "wilson-95"},
    },
}
MEAN_JSON: dict[str, Any] = {
    "type": "object",
    "description": "A mean with its Student t 95% interval (low and high clipped to the question's scale, "
    "margin the unclipped half-width); null values when there are too few answers",
    "properties": {k: {"type": ["number", "null"]} for k in ("mean", "sd", "margin", "low", "high")}
    | {"n": {"type": "integer"}, "interval": {"const": "student-t-95"}},
}
_POINTS = {"type": ["number", "null"], "description": "NPS points, -100 to 100"}
NPS_JSON: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "null when the survey has no NPS question",
    "properties": {
        "question_id": {"type": "string"},
        "n": {"type": "integer"},
        "promoters": {"type": "integer"},
        "passives": {"type": "integer"},
        "detractors": {"type": "integer"},
        "score": {"type": ["number", "null"], "description": "NPS in points, -100 to 100; null without answers"},
        "interval": {
            "type": "object",
            "description": "Adjusted-Wald 95% interval (Rocks 2016): centre NPS', margin its half-width; low and "
            "high clipped to -100..100 and moved to take in the score where the interval would leave it out",
            "properties": {k: _POINTS for k in ("centre", "margin", "low", "high")}
            | {"method": {"const": "adjusted-wald-95"}},
        },
        "wald": {
            "type": "object",
            "description": "Plain Wald standard error (a fraction) and 95% margin (points), for comparison",
            "properties": {"se": {"type": ["number", "null"]}, "margin": {"type": ["number", "null"]}},
        },
    },
}
_HISTOGRAM = {
    "type": "object",
    "description": "answer to how many gave it",
    "additionalProperties": {"type": "integer"},
}
_SCALE = {
    "type": "object",
    "properties": {
        "question_id": {"type": "string"},
        "type": {"type": "string"},
        "histogram": _HISTOGRAM,
        "mean": MEAN_JSON,
    },
}
SEGMENT_JSON: dict[str, Any] = {
    "type": "object",
    "description": "`_` is everyone",
    "properties": {"key": {"type": "string"}, "property": {"type": "string"}, "value": {"type": "string"}},
}
METRICS_JSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "campaign_id": {"type": "string"},
        "segment": SEGMENT_JSON,
        "period": {
            "type": "object",
            "description": "What was summed: every week (no since/until) or the days from since to until, "
            "in the campaign's time zone",
            "properties": {
                "granularity": {"enum": ["week", "day"]},
                "since": {"type": "string", "format": "date"},
                "until": {"type": "string", "format": "date"},
                "timezone": {"type": "string"},
                "days_summed": {"type": "integer"},
                "days_with_counts": {"type": "integer"},
                "summed": {"type": "string"},
            },
        },
        "nps": NPS_JSON,
        "csat": {
            "type": "array",
            "description": "Per CSAT question: share of 4-5 answers with a Wilson interval, and the mean",
            "items": _SCALE
            | {"properties": _SCALE["properties"] | {"satisfied": PROPORTION_JSON | {"type": ["object", "null"]}}},
        },
        "ces": {"type": "array", "description": "Per CES question: mean with a Student t interval", "items": _SCALE},
        "scales": {
            "type": "array",
            "description": "Per other scale question: mean with a Student t interval",
            "items": _SCALE,
        },
        "choices": {
            "type": "array",
            "description": "Per choice question: the share of answers that picked each option",
            "items": {
                "type": "object",
                "properties": {
                    "question_id": {"type": "string"},
                    "type": {"enum": ["single_choice", "multi_choice"]},
                    "n": {"type": "integer"},
                    "options": {
                        "type": "array",
                        "items": {"allOf": [PROPORTION_JSON, {"properties": {"option": {"type": "string"}}}]},
                    },
                },
            },
        },
        "rates": {
            "type": "object",
            "properties": {
                "sent": {"type": "integer"},
                "responses": {"type": "integer"},
                "responses_unmailed": _UNMAILED,
                "comments": {"type": "integer"},
                "response_rate": PROPORTION_JSON,
                "comment_rate": PROPORTION_JSON,
            },
        },
    },
}
TREND_WEEK_JSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "week": {"type": "string", "example": "2026-W47"},
        "starts": {"type": "string", "format": "date"},
        "n": {"type": "integer"},
        "nps": _POINTS,
        "margin": _POINTS,
        "low": _POINTS,
        "high": _POINTS,
        "sent": {"type": "integer"},
        "responses": {"type": "integer"},
        "responses_unmailed": _UNMAILED,
        "response_rate": _SHARE,
        "comment_rate": _SHARE,
    },
}
TREND_JSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "campaign_id": {"type": "string"},
        "timezone": {"type": "string"},
        "segment": SEGMENT_JSON,
        "weeks": {
            "type": "array",
            "description": "oldest first, from the week of the campaign's first send on (none before it is sent)",
            "items": TREND_WEEK_JSON,
        },
    },
}


def proportion_json(p: nps.Proportion) -> dict:
    return {
        "successes": p.successes,
        "n": p.n,
        "share": _round(p.share),
        "low": _round(p.low),
        "high": _round(p.high),
        "interval": "wilson-95",
    }


def nps_json(stats: nps.NpsStats, question_id: str) -> dict:
    s, i = stats.summary, stats.interval
    return {
        "question_id": question_id,
        "n": s.n,
        "promoters": s.promoters,
        "passives": s.passives,
        "detractors": s.detractors,
        "score": _round(s.nps, 2),
        "interval": {
            "method": "adjusted-wald-95",
            "centre": _round(i.centre, 2),
            "margin": _round(i.margin, 2),
            "low": _round(i.low, 2),
            "high": _round(i.high, 2),
        },
        "wald": {"se": _round(stats.wald_se, 6), "margin": _round(stats.wald_margin, 2)},
    }


def mean_json(m: nps.MeanInterval) -> dict:
    return {
        "n": m.n,
        "mean": _round(m.mean),
        "sd": _round(m.sd),
        "margin": _round(m.margin),
        "low": _round(m.low),
        "high": _round(m.high),
        "interval": "student-t-95",
    }


def metrics(campaign: CampaignView, counts: Mapping[str, int]) -> dict:
    """NPS, CSAT, CES, other scales, choices and rates with their intervals, from one sum of counter items."""
    survey = campaign.survey
    nps_question = survey.nps_question
    out: dict[str, Any] = {
        "nps": nps_json(nps.from_counts(counts), nps_question.id) if nps_question else None,
        "csat": [],
        "ces": [],
        "scales": [],
        "choices": [],
    }
    for question in survey.questions:
        if question.is_scale and question.type != "nps":
            stats = nps.question_stats(counts, question.id, question.type, question.bounds)
            entry = {"question_id": question.id, "type": question.type, "histogram": stats.histogram}
            entry["mean"] = mean_json(stats.mean)
            if question.type == "csat":
                entry["satisfied"] = proportion_json(stats.csat) if stats.csat else None
            out[{"csat": "csat", "ces": "ces"}.get(question.type, "scales")].append(entry)
        elif question.type in ("single_choice", "multi_choice"):
            answered = counts.get(f"q.{question.id}.n", 0)
            options = [
                {"option": option, **proportion_json(nps.proportion(counts.get(f"q.{question.id}.o{i}", 0), answered))}
                for i, option in enumerate(question.options)
            ]
            out["choices"].append(
                {"question_id": question.id, "type": question.type, "n": answered, "options": options}
            )
    rates = nps.rates(counts)
    out["rates"] = {
        "sent": counts.get("sent", 0),
        "responses": counts.get("responses", 0),
        "responses_unmailed": counts.get("responses_unmailed", 0),
        "comments": counts.get("comments", 0),
        "response_rate": proportion_json(rates.response_rate),
        "comment_rate": proportion_json(rates.comment_rate),
    }
    return out


@dataclass(frozen=True)
class TrendPoint:
    week: str  # "2026-W47"
    starts: date
    counts: dict[str, int]

    @property
    def stats(self) -> nps.NpsStats:
        return nps.from_counts(self.counts)

    def to_json(self) -> dict:
        stats = self.stats
        rates = nps.rates(self.counts)
        return {
            "week": self.week,
            "starts": self.starts.isoformat(),
            "n": stats.summary.n,
            "nps": _round(stats.summary.nps, 2),
            "margin": _round(stats.interval.margin, 2),
            "low": _round(stats.interval.low, 2),
            "high": _round(stats.interval.high, 2),
            "sent": self.counts.get("sent", 0),
            "responses": self.counts.get("responses", 0),
            "responses_unmailed": self.counts.get("responses_unmailed", 0),
            "response_rate": _round(rates.response_rate.share),
            "comment_rate": _round(rates.comment_rate.share),
        }


def trend(items: Mapping[str, Mapping[str, int]], mondays: list[date], segment: str) -> list[TrendPoint]:
    """One point per ISO week (oldest first) for one segment, from week counter items."""
    points = []
    for monday in mondays:
        period = week_of(monday)
        points.append(TrendPoint(period[2:], monday, dict(items.get(counters.counter_key(period, segment), {}))))
    return points


# --- CSV export -------------------------------------------------------------------------------

CSV_FIXED = ("response_id", "email", "answered_at", "updated_at", "score", "category", "comment")


def neutralise(value: Any) -> str:
    """A cell no spreadsheet runs as a formula: text starting with = + - @ tab or CR gets a leading quote.

    The defence OWASP recommends ("CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection).
    """
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def iso(epoch: float | None) -> str:
    return "" if epoch is None else datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="seconds")


def _answer_cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def csv_page(campaign: CampaignView, invitations: list[Invitation], max_bytes: int) -> tuple[str, int]:
    """(CSV text with its header, rows written): one response a row, every answer and property.

    Property columns are the campaign's segment properties, then every other property present
    in this page; each page is a complete CSV. Rows stop before `max_bytes` (API Gateway buffers
    responses, 10 MB at most), and at least one row is always written so paging moves on.
    """
    questions = [q.id for q in campaign.survey.questions]
    seen = {name for inv in invitations for name in plain(inv.properties)}
    props = [*campaign.segments, *sorted(seen - set(campaign.segments))]
    header = [*CSV_FIXED, *(f"q.{q}" for q in questions), *(f"property.{p}" for p in props), "loop_status"]
    lines = [_csv_line(header)]
    size, written = len(lines[0].encode()), 0
    for invitation in invitations:
        answers, properties = plain(invitation.answers), plain(invitation.properties)
        line = _csv_line(
            [
                invitation.id,
                invitation.email,
                iso(invitation.answered_at),
                iso(invitation.updated_at),
                _answer_cell(invitation.score),
                invitation.category,
                invitation.comment,
                *(_answer_cell(answers.get(q)) for q in questions),
                *(properties.get(p) for p in props),
                invitation.loop_status,
            ]
        )
        size += len(line.encode())
        if written and size > max_bytes:
            break
        lines.append(line)
        written += 1
    return "".join(lines), written


def _csv_line(cells: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([neutralise(cell) for cell in cells])
    return out.getvalue()


# --- Reads for the metrics API ----------------------------------------------------------------


def segment_json(segment: str) -> dict:
    parts = segment_parts(segment)
    return {"key": segment, "property": parts[0], "value": parts[1]} if parts else {"key": segment}


def metrics_for(
    campaign: CampaignView, created_at: float, segment: str, since: date | None, until: date | None, now: float
) -> dict:
    """Metrics of one segment: all time from the week items, or from since to until (days in the
    campaign's time zone, both included) from the day items; the answer says what was summed."""
    if since is None and until is None:
        counts = totals(campaign.id, segment)
        period: dict[str, Any] = {"granularity": "week", "summed": "every week since the campaign began"}
    else:
        until = until or local_date(now, campaign.timezone)
        since = since or local_date(created_at, campaign.timezone)
        if since > until:
            raise ValidationError("since is after until.", "since")
        days = day_periods(since, until)
        if len(days) > MAX_DAYS:
            raise ValidationError(f"At most {MAX_DAYS} days; leave out since and until for all time.", "since")
        items = read_keys(campaign.id, [counters.counter_key(day, segment) for day in days])
        counts = sum_items(items, days, segment)
        period = {
            "granularity": "day",
            "since": since.isoformat(),
            "until": until.isoformat(),
            "timezone": campaign.timezone,
            "days_summed": len(days),
            "days_with_counts": len(items),
            "summed": f"day counters {days[0][2:]} to {days[-1][2:]} in {campaign.timezone}",
        }
    return {"campaign_id": campaign.id, "segment": segment_json(segment), "period": period, **metrics(campaign, counts)}


def categories_between(campaign: CampaignView, since: float, until: float) -> dict[str, int]:
    """{promoter, passive, detractor: answers} answered from `since` to `until` (epoch seconds, both included).

    The calendar days wholly inside (in the campaign's time zone, as the counters count) come from the
    day counter items, 100 a request; only the part-days at either end are read answer by answer from
    the responses index. A month of 100,000 answers costs about thirty counter items and two part-days,
    not 100,000 reads. The span is first narrowed to the campaign's first and last answers (two
    one-item reads), so `since=0` reads no day items from 1970. Counters trail an answer by the
    applier's minute, as the all-time figures do.
    """
    tally = dict.fromkeys(counters.CATEGORIES, 0)
    first, last = _answer_span(campaign.id)
    if first is None or last is None:
        return tally
    since, until = max(since, first), min(until, last)
    if since > until:
        return tally
    zone = ZoneInfo(campaign.timezone)
    start = datetime.fromtimestamp(since, zone).date()
    if _midnight(start, zone) < since:
        start += timedelta(days=1)
    end = datetime.fromtimestamp(until, zone).date() - timedelta(days=1)
    if start > end:
        _count_answers(campaign.id, since, until, None, tally)
        return tally
    _count_answers(campaign.id, since, _midnight(start, zone), _midnight(start, zone), tally)
    _count_answers(campaign.id, _midnight(end + timedelta(days=1), zone), until, None, tally)
    days = day_periods(start, end)
    counts = sum_items(
        read_keys(campaign.id, [counters.counter_key(d, counters.ALL_SEGMENT) for d in days]),
        days,
        counters.ALL_SEGMENT,
    )
    for category, name in counters.CATEGORY_COUNTERS.items():
        tally[category] += counts.get(name, 0)
    return tally


def _midnight(day: date, zone: ZoneInfo) -> float:
    return datetime.combine(day, datetime.min.time(), zone).timestamp()


def _answer_span(campaign_id: str) -> tuple[float | None, float | None]:
    """The first and the last answered_at of a campaign's answers; (None, None) without answers."""
    ends = []
    for forward in (True, False):
        found = Invitation.responses.query(
            campaign_id, scan_index_forward=forward, limit=1, attributes_to_get=["answered_at"]
        )
        ends.append(next((float(i.answered_at) for i in found), None))
    return ends[0], ends[1]


def _count_answers(campaign_id: str, low: float, high: float, below: float | None, tally: dict[str, int]) -> None:
    """Add the categories of the answers from `low` to `high` (both included), or below `below` when given."""
    condition = Invitation.answered_at.between(low, high)
    for invitation in Invitation.responses.query(campaign_id, condition, attributes_to_get=["category", "answered_at"]):
        if invitation.category in tally and (below is None or invitation.answered_at < below):
            tally[invitation.category] += 1


def trend_for(campaign: CampaignView, segment: str, weeks: int, until: date | None, now: float) -> dict:
    """One point per ISO week, oldest first, ending with the week of `until` (default: this week), and
    starting no earlier than the week of the first send (none before the campaign is sent)."""
    mondays = since_first_send(campaign, week_mondays(until or local_date(now, campaign.timezone), weeks))
    items = read_keys(campaign.id, [counters.counter_key(week_of(m), segment) for m in mondays])
    return {
        "campaign_id": campaign.id,
        "segment": segment_json(segment),
        "timezone": campaign.timezone,
        "weeks": [point.to_json() for point in trend(items, mondays, segment)],
    }


def export_page(
    campaign: CampaignView, cursor: dict | None, limit: int, wanted: casework.ResponseFilter | None = None
) -> tuple[str, dict | None]:
    """One page of the CSV export, oldest response first, and the cursor of the next page (None at the end).

    Reads at most `limit` matching responses (casework.find_responses: at most MAX_EXAMINED read) from
    the campaign-responses index, so memory and time stay bounded however large the campaign; the
    caller follows the cursor for the rest, with the same filter. The first
    page starts with a byte-order mark: without it Excel, opening the file by double-click,
    reads UTF-8 as the Windows code page and shows accented or Hebrew text as mojibake. Later
    pages have none, so pages appended to the first make one file.
    """
    invitations, after = casework.find_responses(
        campaign, wanted or casework.ResponseFilter(), cursor, limit, newest_first=False
    )
    text, written = csv_page(campaign, invitations, MAX_CSV_BYTES)
    if cursor is None:
        text = BOM + text
    if written < len(invitations):
        return text, casework.index_key(invitations[written - 1])
    return text, after
