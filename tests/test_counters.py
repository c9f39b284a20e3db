"""What an invitation adds to the counters, period by period, and how a change moves them."""

from __future__ import annotations

from chalicelib.core import counters
from chalicelib.core.counters import CountState
from chalicelib.core.surveys import parse_survey

SURVEY = parse_survey(
    {
        "questions": [
            {"id": "nps", "type": "nps", "text": "?"},
            {"id": "csat", "type": "csat", "text": "?"},
            {"id": "tags", "type": "multi_choice", "text": "?", "options": ["a", "b", "c"]},
        ]
    }
)
MON_W48 = 1_795_392_000  # 2026-11-23 00:00 UTC, Monday of ISO week 48
DAY = 86400


def test_a_promoter_with_a_comment():
    assert counters.answer_counts(SURVEY, {"nps": 9, "csat": 4, "tags": ["a", "c"]}, "great") == {
        "responses": 1,
        "comments": 1,
        "promoters": 1,
        "q.nps.n": 1,
        "q.nps.sum": 9,
        "q.nps.sq": 81,
        "q.nps.v9": 1,
        "q.csat.n": 1,
        "q.csat.sum": 4,
        "q.csat.sq": 16,
        "q.csat.v4": 1,
        "q.tags.n": 1,
        "q.tags.o0": 1,
        "q.tags.o2": 1,
    }


def test_nothing_answered_counts_nothing():
    assert counters.answer_counts(SURVEY, {}, None) == {}


def test_an_answer_of_another_type_counts_for_nothing_instead_of_stopping_the_count():
    """A number stored for a choice (or text for a score) before it was refused must not raise: the applier
    counts every campaign in one run, and one bad item would stop them all."""
    counts = counters.answer_counts(SURVEY, {"nps": "nine", "csat": 4, "tags": 5}, None)
    assert counts == {"responses": 1, "q.csat.n": 1, "q.csat.sum": 4, "q.csat.sq": 16, "q.csat.v4": 1}


def test_changing_9_to_3_moves_exactly_one_count_from_promoters_to_detractors():
    old = counters.answer_counts(SURVEY, {"nps": 9}, None)
    new = counters.answer_counts(SURVEY, {"nps": 3}, None)
    assert counters.delta(old, new) == {
        "promoters": -1,
        "detractors": 1,
        "q.nps.sum": -6,
        "q.nps.sq": 9 - 81,
        "q.nps.v9": -1,
        "q.nps.v3": 1,
    }


def test_each_event_counts_in_the_week_and_on_the_day_it_happened():
    state = CountState(
        created_at=MON_W48,
        send_state="sent",
        sent_at=MON_W48 + 1 * DAY,
        reminders_sent=1,
        trap_hits=2,
        answered_at=MON_W48 + 8 * DAY,  # the next week
        answers={"nps": 10},
        comment="Too expensive, but support was great",
    )
    answer = {
        "responses": 1,
        "comments": 1,
        "promoters": 1,
        "theme.pricing": 1,
        "theme.support": 1,
        "q.nps.n": 1,
        "q.nps.sum": 10,
        "q.nps.sq": 100,
        "q.nps.v10": 1,
    }
    themes = {"pricing": ["expensive", "price"], "support": ["support"], "bugs": ["bug", "crash"]}
    assert counters.contribution(state, SURVEY, "UTC", themes) == {
        "W#2026-W48": {"invited": 1, "sent": 1, "reminders": 1, "trap_hits": 2},
        "D#2026-11-23": {"invited": 1},
        "D#2026-11-24": {"sent": 1, "reminders": 1, "trap_hits": 2},
        "W#2026-W49": answer,
        "D#2026-12-01": answer,
    }


def test_skips_and_failures_are_counted_with_their_reason():
    skipped = CountState(created_at=MON_W48, send_state="skipped", send_error="suppressed:unsubscribed")
    failed = CountState(created_at=MON_W48, send_state="failed", send_error="rejected:SES MessageRejected")
    older = CountState(created_at=MON_W48, send_state="failed", send_error="SES MessageRejected")
    assert counters.contribution(skipped, SURVEY, "UTC") == {
        "W#2026-W48": {"invited": 1, "skipped_suppressed": 1},
        "D#2026-11-23": {"invited": 1, "skipped_suppressed": 1},
    }
    assert counters.contribution(failed, SURVEY, "UTC")["W#2026-W48"] == {
        "invited": 1,
        "failed": 1,
        "failed_rejected": 1,
    }
    assert counters.contribution(older, SURVEY, "UTC")["W#2026-W48"] == {"invited": 1, "failed": 1, "failed_other": 1}


def test_period_deltas_expand_to_every_segment_of_the_invitation():
    old = {"W#2026-W48": {"sent": 1}}
    new = {"W#2026-W48": {"sent": 1, "bounced": 1}, "W#2026-W49": {"unsubscribed": 1}}
    change = counters.period_delta(old, new)
    assert change == {"W#2026-W48": {"bounced": 1}, "W#2026-W49": {"unsubscribed": 1}}
    keys = counters.segment_keys({"plan": "pro"}, ["plan", "region"])
    assert keys == ["_", "plan=pro", "region=(none)"]
    assert counters.expand(change, keys) == {
        "W#2026-W48#_": {"bounced": 1},
        "W#2026-W48#plan=pro": {"bounced": 1},
        "W#2026-W48#region=(none)": {"bounced": 1},
        "W#2026-W49#_": {"unsubscribed": 1},
        "W#2026-W49#plan=pro": {"unsubscribed": 1},
        "W#2026-W49#region=(none)": {"unsubscribed": 1},
    }


def test_weeks_follow_the_campaign_time_zone():
    sunday_late_utc = 1_795_996_799  # 2026-11-29 23:59:59 UTC, a Sunday
    assert counters.week_period(sunday_late_utc, "UTC") == "W#2026-W48"
    assert counters.week_period(sunday_late_utc, "Europe/Paris") == "W#2026-W49"  # already Monday in Paris


def test_segment_values_cannot_break_the_key():
    assert counters.segment_key("plan", "a#b=c") == "plan=a%23b%3Dc"
    assert counters.segment_key("plan", "  ") == "plan=(none)"
