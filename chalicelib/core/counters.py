"""What one invitation adds to its campaign's counters, as plain numbers. Pure functions.

Counter items are keyed by campaign, period and segment (docs/data-model.md). Everything an
invitation contributes (invited, sent, skipped, bounced, scanner activity, and its response)
is derived from the invitation's own state, period by period. The counting applier
(chalicelib.answers.counting) moves the counters by `new - counted` for each invitation, exactly
once per revision, so the counters always converge to the sum of every invitation's
contribution however writes interleave, and a rebuild is the same computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote

from chalicelib.core.surveys import Question, Survey
from chalicelib.core.themes import detect

ALL_SEGMENT = "_"
NO_VALUE = "(none)"
PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"
CATEGORIES = (PROMOTER, PASSIVE, DETRACTOR)
CATEGORY_COUNTERS = {PROMOTER: "promoters", PASSIVE: "passives", DETRACTOR: "detractors"}
Counts = dict[str, int]


def category(score: int) -> str:
    """Derived from the 0-10 score, never entered (Reichheld 2003, The One Number You Need to Grow)."""
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS score is 0 to 10, not {score}")
    if score >= 9:
        return PROMOTER
    if score >= 7:
        return PASSIVE
    return DETRACTOR


def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo  # cold start: zoneinfo reads sysconfig on import; recording an answer needs no zone

    return ZoneInfo(name)


def week_period(epoch: float, timezone: str) -> str:
    """The ISO week in the campaign's time zone, so a Monday digest covers Monday to Sunday there."""
    year, week, _ = datetime.fromtimestamp(epoch, _zone(timezone)).isocalendar()
    return f"W#{year}-W{week:02d}"


def day_period(epoch: float, timezone: str) -> str:
    """The calendar day in the campaign's time zone: daily digests, months, any since/until."""
    return f"D#{datetime.fromtimestamp(epoch, _zone(timezone)).date().isoformat()}"


def segment_label(value: Any) -> str:
    text = str(value).strip()[:64] if value is not None else ""
    return text or NO_VALUE


def segment_key(name: str, value: Any) -> str:
    """`plan=pro`; the value is percent-quoted so `#` and `=` in data cannot break the key."""
    return f"{name}={quote(segment_label(value), safe=' ()@.,:;_-')}"


def segment_keys(properties: Mapping[str, Any], segments: Sequence[str]) -> list[str]:
    return [ALL_SEGMENT, *(segment_key(name, properties.get(name)) for name in segments)]


def counter_key(period: str, segment: str) -> str:
    return f"{period}#{segment}"


def answer_counts(
    survey: Survey,
    answers: Mapping[str, Any],
    comment: str | None,
    themes: Mapping[str, Sequence[str]] | None = None,
    removed_comment: Sequence[str] | None = None,
) -> Counts:
    """What one recorded response adds; empty when nothing is answered. `removed_comment`: the themes of a
    comment retention removed (chalicelib.privacy.retention), counted as that comment was."""
    if not answers:
        return {}
    counts = {"responses": 1}
    if comment:
        counts["comments"] = 1
        for theme in detect(comment, themes or {}):
            counts[f"theme.{theme}"] = 1
    elif removed_comment is not None:
        counts["comments"] = 1
        for theme in removed_comment:
            counts[f"theme.{theme}"] = 1
    nps_question = survey.nps_question
    if nps_question and _fits(nps_question, answers.get(nps_question.id)):
        counts[CATEGORY_COUNTERS[category(answers[nps_question.id])]] = 1
    for qid, value in answers.items():
        question = survey.question(qid)
        if question is None or not _fits(question, value):
            continue
        prefix = f"q.{qid}."
        counts[prefix + "n"] = 1
        if question.is_scale:
            counts[prefix + "sum"] = value
            counts[prefix + "sq"] = value * value
            counts[f"{prefix}v{value}"] = 1
        elif question.type in ("single_choice", "multi_choice"):
            for choice in [value] if isinstance(value, str) else value:
                if choice in question.options:
                    counts[f"{prefix}o{question.options.index(choice)}"] = 1
    return {name: value for name, value in counts.items() if value}


def _fits(question: Question, value: Any) -> bool:
    """An answer of the question's type; another (a number stored for a choice before it was refused)
    counts for nothing rather than stopping the count of every campaign."""
    if question.is_scale:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if question.type == "multi_choice":
        return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    return isinstance(value, str)


FAILURE_KINDS = ("template", "message", "rejected", "gave_up", "error")  # chalicelib.sending.delivery.failure_reason


@dataclass(frozen=True)
class CountState:
    """The fields of an invitation its counts derive from."""

    created_at: float
    send_state: str = "pending"
    send_error: str | None = None
    sent_at: float | None = None
    reminders_sent: int = 0
    bounced_at: float | None = None
    complained_at: float | None = None
    unsubscribed_at: float | None = None
    filtered: int = 0
    trap_hits: int = 0
    held: bool = False
    answered_at: float | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)
    comment: str | None = None
    ack_sent_at: float | None = None
    alerted_at: float | None = None
    contacted_at: float | None = None
    resolved_at: float | None = None
    removed_comment: tuple[str, ...] | None = None  # the themes of a comment retention removed


def contribution(
    state: CountState, survey: Survey, timezone: str, themes: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Counts]:
    """{period: counts}: each event counts in the week and on the day it happened (delivery events
    when the invitation was sent), so weekly, daily and monthly numbers all come from counters."""
    periods: dict[str, Counts] = {}

    def add(at: float, counts: Mapping[str, int]) -> None:
        for period in (week_period(at, timezone), day_period(at, timezone)):
            bucket = periods.setdefault(period, {})
            for name, value in counts.items():
                if value:
                    bucket[name] = bucket.get(name, 0) + value

    add(state.created_at, {"invited": 1})
    if state.send_state == "skipped":
        add(state.created_at, {f"skipped_{(state.send_error or 'other').split(':')[0]}": 1})
    elif state.send_state == "failed":
        kind = (state.send_error or "").split(":")[0]
        add(state.created_at, {"failed": 1, f"failed_{kind if kind in FAILURE_KINDS else 'other'}": 1})
    delivered_at = state.sent_at if state.sent_at is not None else state.created_at
    add(
        delivered_at,
        {
            "sent": 1 if state.sent_at is not None else 0,
            "reminders": state.reminders_sent,
            "bounced": 1 if state.bounced_at is not None else 0,
            "complained": 1 if state.complained_at is not None else 0,
            "filtered": 1 if state.filtered else 0,  # per invitation, however many presses
            "held": 1 if state.held else 0,
            "trap_hits": state.trap_hits,
        },
    )
    if state.unsubscribed_at is not None:
        add(state.unsubscribed_at, {"unsubscribed": 1})
    if state.answered_at is not None:
        answered = answer_counts(survey, state.answers, state.comment, themes, state.removed_comment)
        if answered and state.sent_at is None:  # a response, but to no invitation mailed: kept out of the rate
            answered["responses_unmailed"] = 1
        add(state.answered_at, answered)
        for name, at in (("ack", state.ack_sent_at), ("contact", state.contacted_at), ("close", state.resolved_at)):
            if at is not None:  # how long customers waited, measured per campaign
                add(at, {f"loop.{name}.n": 1, f"loop.{name}.seconds": max(0, round(at - state.answered_at))})
        if state.alerted_at is not None:
            add(state.alerted_at, {"cases.opened": 1})
    return {period: counts for period, counts in periods.items() if counts}


def delta(old: Mapping[str, int], new: Mapping[str, int]) -> Counts:
    """new minus old, zeros left out."""
    changes = {k: new.get(k, 0) - old.get(k, 0) for k in set(old) | set(new)}
    return {k: v for k, v in sorted(changes.items()) if v}


def period_delta(old: Mapping[str, Mapping[str, int]], new: Mapping[str, Mapping[str, int]]) -> dict[str, Counts]:
    changes = {p: delta(old.get(p, {}), new.get(p, {})) for p in set(old) | set(new)}
    return {p: c for p, c in sorted(changes.items()) if c}


def expand(changes: Mapping[str, Mapping[str, int]], segments: Iterable[str]) -> dict[str, Counts]:
    """{counter key: counts}: every period's change applies to each segment the invitation belongs to."""
    segments = list(segments)
    return {counter_key(period, seg): dict(counts) for period, counts in changes.items() for seg in segments}


def add_into(total: dict[str, Counts], more: Mapping[str, Mapping[str, int]]) -> None:
    for key, counts in more.items():
        bucket = total.setdefault(key, {})
        for name, value in counts.items():
            bucket[name] = bucket.get(name, 0) + value


def plain(value: Any) -> dict:
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)
