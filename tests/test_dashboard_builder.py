"""The campaign builder's first half: a new draft, its basics and its survey, from the dashboard.

The pages call the admin API's own use cases, so the last test sends the same bad campaign to
POST /api/campaigns and to the dashboard's forms and finds the same message next to the same field.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import urlencode

import pytest

from tests.conftest import admin_headers
from tests.dashboard_support import (
    FORM_HEADERS,
    VALID_CAMPAIGN,
    assert_one_validation,
    csrf_of,
    fid,
    session_headers,
    shown_error,
    submit_form,
)

NPS = {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"}


def api_create(client, **fields) -> str:
    response = client.http.post("/api/campaigns", body=json.dumps(VALID_CAMPAIGN | fields), headers=admin_headers())
    assert response.status_code == 201, response.body
    return response.json_body["campaign"]["id"]


def api_campaign(client, campaign_id: str) -> dict:
    return client.http.get(f"/api/campaigns/{campaign_id}", headers=admin_headers()).json_body["campaign"]


def value_of(html: str, path: str) -> str | None:
    """What an input, textarea or select named `path` shows."""
    ident = re.escape(fid(path))
    found = re.search(rf'<input[^>]*\bid="{ident}"[^>]*\bvalue="([^"]*)"', html)
    if found:
        return unescape(found.group(1))
    found = re.search(rf'<textarea[^>]*\bid="{ident}"[^>]*>(.*?)</textarea>', html, re.S)
    if found:
        return unescape(found.group(1))
    found = re.search(rf'<select[^>]*\bid="{ident}"[^>]*>(.*?)</select>', html, re.S)
    if found:
        chosen = re.search(r'<option value="([^"]*)" selected>', found.group(1))
        return unescape(chosen.group(1)) if chosen else None
    return None


def survey_fields(questions: list[dict[str, str]]) -> dict[str, str]:
    """The survey step's form for these typed questions (strings, as a browser sends them)."""
    return {f"survey.questions[{i}].{key}": value for i, q in enumerate(questions) for key, value in q.items()}


def post_survey(client, campaign_id: str, headers: dict, questions: list[dict[str, str]], action: str = "save"):
    path = f"/dashboard/campaigns/{campaign_id}/edit/survey"
    return submit_form(client, path, headers, {"action": action, **survey_fields(questions)})


# --- create and edit -----------------------------------------------------------------------------


def test_an_admin_creates_a_draft_that_starts_with_one_nps_question(client):
    admin = session_headers()
    listing = client.http.get("/dashboard/campaigns", headers=admin).body.decode()
    assert 'href="/dashboard/campaigns/new"' in listing
    page = client.http.get("/dashboard/campaigns/new", headers=admin).body.decode()
    assert '<option value="Europe/Paris">' in page and 'list="timezones"' in page
    fields = {"name": "Spring", "kind": "recurring", "interval_days": "90", "timezone": "Europe/Paris"}
    response = submit_form(
        client, "/dashboard/campaigns/new", admin, fields | {"segments": "plan\r\n\r\n country \r\n"}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    campaign_id = re.fullmatch(r"/dashboard/campaigns/([^/]+)/edit/survey\?saved=created", location).group(1)
    stored = api_campaign(client, campaign_id)
    assert (stored["status"], stored["name"], stored["kind"], stored["interval_days"]) == (
        "draft",
        "Spring",
        "recurring",
        90,
    )
    assert (stored["timezone"], stored["segments"]) == ("Europe/Paris", ["plan", "country"])
    [question] = stored["survey"]["questions"]
    assert (question["type"], question["text"]) == (
        "nps",
        "How likely are you to recommend us to a friend or colleague?",
    )
    survey = client.http.get(location, headers=admin).body.decode()
    assert "The draft is saved" in survey
    assert value_of(survey, "survey.questions[0].type") == "nps"


def test_a_refused_new_campaign_keeps_what_was_typed(client):
    admin = session_headers()
    fields = {
        "name": "Spring",
        "kind": "recurring",
        "interval_days": "abc",
        "timezone": "Europe/Paris",
        "segments": "plan",
    }
    response = submit_form(client, "/dashboard/campaigns/new", admin, fields)
    html = response.body.decode()
    assert response.status_code == 400
    assert shown_error(html, "interval_days") == "A recurring campaign asks again every 7 to 730 days."
    assert 'aria-describedby="f-interval_days-hint f-interval_days-error" aria-invalid="true"' in html
    assert [value_of(html, key) for key in fields] == list(fields.values())
    assert client.http.get("/api/campaigns", headers=admin_headers()).json_body["campaigns"] == []


def test_a_refused_new_campaign_shows_every_bad_field_beside_it_the_api_s_first(client):
    admin = session_headers()
    fields = {"name": "x" * 5000, "kind": "one_off", "interval_days": "", "timezone": "Mars/Olympus", "segments": ""}
    api = client.http.post(
        "/api/campaigns",
        body=json.dumps(VALID_CAMPAIGN | {"name": "x" * 5000, "timezone": "Mars/Olympus"}),
        headers=admin_headers(),
    )
    response = submit_form(client, "/dashboard/campaigns/new", admin, fields)
    html = response.body.decode()
    assert response.status_code == 400
    assert shown_error(html, "name") == api.json_body["error"]["message"]
    timezone = client.http.post(
        "/api/campaigns", body=json.dumps(VALID_CAMPAIGN | {"timezone": "Mars/Olympus"}), headers=admin_headers()
    )
    assert shown_error(html, "timezone") == timezone.json_body["error"]["message"]
    assert html.index('href="#f-name-error"') < html.index('href="#f-timezone-error"')


def test_the_basics_step_saves_the_draft_and_goes_on_to_the_survey(client):
    campaign_id = api_create(client)
    admin, path = session_headers(), f"/dashboard/campaigns/{campaign_id}/edit/basics"
    page = client.http.get(path, headers=admin).body.decode()
    assert value_of(page, "name") == "Spring check-in" and value_of(page, "timezone") == "UTC"
    fields = {"name": "Renamed", "kind": "one_off", "interval_days": "", "timezone": "Asia/Tokyo", "segments": "plan"}
    saved = submit_form(client, path, admin, fields | {"action": "save"})
    assert (saved.status_code, saved.headers["Location"]) == (303, f"{path}?saved=1")
    assert "Saved." in client.http.get(saved.headers["Location"], headers=admin).body.decode()
    onward = submit_form(client, path, admin, fields | {"action": "next", "name": "Again"})
    assert onward.headers["Location"] == f"/dashboard/campaigns/{campaign_id}/edit/survey?saved=1"
    stored = api_campaign(client, campaign_id)
    assert (stored["name"], stored["timezone"], stored["segments"]) == ("Again", "Asia/Tokyo", ["plan"])


def test_the_build_page_links_the_four_steps(client):
    campaign_id = api_create(client)
    html = client.http.get(f"/dashboard/campaigns/{campaign_id}/edit", headers=session_headers("viewer")).body.decode()
    for step in ("basics", "survey", "email", "follow-up"):
        assert f'href="/dashboard/campaigns/{campaign_id}/edit/{step}"' in html
    assert "1 question: NPS." in " ".join(html.split())
    missing = client.http.get("/dashboard/campaigns/nope/edit/survey", headers=session_headers())
    assert missing.status_code == 404 and "No campaign &#39;nope&#39;" in missing.body.decode()


def test_the_survey_step_saves_every_question_type(client):
    campaign_id = api_create(client)
    admin = session_headers()
    questions = [
        {"type": "nps", "id": "nps", "text": "Recommend us?", "low_label": "Never", "high_label": ""},
        {"type": "csat", "id": "csat", "text": "Satisfied?", "required": "true"},
        {"type": "ces", "id": "ces", "text": "Easy?"},
        {"type": "rating", "id": "stars", "text": "Rate us", "points": "7"},
        {"type": "single_choice", "id": "plan", "text": "Your plan?", "options": "Free\nPro\n"},
        {
            "type": "multi_choice",
            "id": "likes",
            "text": "What do you like?",
            "options": "A\r\nB\r\nC",
            "min_choices": "1",
            "max_choices": "2",
        },
        {"type": "text", "id": "why", "text": "Why?"},
    ]
    response = post_survey(client, campaign_id, admin, questions)
    assert response.status_code == 303, shown_error(response.body.decode(), "survey.questions")
    stored = api_campaign(client, campaign_id)["survey"]["questions"]
    assert [q["type"] for q in stored] == ["nps", "csat", "ces", "rating", "single_choice", "multi_choice", "text"]
    assert (stored[0]["low_label"], stored[0]["high_label"]) == ("Never", "Extremely likely")
    assert (stored[1]["required"], stored[2]["required"], stored[3]["points"]) == (True, False, 7)
    assert stored[4]["options"] == ["Free", "Pro"]
    assert (stored[5]["options"], stored[5]["min_choices"], stored[5]["max_choices"]) == (["A", "B", "C"], 1, 2)
    page = client.http.get(f"/dashboard/campaigns/{campaign_id}/edit/survey", headers=admin).body.decode()
    assert value_of(page, "survey.questions[5].options") == "A\nB\nC"
    assert value_of(page, "survey.questions[3].points") == "7"
    onward = post_survey(client, campaign_id, admin, questions, action="next")
    assert onward.headers["Location"] == f"/dashboard/campaigns/{campaign_id}/edit/email"
    questions[4]["options"] = "Line\u2028separator\nPro"  # a line separator typed inside a choice
    refused = post_survey(client, campaign_id, admin, questions)
    assert refused.status_code == 400
    assert "cannot hold a line break (U+2028)" in refused.body.decode()
    assert api_campaign(client, campaign_id)["survey"]["questions"][4]["options"] == ["Free", "Pro"]


TYPED = [
    {"type": "nps", "id": "nps", "text": "Recommend us?"},
    {"type": "multi_choice", "id": "likes", "text": "Liked?", "options": "Speed\nPrice", "max_choices": "x"},
    {"type": "text", "id": "why", "text": "Tell us more, unsaved"},
]


@pytest.mark.parametrize(
    ("action", "order", "focus"),
    [
        ("move_up:2", ["nps", "why", "likes"], 'id="q1-up"'),
        ("move_down:0", ["likes", "nps", "why"], 'id="q1-down"'),
        ("move_up:1", ["likes", "nps", "why"], 'id="q0-down"'),
        ("remove:2", ["nps", "likes"], 'id="f-survey-questions-1-text"'),
        ("add", ["nps", "likes", "why", "feedback"], 'id="f-survey-questions-3-text"'),
    ],
)
def test_moves_that_leave_an_invalid_survey_keep_everything_typed_and_save_nothing(client, action, order, focus):
    campaign_id = api_create(client)
    admin = session_headers()
    path = f"/dashboard/campaigns/{campaign_id}/edit/survey"
    response = submit_form(client, path, admin, {"action": action, "new_type": "text", **survey_fields(TYPED)})
    html = response.body.decode()
    assert response.status_code == 200
    assert "Not saved yet" in html
    ids = [value_of(html, f"survey.questions[{i}].id") for i in range(len(order))]
    assert ids == order and value_of(html, f"survey.questions[{len(order)}].id") is None
    typed = {q["id"]: q for q in TYPED}
    for i, qid in enumerate(order):
        for key, value in typed.get(qid, {}).items():
            assert value_of(html, f"survey.questions[{i}].{key}") == value, (qid, key)
    assert re.search(rf"<[^>]*{focus}[^>]*autofocus", html), focus
    assert [q["id"] for q in api_campaign(client, campaign_id)["survey"]["questions"]] == ["nps"]


def test_a_question_added_or_retyped_shows_the_fields_of_its_type(client):
    campaign_id = api_create(client)
    path = f"/dashboard/campaigns/{campaign_id}/edit/survey"
    fields = {"action": "add", "new_type": "multi_choice", **survey_fields([NPS])}
    html = submit_form(client, path, session_headers(), fields).body.decode()
    assert value_of(html, "survey.questions[1].type") == "multi_choice"
    assert value_of(html, "survey.questions[1].id") == "choices"
    for key in ("options", "min_choices", "max_choices"):
        assert value_of(html, f"survey.questions[1].{key}") == ""
    assert value_of(html, "survey.questions[1].points") is None
    retyped = survey_fields([NPS, {"type": "rating", "id": "choices", "text": "Rate us", "options": "A\nB"}])
    html = submit_form(client, path, session_headers(), {"action": "show", **retyped}).body.decode()
    assert (value_of(html, "survey.questions[1].points"), value_of(html, "survey.questions[1].text")) == ("", "Rate us")
    assert value_of(html, "survey.questions[1].options") is None  # not shown for a rating, but kept:
    assert '<input type="hidden" name="survey.questions[1].options" value="A\nB">' in html


def test_the_first_question_says_why_it_must_be_answerable_in_the_email(client):
    campaign_id = api_create(client)
    admin = session_headers()
    html = client.http.get(f"/dashboard/campaigns/{campaign_id}/edit/survey", headers=admin).body.decode()
    assert "Asked in the email itself" in html and 'id="f-survey-questions-0-type-hint"' in html
    response = post_survey(client, campaign_id, admin, [{"type": "text", "id": "why", "text": "Why?"}, NPS])
    html = response.body.decode()
    assert response.status_code == 400
    assert shown_error(html, "survey.questions[0].type").startswith("The first question is answered in the email")
    assert value_of(html, "survey.questions[0].type") == "text" and value_of(html, "survey.questions[1].id") == "nps"


# --- who may change what ------------------------------------------------------------------------


def test_a_viewer_sees_every_builder_page_read_only_and_cannot_post(client):
    campaign_id = api_create(client)
    viewer, admin = session_headers("viewer"), session_headers()
    assert (
        'href="/dashboard/campaigns/new"' not in client.http.get("/dashboard/campaigns", headers=viewer).body.decode()
    )
    for path in (
        "/dashboard/campaigns/new",
        f"/dashboard/campaigns/{campaign_id}/edit/basics",
        f"/dashboard/campaigns/{campaign_id}/edit/survey",
    ):
        page = client.http.get(path, headers=viewer)
        html = page.body.decode()
        assert page.status_code == 200 and "Your role is viewer" in html
        assert re.search(r'<fieldset class="plain" disabled>', html)
        csrf = csrf_of(html)
        for action in ("save", "next", "add", "remove:0", "move_down:0"):
            body = urlencode({"csrf": csrf, "action": action, "name": "Mine", **survey_fields([NPS])})
            refused = client.http.post(path, body=body, headers={**viewer, **FORM_HEADERS})
            assert refused.status_code == 403, (path, action)
        assert client.http.get(path, headers=admin).status_code == 200
    stored = api_campaign(client, campaign_id)
    assert stored["name"] == "Spring check-in"
    assert len(client.http.get("/api/campaigns", headers=admin_headers()).json_body["campaigns"]) == 1


def test_after_it_went_out_basics_and_survey_are_locked_and_say_why(client):
    campaign_id = api_create(client, recipients=[{"email": "ana@example.com"}])
    sent = client.http.post(f"/api/campaigns/{campaign_id}/send", body="{}", headers=admin_headers())
    assert sent.status_code == 202
    admin = session_headers()
    basics = f"/dashboard/campaigns/{campaign_id}/edit/basics"
    html = client.http.get(basics, headers=admin).body.decode()
    assert "it has gone out" in html and '<fieldset class="plain" disabled>' in html
    api = client.http.patch(
        f"/api/campaigns/{campaign_id}", body=json.dumps({"name": "Later"}), headers=admin_headers()
    ).json_body["error"]["message"]
    fields = {"name": "Later", "kind": "one_off", "interval_days": "", "timezone": "UTC", "segments": ""}
    refused = submit_form(client, basics, admin, fields)
    assert refused.status_code == 409
    assert api.split(":")[0] in refused.body.decode()
    assert "only the options" in refused.body.decode()
    survey = post_survey(client, campaign_id, admin, [NPS | {"text": "Changed?"}])
    assert survey.status_code == 409 and "survey can no longer change" in survey.body.decode()
    assert value_of(survey.body.decode(), "survey.questions[0].text") == "Changed?"
    assert api_campaign(client, campaign_id)["name"] == "Spring check-in"


# --- one validation, two faces --------------------------------------------------------------------

BASICS_TYPED = {"name": "Spring check-in", "kind": "one_off", "interval_days": "", "timezone": "UTC", "segments": ""}
# (field, the API body's bad values, the same values as typed in the basics form)
BASICS_ROWS = [
    ("name", {"name": ""}, {"name": ""}),
    ("name", {"name": "x" * 201}, {"name": "x" * 201}),
    ("name", {"name": "Spring\u0007"}, {"name": "Spring\u0007"}),
    ("kind", {"kind": "weekly"}, {"kind": "weekly"}),
    ("interval_days", {"kind": "recurring", "interval_days": "abc"}, {"kind": "recurring", "interval_days": "abc"}),
    ("interval_days", {"kind": "recurring", "interval_days": 3}, {"kind": "recurring", "interval_days": "3"}),
    ("interval_days", {"kind": "recurring"}, {"kind": "recurring", "interval_days": ""}),
    ("interval_days", {"kind": "one_off", "interval_days": 30}, {"kind": "one_off", "interval_days": "30"}),
    ("timezone", {"timezone": "Mars/Olympus"}, {"timezone": "Mars/Olympus"}),
    ("timezone", {"timezone": ""}, {"timezone": ""}),
    ("segments", {"segments": list("abcdef")}, {"segments": "a\nb\nc\nd\ne\nf"}),
    ("segments[1]", {"segments": ["plan", "bad seg"]}, {"segments": "plan\nbad seg"}),
]


# the API's messages that name a field by its API name, as the form says them: by the label beside it
WORDED = {
    "A recurring campaign asks again every 7 to 730 days (interval_days).": (
        "A recurring campaign asks again every 7 to 730 days."
    ),
    "Ask again every (days) is for recurring campaigns only (interval_days applies to recurring ones).": (
        "Ask again every (days) is for recurring campaigns only."
    ),
    "kind is one of one_off, recurring.": "“Kind” is one of one_off, recurring.",
    "segments is a list of at most 5 property names.": "“Segments” is a list of at most 5 property names.",
    "Choose at least (min_choices) is a whole number from 0 to 3.": "Choose at least is a whole number from 0 to 3.",
    "Choose at most (max_choices) is a whole number from 0 to 3.": "Choose at most is a whole number from 0 to 3.",
    "max_choices is a whole number, not the string “two”.": "“Choose at most” is a whole number, not the string “two”.",
    "min_choices cannot exceed max_choices.": "“Choose at least” cannot exceed “Choose at most”.",
    "points is a whole number, not the string “many”.": "“Points” is a whole number, not the string “many”.",
    "text has at most 1000 characters; this one has 1001.": (
        "“Question” has at most 1000 characters; this one has 1001."
    ),
    "low_label has at most 200 characters; this one has 201.": (
        "“Words under the lowest score” has at most 200 characters; this one has 201."
    ),
    "high_label has at most 200 characters; this one has 201.": (
        "“Words under the highest score” has at most 200 characters; this one has 201."
    ),
}


@pytest.mark.parametrize("where", ["new", "basics"])
@pytest.mark.parametrize(("field", "bad", "typed"), BASICS_ROWS, ids=lambda v: v if isinstance(v, str) else None)
def test_one_validation_two_faces_basics(client, where, field, bad, typed):
    path = "/dashboard/campaigns/new" if where == "new" else f"/dashboard/campaigns/{api_create(client)}/edit/basics"
    form = BASICS_TYPED | typed | {"action": "save"}
    assert_one_validation(
        client, field, VALID_CAMPAIGN | bad, lambda: submit_form(client, path, session_headers(), form), WORDED
    )


def _typed(question: dict) -> dict[str, str]:
    """A question of the API's JSON as a person types it in the survey step (options one per line)."""
    return {k: "\n".join(v) if isinstance(v, list) else ("true" if v is True else str(v)) for k, v in question.items()}


CHOICE = {"id": "pick", "type": "single_choice", "text": "Which?", "options": ["A", "B"]}
MULTI = {"id": "many", "type": "multi_choice", "text": "Which ones?", "options": ["A", "B", "C"]}
TEXTQ = {"id": "why", "type": "text", "text": "Why?"}
# (field, the API's questions: the survey form types the same)
SURVEY_ROWS = [
    ("survey.questions", []),
    ("survey.questions", [NPS] + [TEXTQ | {"id": f"t{i}"} for i in range(20)]),
    ("survey.questions[0].type", [TEXTQ, NPS]),
    ("survey.questions[0].type", [MULTI, NPS]),
    ("survey.questions[1].type", [NPS, TEXTQ | {"type": "essay"}]),
    ("survey.questions[1].id", [NPS, TEXTQ | {"id": "Why Not"}]),
    ("survey.questions[1].id", [NPS, TEXTQ | {"id": ""}]),
    ("survey.questions[1].id", [NPS, TEXTQ | {"id": "nps"}]),
    ("survey.questions[1].text", [NPS, TEXTQ | {"text": " "}]),
    ("survey.questions[1].points", [NPS, {"id": "r", "type": "rating", "text": "Rate", "points": 11}]),
    ("survey.questions[1].points", [NPS, {"id": "r", "type": "rating", "text": "Rate", "points": "many"}]),
    ("survey.questions[1].options", [NPS, CHOICE | {"options": ["A"]}]),
    ("survey.questions[1].options", [NPS, CHOICE | {"options": []}]),
    ("survey.questions[1].options", [NPS, CHOICE | {"options": ["A", "A"]}]),
    ("survey.questions[1].options", [NPS, MULTI | {"options": [f"o{i}" for i in range(21)]}]),
    ("survey.questions[1].min_choices", [NPS, MULTI | {"min_choices": 4}]),
    ("survey.questions[1].min_choices", [NPS, MULTI | {"min_choices": 3, "max_choices": 2}]),
    ("survey.questions[1].max_choices", [NPS, MULTI | {"max_choices": -1}]),
    ("survey.questions[1].max_choices", [NPS, MULTI | {"max_choices": "two"}]),
    ("survey.questions[1].text", [NPS, TEXTQ | {"text": "Why? " + "x" * 996}]),
    ("survey.questions[0].low_label", [NPS | {"low_label": "Never " + "n" * 195}]),
    ("survey.questions[0].high_label", [NPS | {"high_label": "Always " + "a" * 194}]),
    ("survey.questions[1].options", [NPS, CHOICE | {"options": ["A", "Faster exports " + "x" * 86]}]),
]


@pytest.mark.parametrize(("field", "questions"), SURVEY_ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(SURVEY_ROWS)])
def test_one_validation_two_faces_survey(client, field, questions):
    path = f"/dashboard/campaigns/{api_create(client)}/edit/survey"
    form = {"action": "save", **survey_fields([_typed(q) for q in questions])}
    api_body = VALID_CAMPAIGN | {"survey": {"questions": questions}}
    assert_one_validation(client, field, api_body, lambda: submit_form(client, path, session_headers(), form), WORDED)


def test_a_valid_move_add_or_remove_is_saved_at_once_and_shown_by_a_redirect(client):
    """Reordering is not lost, and the browser's Back button asks nothing (Post/Redirect/Get)."""
    campaign_id = api_create(client)
    admin = session_headers()
    path = f"/dashboard/campaigns/{campaign_id}/edit/survey"
    valid = [NPS, {"type": "csat", "id": "why", "text": "Satisfied?", "required": ""}]
    moved = submit_form(client, path, admin, {"action": "move_up:1", **survey_fields(valid)})
    assert (moved.status_code, moved.headers["Location"]) == (303, f"{path}?did=move_up%3A1&focus=q0-down")
    assert [q["id"] for q in api_campaign(client, campaign_id)["survey"]["questions"]] == ["why", "nps"]
    html = client.http.get(moved.headers["Location"], headers=admin).body.decode()
    assert "Question 2 is now question 1. The draft is saved." in html
    assert re.search(r'<[^>]*id="q0-down"[^>]*autofocus', html)
    added = submit_form(client, path, admin, {"action": "add", "new_type": "nps", **survey_fields(valid)})
    assert added.status_code == 303
    assert [q["id"] for q in api_campaign(client, campaign_id)["survey"]["questions"]] == ["nps", "why", "nps_2"]
    removed = submit_form(client, path, admin, {"action": "remove:1", **survey_fields(valid)})
    assert removed.status_code == 303
    assert [q["id"] for q in api_campaign(client, campaign_id)["survey"]["questions"]] == ["nps"]
    assert "autofocus" not in client.http.get(f"{path}?focus=%22onload", headers=admin).body.decode()


def test_a_survey_of_20_questions_cannot_add_a_21st(client):
    campaign_id = api_create(client)
    admin = session_headers()
    path = f"/dashboard/campaigns/{campaign_id}/edit/survey"
    twenty = [NPS] + [{"type": "text", "id": f"t{i}", "text": f"Text {i}?", "required": ""} for i in range(19)]
    assert submit_form(client, path, admin, {"action": "save", **survey_fields(twenty)}).status_code == 303
    html = client.http.get(path, headers=admin).body.decode()
    assert re.search(r'<button [^>]*value="add"[^>]*disabled', html)
    assert "A survey has at most 20 questions: remove one to add another." in html
    refused = submit_form(client, path, admin, {"action": "add", "new_type": "text", **survey_fields(twenty)})
    assert refused.status_code == 400
    assert shown_error(refused.body.decode(), "survey.questions") == "A survey has at most 20 questions."
    assert len(api_campaign(client, campaign_id)["survey"]["questions"]) == 20
