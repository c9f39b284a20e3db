"""What a response adds to the counters, and how an edit moves them."""

from __future__ import annotations

from chalicelib import counters
from chalicelib.surveys import parse_survey

SURVEY = parse_survey(
    {
        "questions": [
            {"id": "nps", "type": "nps", "text": "?"},
            {"id": "csat", "type": "csat", "text": "?"},
            {"id": "tags", "type": "multi_choice", "text": "?", "options": ["a", "b", "c"]},
        ]
    }
)


def test_a_promoter_with_a_comment():
    assert counters.contribution(SURVEY, {"nps": 9, "csat": 4, "tags": ["a", "c"]}, "great") == {
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
    assert counters.contribution(SURVEY, {}, None) == {}


def test_changing_9_to_3_moves_exactly_one_count_from_promoters_to_detractors():
    old = counters.contribution(SURVEY, {"nps": 9}, None)
    new = counters.contribution(SURVEY, {"nps": 3}, None)
    assert counters.delta(old, new) == {
        "promoters": -1,
        "detractors": 1,
        "q.nps.sum": -6,
        "q.nps.sq": 9 - 81,
        "q.nps.v9": -1,
        "q.nps.v3": 1,
    }


def test_weeks_follow_the_campaign_time_zone():
    sunday_late_utc = 1_795_996_799  # 2026-11-29 23:59:59 UTC, a Sunday
    assert counters.week_period(sunday_late_utc, "UTC") == "W#2026-W48"
    assert counters.week_period(sunday_late_utc, "Europe/Paris") == "W#2026-W49"  # already Monday in Paris


def test_segment_codes_hide_values_but_name_them_consistently():
    codes = counters.segment_codes({"plan": "pro", "region": "eu"}, ["plan", "region"])
    assert len(codes) == 16 and "pro" not in codes
    keys = counters.segment_keys(["plan", "region"], codes)
    labels = counters.segment_labels({"plan": "pro", "region": "eu"}, ["plan", "region"])
    assert keys[0] == "_"
    assert [labels[k] for k in keys[1:]] == ["pro", "eu"]
    assert counters.segment_labels({}, ["plan"]) == {f"plan:{counters.segment_code(None)}": "(none)"}
