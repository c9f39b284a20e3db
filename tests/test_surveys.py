"""Each question type validates its answer and says what is wrong; the NPS category is derived."""

from __future__ import annotations

import pytest

from chalicelib.core import nps
from chalicelib.core.errors import ValidationError
from chalicelib.core.surveys import AnswerError, parse_comment, parse_survey

SURVEY = parse_survey(
    {
        "questions": [
            {"id": "nps", "type": "nps", "text": "Recommend us?"},
            {"id": "csat", "type": "csat", "text": "Satisfied?"},
            {"id": "ces", "type": "ces", "text": "Easy?"},
            {"id": "stars", "type": "rating", "text": "Stars?", "points": 4},
            {"id": "plan", "type": "single_choice", "text": "Plan?", "options": ["Free", "Pro"]},
            {"id": "uses", "type": "multi_choice", "text": "Uses?", "options": ["A", "B", "C"], "max_choices": 2},
            {"id": "why", "type": "text", "text": "Why?"},
        ]
    }
)


@pytest.mark.parametrize(
    ("qid", "raw", "expected"),
    [
        ("nps", ["0"], 0),
        ("nps", ["10"], 10),
        ("csat", [" 5 "], 5),
        ("ces", ["7"], 7),
        ("stars", ["4"], 4),
        ("plan", ["Pro"], "Pro"),
        ("uses", ["C", "A"], ["A", "C"]),
        ("why", ["  slow exports  "], "slow exports"),
    ],
)
def test_each_type_accepts_its_answers(qid, raw, expected):
    assert SURVEY.question(qid).parse(raw) == expected


@pytest.mark.parametrize(
    ("qid", "raw", "message"),
    [
        ("nps", ["11"], "11 is outside the scale: choose a score from 0 to 10."),
        ("nps", ["-1"], "-1 is outside the scale: choose a score from 0 to 10."),
        ("nps", ["nine"], "“nine” is not a whole number: choose a score from 0 to 10."),
        ("nps", ["9.5"], "“9.5” is not a whole number: choose a score from 0 to 10."),
        ("nps", ["3", "4"], "Choose one score from 0 to 10, not several."),
        ("nps", [], "Please choose a score from 0 to 10."),
        ("csat", ["0"], "0 is outside the scale: choose a score from 1 to 5."),
        ("ces", ["8"], "8 is outside the scale: choose a score from 1 to 7."),
        ("stars", ["5"], "5 is outside the scale: choose a score from 1 to 4."),
        ("plan", ["Gold"], "“Gold” is not one of the choices."),
        ("plan", ["Free", "Pro"], "Choose one answer, not several."),
        ("uses", ["A", "D"], "“D” is not one of the choices."),
        ("uses", ["A", "B", "C"], "Please choose at most 2 (you chose 3)."),
        ("why", ["x" * 2001], "Please keep this under 2000 characters (it has 2001)."),
    ],
)
def test_each_type_explains_a_bad_answer(qid, raw, message):
    with pytest.raises(AnswerError) as caught:
        SURVEY.question(qid).parse(raw)
    assert caught.value.message == message
    assert caught.value.question_id == qid


def test_only_the_first_question_is_required_by_default():
    answers, errors = SURVEY.parse_answers({"q_csat": ["4"]})
    assert answers == {"csat": 4}
    assert errors == {"nps": "Please choose a score from 0 to 10."}


def test_parse_answers_collects_every_error_and_keeps_good_answers():
    answers, errors = SURVEY.parse_answers({"q_nps": ["9"], "q_ces": ["0"], "q_plan": ["Gold"], "q_why": [""]})
    assert answers == {"nps": 9}
    assert set(errors) == {"ces", "plan"}


def test_comment_is_trimmed_and_limited():
    assert parse_comment(["  hello  "]) == "hello"
    assert parse_comment([""]) is None
    with pytest.raises(AnswerError, match="under 5000 characters"):
        parse_comment(["x" * 5001])


@pytest.mark.parametrize(
    ("score", "category"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_category_is_derived_from_the_score(score, category):
    assert nps.category(score) == category


@pytest.mark.parametrize(
    ("definition", "field", "message"),
    [
        ({"questions": []}, "survey.questions", "at least one question"),
        (
            {"questions": [{"id": "a", "type": "stars", "text": "?"}]},
            "survey.questions[0].type",
            "Unknown question type",
        ),
        ({"questions": [{"id": "A b", "type": "nps", "text": "?"}]}, "survey.questions[0].id", "question id"),
        ({"questions": [{"id": "a", "type": "nps", "text": " "}]}, "survey.questions[0].text", "needs its text"),
        (
            {"questions": [{"id": "a", "type": "rating", "text": "?", "points": 11}]},
            "survey.questions[0].points",
            "2 to 10 points",
        ),
        (
            {"questions": [{"id": "a", "type": "single_choice", "text": "?", "options": ["x"]}]},
            "survey.questions[0].options",
            "2 to 20",
        ),
        (
            {"questions": [{"id": "a", "type": "nps", "text": "?"}, {"id": "a", "type": "text", "text": "?"}]},
            "survey.questions[1].id",
            "used twice",
        ),
        (
            {"questions": [{"id": "a", "type": "text", "text": "?"}]},
            "survey.questions[0].type",
            "answered in the email itself",
        ),
    ],
)
def test_bad_survey_definitions_name_the_field(definition, field, message):
    with pytest.raises(ValidationError) as caught:
        parse_survey(definition)
    assert caught.value.field == field
    assert message in caught.value.message


def test_one_click_values_for_the_email():
    assert SURVEY.first.one_click_values() == [str(v) for v in range(11)]
    assert SURVEY.question("plan").one_click_values() == ["Free", "Pro"]
    assert SURVEY.question("why").one_click_values() == []
