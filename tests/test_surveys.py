"""Each question type validates its answer and says what is wrong; the NPS category is derived. A survey
that comes in through the admin API is held to its declaration; a stored one is read as it always was."""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.campaigns import campaigns
from chalicelib.core import counters, nps
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ValidationError
from chalicelib.core.surveys import QUESTION_SCHEMA, AnswerError, parse_comment, parse_survey
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from chalicelib.sending.invitations import invitation_id
from chalicelib.store.models import Campaign, Invitation
from tests.conftest import admin_headers, html_links, local_path, read_outbox
from tests.helpers import drain, open_page, submit

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
            "Unknown question type “stars”: use one of nps,",
        ),
        ({"questions": [{"id": "a", "text": "?"}]}, "survey.questions[0].type", "A question needs its type: use one"),
        (
            {"questions": [{"id": "a", "type": ["nps"], "text": "?"}]},
            "survey.questions[0].type",
            "type is a string, not a list: use one of",
        ),
        (
            {"questions": [{"id": "a", "type": "x" * 20000, "text": "?"}]},
            "survey.questions[0].type",
            f"Unknown question type “{'x' * 40}”: use",
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


# --- a survey as it comes in: POST and PATCH /api/campaigns ---------------------------------------

NPS_Q = {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"}
TEXT_Q = {"id": "why", "type": "text", "text": "Why?"}
PICK_Q = {"id": "pick", "type": "single_choice", "text": "Which?", "options": ["A", "B"]}
RATE_Q = {"id": "stars", "type": "rating", "text": "Stars?"}
MANY_Q = {"id": "many", "type": "multi_choice", "text": "Which ones?", "options": ["A", "B", "C"]}
LONG_OPTION = "Faster exports " + "x" * 86  # 101 characters
# (the survey's questions, the field refused, its message)
REFUSED = [
    ([NPS_Q, TEXT_Q | {"required": "false"}], "[1].required", "required is true or false, not the string “false”."),
    ([NPS_Q, TEXT_Q | {"required": 0}], "[1].required", "required is true or false, not the number 0."),
    ([NPS_Q, TEXT_Q | {"required": None}], "[1].required", "required is true or false, not null."),
    ([NPS_Q | {"required": "true"}], "[0].required", "required is true or false, not the string “true”."),
    ([NPS_Q | {"text": {"en": "Hi?"}}], "[0].text", "text is a string, not an object."),
    ([NPS_Q | {"text": "x" * 1001}], "[0].text", "text has at most 1000 characters; this one has 1001."),
    ([NPS_Q | {"low_label": {"a": 1}}], "[0].low_label", "low_label is a string, not an object."),
    ([NPS_Q | {"high_label": 10}], "[0].high_label", "high_label is a string, not the number 10."),
    ([NPS_Q | {"low_label": "x" * 201}], "[0].low_label", "low_label has at most 200 characters; this one has 201."),
    ([NPS_Q, PICK_Q | {"options": "A, B"}], "[1].options", "options is a list, not the string “A, B”."),
    ([NPS_Q, PICK_Q | {"options": ["A", 2]}], "[1].options", "options is a list of texts; option 2 is the number 2."),
    (
        [NPS_Q, PICK_Q | {"options": ["A", LONG_OPTION]}],
        "[1].options",
        "Option 2 (“Faster exports xxxxxxxxxxxxxxx…”) has 101 characters; each has at most 100.",
    ),
    (
        [NPS_Q, PICK_Q | {"options": ["A", "Line 1\nLine 2"]}],
        "[1].options",
        "Option 2 (“Line 1\ufffdLine 2”) cannot hold a line break (U+000A): an option is one line of text.",
    ),
    (
        [NPS_Q, PICK_Q | {"options": ["A\u0000", "B"]}],
        "[1].options",
        "Option 1 (“A\ufffd”) cannot hold a control character (U+0000): an option is one line of text.",
    ),
    (
        [NPS_Q, PICK_Q | {"options": ["A", "Line\u2028separator"]}],  # a textarea would split it into two
        "[1].options",
        "Option 2 (“Line\ufffdseparator”) cannot hold a line break (U+2028): an option is one line of text.",
    ),
    (
        [NPS_Q | {"text": "Rec\u0000om\u0007mend\u001b[31m?"}],
        "[0].text",
        "text cannot hold a control character (U+0000): it is shown in emails and pages.",
    ),
    (
        [NPS_Q | {"low_label": "lo\u0000w"}],
        "[0].low_label",
        "low_label cannot hold a control character (U+0000): it is shown in emails and pages.",
    ),
    (
        [NPS_Q, PICK_Q | {"options": ["A", "B", "A\u200b"]}],
        "[1].options",
        "Options 1 and 3 (“A\u200b”) look the same to a customer: make each choice read differently.",
    ),
    (
        [NPS_Q, PICK_Q | {"options": ["caf\u00e9", "cafe\u0301"]}],
        "[1].options",
        "Options 1 and 2 (“cafe\u0301”) look the same to a customer: make each choice read differently.",
    ),
    (
        [NPS_Q, PICK_Q | {"options": ["\u2764", "\u2764\ufe0f"]}],
        "[1].options",
        "Options 1 and 2 (“\u2764\ufe0f”) look the same to a customer: make each choice read differently.",
    ),
    (
        [NPS_Q, PICK_Q | {"options": ["A", "\u3164"]}],
        "[1].options",
        "Option 2 shows nothing: it has only spaces or invisible characters.",
    ),
    (
        [NPS_Q, PICK_Q | {"options": ["A", "\u0301"]}],
        "[1].options",
        "Option 2 shows nothing: it has only spaces or invisible characters.",
    ),
    (
        [NPS_Q, PICK_Q | {"options": ["A", "\u200b"]}],
        "[1].options",
        "Option 2 shows nothing: it has only spaces or invisible characters.",
    ),
    ([NPS_Q, RATE_Q | {"points": "5"}], "[1].points", "points is a whole number, not the string “5”."),
    ([NPS_Q, RATE_Q | {"points": True}], "[1].points", "points is a whole number, not the boolean true."),
    ([NPS_Q, MANY_Q | {"max_choices": 2.5}], "[1].max_choices", "max_choices is a whole number, not the number 2.5."),
    (
        [NPS_Q | {"options": ["A", "B"]}],
        "[0].options",
        "options is for single_choice and multi_choice questions only, not nps.",
    ),
    (
        [NPS_Q, TEXT_Q | {"low_label": "No"}],
        "[1].low_label",
        "low_label is for nps, csat, ces and rating questions only, not text.",
    ),
    ([NPS_Q, PICK_Q | {"points": 5}], "[1].points", "points is for rating questions only, not single_choice."),
    (
        [NPS_Q, TEXT_Q | {"min_choices": 1}],
        "[1].min_choices",
        "min_choices is for multi_choice questions only, not text.",
    ),
    (
        [NPS_Q | {"requried": True}],
        "[0].requried",
        "Unknown field 'requried': a question has id, type, text, required, options, points, low_label, "
        "high_label, min_choices, max_choices.",
    ),
    (
        [NPS_Q | {"id": "nps\n"}],
        "[0].id",
        "A question id is 1-32 lower-case letters, digits or underscores, starting with a letter.",
    ),
    (
        [NPS_Q | {"id": "n" * 33}],
        "[0].id",
        "A question id is 1-32 lower-case letters, digits or underscores, starting with a letter.",
    ),
]


def _api(client, method: str, path: str, body: dict):
    return client.http.request(method, path, body=json.dumps(body), headers=admin_headers())


@pytest.mark.parametrize(("questions", "field", "message"), REFUSED, ids=[f"{r[1]}-{i}" for i, r in enumerate(REFUSED)])
def test_a_bad_question_is_refused_naming_its_field_on_create_and_on_update(client, questions, field, message):
    body = {"name": "Spring check-in", "survey": {"questions": questions}}
    created = _api(client, "POST", "/api/campaigns", body)
    assert created.status_code == 400
    assert created.json_body["error"] == {"field": f"survey.questions{field}", "message": message}
    listed = client.http.get("/api/campaigns", headers=admin_headers()).json_body
    assert [c["name"] for c in listed["campaigns"]] == []

    draft = _api(client, "POST", "/api/campaigns", {"name": "Spring check-in", "survey": {"questions": [NPS_Q]}})
    path = f"/api/campaigns/{draft.json_body['campaign']['id']}"
    updated = _api(client, "PATCH", path, {"survey": {"questions": questions}})
    assert updated.status_code == 400
    assert updated.json_body["error"] == {"field": f"survey.questions{field}", "message": message}
    kept = client.http.get(path, headers=admin_headers()).json_body["campaign"]["survey"]["questions"]
    assert [q["id"] for q in kept] == ["nps"] and kept[0]["text"] == NPS_Q["text"]


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        (
            {"intro": "a\u0000b"},
            "options.intro",
            "This text goes into emails and pages, so it cannot hold a control character (U+0000).",
        ),
        (
            {"ack": {"promoter": {"subject": "Thanks", "body": "Thank you\u001b[31m!"}}},
            "options.ack.promoter.body",
            "This text goes into emails and pages, so it cannot hold a control character (U+001B).",
        ),
        (
            {"themes": {"pricing": ["pri\u0007ce"]}},
            "options.themes.pricing",
            "A keyword cannot hold a control character (U+0007).",
        ),
        (
            {"themes": {"pri\u0000ce": ["price"]}},
            "options.themes.pri\ufffdce",
            "A theme name is lower-case letters, digits, _ or -, not “pri\ufffdce”.",
        ),
        (
            {"translations": {"fr": {"questions": {"nps": {"text": "Recomm\u0000andez ?"}}}}},
            "options.translations.fr.questions.nps.text",
            "text cannot hold a control character (U+0000).",
        ),
    ],
)
def test_a_control_character_in_a_text_for_emails_and_pages_is_refused_naming_it(client, options, field, message):
    body = {"name": "Controls", "survey": {"questions": [NPS_Q]}, "options": options}
    refused = _api(client, "POST", "/api/campaigns", body)
    assert refused.status_code == 400
    assert refused.json_body["error"] == {"field": field, "message": message}
    kept = {"intro": "Line one\n\tLine two", "ack": {"promoter": {"subject": "Thanks", "body": "Thank you!\r\nSam"}}}
    accepted = _api(client, "POST", "/api/campaigns", {**body, "options": kept})  # tab and line breaks are text
    assert accepted.status_code == 201, accepted.body


def test_a_survey_takes_only_its_questions(client):
    body = {"name": "Spring check-in", "survey": {"questions": [NPS_Q], "title": "Spring"}}
    refused = _api(client, "POST", "/api/campaigns", body)
    assert refused.status_code == 400
    assert refused.json_body["error"] == {
        "field": "survey.title",
        "message": "Unknown field 'title': a survey has only questions.",
    }


def test_every_declared_question_field_of_the_wrong_json_type_is_refused_by_its_path(client):
    """The declaration is the parser's: a new key of QUESTION_SCHEMA is type-checked without more code."""
    wrong = {"string": 12345, "boolean": "yes", "integer": "5", "array": "A, B"}
    takes = {"points": RATE_Q, "low_label": RATE_Q, "high_label": RATE_Q, "options": MANY_Q}
    takes |= {"min_choices": MANY_Q, "max_choices": MANY_Q}
    checked = []
    for key, schema in QUESTION_SCHEMA["properties"].items():
        if "type" not in schema:  # an enum (the question's type), named by its own message
            continue
        question = takes.get(key, TEXT_Q) | {key: wrong[schema["type"]]}
        body = {"name": "Spring check-in", "survey": {"questions": [NPS_Q, question]}}
        refused = _api(client, "POST", "/api/campaigns", body)
        assert refused.status_code == 400, key
        assert refused.json_body["error"]["field"] == f"survey.questions[1].{key}", refused.json_body
        checked.append(key)
    assert {"required", "text", "low_label", "options", "points"} <= set(checked)


def test_questions_at_every_limit_are_taken_and_read_back_whole(client):
    questions = [
        NPS_Q | {"text": "x" * 1000, "low_label": "l" * 200, "high_label": "h" * 200, "required": True},
        MANY_Q | {"options": [f"{n:02d}" + "o" * 98 for n in range(20)], "required": False, "min_choices": 0},
    ]
    created = _api(client, "POST", "/api/campaigns", {"name": "Long", "survey": {"questions": questions}})
    assert created.status_code == 201, created.json_body
    stored = created.json_body["campaign"]["survey"]["questions"]
    assert stored[0]["text"] == "x" * 1000 and stored[0]["low_label"] == "l" * 200
    assert stored[1]["options"] == questions[1]["options"] and stored[1]["required"] is False


# --- a survey as it was stored: read as it always was ---------------------------------------------

# What a campaign accepted before the checks above may hold: texts over their limits, a boolean written as
# text, keys its type does not take or no key at all.
LOOSE = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "Long? " + "x" * 1500, "low_label": "Never " + "n" * 300},
        {
            "id": "pick",
            "type": "single_choice",
            "text": "Which?",
            "required": "false",
            "points": 3,
            "options": ["Short", "Long " + "o" * 150],
            "hint": "an old key",
        },
    ]
}


def test_a_stored_campaign_of_the_old_loose_shape_still_loads_and_its_survey_page_renders(client, outbox):
    now = time.time()
    draft = campaigns.create_campaign(campaigns.parse_campaign({"name": "Old", "survey": {"questions": [NPS_Q]}}), now)
    Campaign.get(draft.id).update(actions=[Campaign.survey.set(LOOSE)])
    campaigns.forget(draft.id)
    path = f"/api/campaigns/{draft.id}"

    read = client.http.get(path, headers=admin_headers())
    assert read.status_code == 200
    survey = read.json_body["campaign"]["survey"]
    assert survey["questions"][0]["text"] == LOOSE["questions"][0]["text"] and survey["questions"][1]["required"]
    assert _api(client, "PATCH", path, {"options": {"company": "Acme"}}).status_code == 200
    resaved = _api(client, "PATCH", path, {"survey": survey})  # what comes in is held to the limits
    assert resaved.status_code == 400 and resaved.json_body["error"]["field"] == "survey.questions[0].text"

    recipients = [(0, {"email": "ada@example.com"})]
    imports.start(campaigns.get_view(draft.id), recipients, "recipients", now, get_settings(), get_queue())
    campaigns.start_sending(draft.id, now - 3600, None, get_queue())
    drain(lambda: time.time() - 3600)
    (message,) = read_outbox(outbox)
    assert "Never " + "n" * 300 in message.get_body(("html",)).get_content()
    page = local_path(next(u for u in html_links(message) if "/s/" in u and "?a=" not in u and not u.endswith("/t")))
    status, html = open_page(client, page)
    assert status == 200
    assert "x" * 1500 in html and "Long " + "o" * 150 in html and "Never " + "n" * 300 in html

    answered = submit(client, page, {"q_nps": "9", "q_pick": "Long " + "o" * 150})
    assert answered.status_code == 200 and "Thank you!" in answered.body.decode()
    stored = Invitation.get(invitation_id(draft.id, "ada@example.com"), consistent_read=True).answers
    assert counters.plain(stored) == {"nps": 9, "pick": "Long " + "o" * 150}
    assert _api(client, "PATCH", path, {"options": {"subject": "Hello"}}).status_code == 200
