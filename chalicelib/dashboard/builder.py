"""The campaign builder's first steps: a new draft, then its basics and its survey.

Each form is named by the admin API's field paths (BUILDER.md). A POST turns the form into the API's
JSON body as typed (a number that is not one stays the text typed) and calls the API's own use case,
`create_campaign` or `update_campaign`: the rules and the messages are the API's, and a refusal is
shown next to the field it names, with everything typed kept. The survey step's Add, Remove, Move up
and Move down buttons submit the same form: the typed questions come back changed, unsaved, without
a script. Once a campaign has gone out its basics and survey are locked (`campaigns.update_campaign`
says so with a Conflict), and the pages show them read-only.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response

from chalicelib.core.errors import Conflict, ValidationError
from chalicelib.core.lazy import OnFirstUse
from chalicelib.core.translations import language_name
from chalicelib.dashboard.builder_languages import (
    merge_questions,
    translation_labels,
    translations_form,
    typed_translations,
)
from chalicelib.dashboard.web import Ctx, page, redirect, textarea_lines, view
from chalicelib.dashboard.wording import worded

if TYPE_CHECKING:
    from chalicelib.campaigns.campaigns import CampaignView

api = OnFirstUse("chalicelib.admin.api")  # cold start: the admin API's use cases, on request
auth = OnFirstUse("chalicelib.admin.auth")  # cold start: the admin API's Caller, on request
campaigns = OnFirstUse("chalicelib.campaigns.campaigns")  # cold start: campaigns are read on request
surveys = OnFirstUse("chalicelib.core.surveys")  # cold start: the question types, on request
zoneinfo = OnFirstUse("zoneinfo")  # cold start: the list of time zones is read from disk on request

routes = Blueprint(__name__)

FIRST_QUESTION = "How likely are you to recommend us to a friend or colleague?"
KIND_CHOICES = [("one_off", "One-off: ask once"), ("recurring", "Recurring: ask the same people again")]
TYPE_LABELS = {
    "nps": "NPS: 0 to 10, would they recommend you",
    "csat": "CSAT: 1 to 5, how satisfied",
    "ces": "CES: 1 to 7, how easy",
    "rating": "Rating: 2 to 10 points",
    "single_choice": "Single choice",
    "multi_choice": "Multiple choice",
    "text": "Text",
}
TYPE_NAMES = {  # in a sentence
    "nps": "NPS",
    "csat": "CSAT",
    "ces": "CES",
    "rating": "rating",
    "single_choice": "single choice",
    "multi_choice": "multiple choice",
    "text": "text",
}
# a new question's id, before a number is added to make it unique
NEW_IDS = {"single_choice": "choice", "multi_choice": "choices", "text": "feedback"}
QUESTION_KEYS = (
    "type",
    "id",
    "text",
    "required",
    "points",
    "low_label",
    "high_label",
    "options",
    "min_choices",
    "max_choices",
)
BASICS = ("name", "kind", "interval_days", "timezone", "segments")
BASICS_LABELS = {  # the labels of templates/dashboard/_builder_basics.html: what the page's messages call them
    "name": "Name",
    "kind": "Kind",
    "interval_days": "Ask again every (days)",
    "timezone": "Time zone",
    "segments": "Segments",
}
QUESTION_LABELS = {  # the labels of a question's inputs on the survey step (builder_survey.html)
    "type": "Type",
    "text": "Question",
    "id": "Id",
    "points": "Points",
    "low_label": "Words under the lowest score",
    "high_label": "Words under the highest score",
    "options": "Choices, one per line",
    "min_choices": "Choose at least",
    "max_choices": "Choose at most",
}
_QUESTION_FIELD = re.compile(r"^survey\.questions\[(\d{1,3})\]\.([a-z_]+)$")
_ACTION = re.compile(r"^(remove|move_up|move_down):(\d{1,3})$")
_WHOLE = re.compile(r"^[-+]?[0-9]{1,9}$")
_FOCUS = re.compile(r"^(f-survey-questions-\d{1,3}-text|q\d{1,3}-(up|down)|new-type)$")  # ?focus= after an action
SAVED = {"1": "Saved.", "created": "The draft is saved. It starts with one NPS question: add the others here."}


# --- the pages ---------------------------------------------------------------------------------


@view(routes, "/dashboard/campaigns/new")
def new_campaign(ctx: Ctx) -> Response:
    return _new_page(ctx, {"name": "", "kind": "one_off", "interval_days": "", "timezone": "UTC", "segments": ""})


@view(routes, "/dashboard/campaigns/new", methods=["POST"], change=True)
def create(ctx: Ctx) -> Response:
    typed = {key: ctx.form.get(key, "") for key in BASICS}
    body = basics_body(typed) | {"survey": {"questions": [{"id": "nps", "type": "nps", "text": FIRST_QUESTION}]}}
    caller = auth.Caller(name=ctx.person.email, key=f"dashboard:{ctx.person.email}")
    try:
        _, created = api.create_campaign(body, ctx.now, caller)
    except ValidationError as exc:
        return _new_page(ctx, typed, every_error(body, exc), status=exc.status)
    return redirect(f"{_edit(created['campaign']['id'])}/survey?saved=created")


@view(routes, "/dashboard/campaigns/{campaign_id}/edit")
def edit(ctx: Ctx, campaign_id: str) -> Response:
    c = campaigns.get_view(campaign_id)
    return page(ctx, "builder_edit.html", c=c, locked=_locked(c), type_names=TYPE_NAMES, language_name=language_name)


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/basics")
def basics(ctx: Ctx, campaign_id: str) -> Response:
    c = campaigns.get_view(campaign_id)
    return _basics_page(ctx, c, basics_form(c), saved=SAVED.get(ctx.query.get("saved", "")))


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/basics", methods=["POST"], change=True)
def save_basics(ctx: Ctx, campaign_id: str) -> Response:
    c = campaigns.get_view(campaign_id)
    typed = {key: ctx.form.get(key, "") for key in BASICS}
    body = basics_body(typed)
    try:
        api.update_campaign(campaign_id, body, ctx.now)
    except ValidationError as exc:
        return _basics_page(ctx, c, typed, every_error(body, exc), status=exc.status)
    except Conflict as exc:
        return _basics_page(ctx, c, typed, {exc.field or "": exc.message}, status=exc.status)
    if ctx.form.get("action") == "next":
        return redirect(f"{_edit(campaign_id)}/survey?saved=1")
    return redirect(f"{_edit(campaign_id)}/basics?saved=1")


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/survey")
def survey(ctx: Ctx, campaign_id: str) -> Response:
    c = campaigns.get_view(campaign_id)
    questions = [question_form(q) for q in c.survey.to_json()["questions"]]
    done = done_text(ctx.query.get("did", ""), len(questions))
    saved = f"{done} The draft is saved." if done else SAVED.get(ctx.query.get("saved", ""))
    focus = ctx.query.get("focus", "")
    translated = translations_form(c.options.get("translations") or {})
    return _survey_page(
        ctx, c, questions, saved=saved, focus=focus if _FOCUS.match(focus) else "", translated=translated
    )


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/survey", methods=["POST"], change=True)
def save_survey(ctx: Ctx, campaign_id: str) -> Response:
    """Save the typed survey (action `save`, or `next` to go on to the email), or add, remove or move a
    question of it (apply_action): saved at once when the survey that results is valid, then shown by a
    redirect (so the browser's Back button asks nothing); otherwise shown again unsaved, as typed."""
    c = campaigns.get_view(campaign_id)
    questions = typed_questions(ctx.form)
    translated = typed_translations(ctx.form, list(c.options.get("translations") or {}))
    action = ctx.form.get("action", "save")
    if action == "add" and len(questions) >= surveys.MAX_QUESTIONS:
        full = {"survey.questions": f"A survey has at most {surveys.MAX_QUESTIONS} questions."}
        return _survey_page(ctx, c, questions, full, status=400, translated=translated)
    if action not in ("save", "next"):
        questions, focus, done = apply_action(action, questions, ctx.form.get("new_type", "nps"))
        if action == "show":
            return _survey_page(ctx, c, questions, focus=focus, changed=done, translated=translated)
        try:
            api.update_campaign(campaign_id, survey_body(c, questions, translated), ctx.now)
        except (ValidationError, Conflict):  # not valid yet (a new blank question): shown unsaved, as typed
            return _survey_page(ctx, c, questions, focus=focus, changed=done, translated=translated)
        return redirect(f"{_edit(campaign_id)}/survey?{urlencode({'did': action, 'focus': focus})}")
    try:
        api.update_campaign(campaign_id, survey_body(c, questions, translated), ctx.now)
    except (ValidationError, Conflict) as exc:
        errors = {exc.field or "": exc.message}
        return _survey_page(ctx, c, questions, errors, status=exc.status, translated=translated)
    if action == "next":
        return redirect(f"{_edit(campaign_id)}/email")
    return redirect(f"{_edit(campaign_id)}/survey?saved=1")


def _new_page(ctx: Ctx, typed: dict[str, str], errors: dict[str, str] | None = None, status: int = 200) -> Response:
    errors = worded(errors or {}, basics_labels(typed))
    return page(
        ctx,
        "builder_new.html",
        status=status,
        form=typed,
        errors=errors,
        unplaced=_unplaced(errors, _basics_fields(typed)),
        locked=False,
        readonly=not ctx.person.is_admin,
        saved=None,
        changed="",
        kinds=choices(KIND_CHOICES, typed["kind"]),
        zones=time_zones(),
    )


def _basics_page(
    ctx: Ctx,
    c: CampaignView,
    typed: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
    saved: str | None = None,
) -> Response:
    errors = worded(errors or {}, basics_labels(typed))
    return page(
        ctx,
        "builder_basics.html",
        status=status,
        c=c,
        form=typed,
        errors=errors,
        unplaced=_unplaced(errors, _basics_fields(typed)),
        locked=_locked(c),
        readonly=_locked(c) or not ctx.person.is_admin,
        saved=saved,
        changed="",
        kinds=choices(KIND_CHOICES, typed["kind"]),
        zones=time_zones(),
    )


def _survey_page(
    ctx: Ctx,
    c: CampaignView,
    questions: list[dict[str, str]],
    errors: dict[str, str] | None = None,
    status: int = 200,
    saved: str | None = None,
    focus: str = "",
    changed: str = "",
    translated: dict[str, dict[str, Any]] | None = None,
) -> Response:
    """`translated`: the question texts in each language the campaign offers, as typed (translations_form)."""
    translated = translated or {}
    labels = {
        f"survey.questions[{i}].{key}": QUESTION_LABELS[key]
        for i, q in enumerate(questions)
        for key in question_fields(q["type"])
        if key in QUESTION_LABELS
    }
    for code in translated:
        labels |= translation_labels(code, [q["id"] for q in questions], questions_only=True)
    errors = worded(errors or {}, labels)
    shown = {"survey.questions"} | {
        f"survey.questions[{i}].{key}" for i, q in enumerate(questions) for key in question_fields(q["type"])
    }
    shown |= {path for path in labels if path.startswith("options.translations.")}
    return page(
        ctx,
        "builder_survey.html",
        status=status,
        c=c,
        questions=questions,
        errors=errors,
        unplaced=_unplaced(errors, shown),
        locked=_locked(c),
        readonly=_locked(c) or not ctx.person.is_admin,
        saved=saved,
        focus=focus,
        changed=changed,
        choices=choices,
        question_fields=question_fields,
        question_keys=QUESTION_KEYS,
        default_labels=surveys.DEFAULT_LABELS,
        types=list(TYPE_LABELS.items()),
        max_questions=surveys.MAX_QUESTIONS,
        translated=translated,
        language_name=language_name,
        scales=(*surveys.SCALES, "rating"),
    )


def every_error(body: dict[str, Any], refusal: ValidationError) -> dict[str, str]:
    """{field path: message}: the API's refusal first, as the API gave it, then what the same parser says of
    each other basic field on its own (the API stops at its first error; a person wants to see them all)."""
    errors = {refusal.field or "": refusal.message}
    for keys in (("name",), ("kind", "interval_days"), ("timezone",), ("segments",)):
        try:
            campaigns.parse_campaign({key: body[key] for key in keys if key in body}, partial=True)
        except ValidationError as exc:
            errors.setdefault(exc.field or "", exc.message)
    return errors


def _edit(campaign_id: str) -> str:
    return f"/dashboard/campaigns/{quote(campaign_id, safe='')}/edit"


def _locked(c: CampaignView) -> bool:
    return c.status != "draft"


def _unplaced(errors: dict[str, str], shown: set[str]) -> dict[str, str]:
    """The errors whose field has no input on the page: the page shows them at its top, naming the field."""
    return {field: message for field, message in errors.items() if field not in shown}


# --- forms to API bodies, and back ---------------------------------------------------------------


@functools.cache
def time_zones() -> list[str]:
    """Every IANA time zone name this Python knows, sorted: the searchable list of the zone field."""
    return sorted(zoneinfo.available_timezones())


def basics_form(c: CampaignView) -> dict[str, str]:
    """A campaign's basics as the form shows them."""
    return {
        "name": c.name,
        "kind": c.kind,
        "interval_days": "" if c.interval_days is None else str(c.interval_days),
        "timezone": c.timezone,
        "segments": "\n".join(c.segments),
    }


def basics_body(typed: dict[str, str]) -> dict[str, Any]:
    """The API body of the basics as typed: segments one per line; an interval left empty is none."""
    return {
        "name": typed["name"],
        "kind": typed["kind"],
        "interval_days": _number(typed["interval_days"]) if typed["interval_days"].strip() else None,
        "timezone": typed["timezone"],
        "segments": textarea_lines(typed["segments"]),
    }


def basics_labels(typed: dict[str, str]) -> dict[str, str]:
    """{field path: label} of the basics' inputs; an error of segments[i] is shown beside the segments box."""
    count = len(textarea_lines(typed["segments"])) + 1
    return BASICS_LABELS | {f"segments[{i}]": BASICS_LABELS["segments"] for i in range(count)}


def _basics_fields(typed: dict[str, str]) -> set[str]:
    """The basics' field paths on the page; segments[i] is shown beside the segments box."""
    return set(BASICS) | {f"segments[{i}]" for i in range(len(textarea_lines(typed["segments"])) + 1)}


def question_fields(qtype: str) -> tuple[str, ...]:
    """The inputs of a question of this type, after its type, id, text and required."""
    return ("type", "id", "text", "required", *surveys.question_keys(qtype)[4:])


def choices(known: list[tuple[str, str]], typed: str) -> list[tuple[str, str]]:
    """A select's options; a value the API does not know stays selected as typed, for the API to name."""
    return known if typed in dict(known) else [*known, (typed, typed)]


def question_form(question: dict[str, Any]) -> dict[str, str]:
    """A stored question (the API's JSON) as the form shows it: text, options one per line."""
    typed = dict.fromkeys(QUESTION_KEYS, "")
    for key in QUESTION_KEYS:
        value = question.get(key)
        if key == "options":
            typed[key] = "\n".join(value or [])
        elif key == "required":
            typed[key] = "true" if value else ""
        elif value is not None:
            typed[key] = str(value)
    return typed


def typed_questions(form: dict[str, str]) -> list[dict[str, str]]:
    """The questions as typed, in the order of their numbers; a field of no question key is ignored."""
    found: dict[int, dict[str, str]] = {}
    for name, value in form.items():
        match = _QUESTION_FIELD.match(name)
        if match and match[2] in QUESTION_KEYS:
            found.setdefault(int(match[1]), dict.fromkeys(QUESTION_KEYS, ""))[match[2]] = value
    return [found[i] for i in sorted(found)]


def survey_body(c: CampaignView, questions: list[dict[str, str]], translated: dict[str, dict[str, Any]]) -> dict:
    """The API body of the survey step: the typed survey and, when the campaign offers other languages, its
    options with the question translations as typed, those of a removed question dropped (a draft's options
    are replaced as a whole: the others are sent as stored)."""
    body: dict[str, Any] = {"survey": {"questions": [question_body(q) for q in questions]}}
    stored = c.options.get("translations")
    if stored:
        merged = merge_questions(stored, translated, [q["id"] for q in questions])
        body["options"] = {**c.options, "translations": merged}
    return body


def question_body(typed: dict[str, str]) -> dict[str, Any]:
    """A typed question as the API's JSON, with the keys its type reads; blank optional ones are left out."""
    body: dict[str, Any] = {
        "id": typed["id"],
        "type": typed["type"],
        "text": typed["text"],
        "required": typed["required"] == "true",
    }
    for key in question_fields(typed["type"])[4:]:
        if key == "options":
            body[key] = textarea_lines(typed[key])
        elif typed[key].strip():
            body[key] = _number(typed[key]) if key in ("points", "min_choices", "max_choices") else typed[key]
    return body


def apply_action(action: str, questions: list[dict[str, str]], new_type: str) -> tuple[list[dict[str, str]], str, str]:
    """Add, remove or move a typed question: (the questions, the id of the control to focus, what was done).

    Actions: `add` (a question of `new_type` at the end), `remove:<i>`, `move_up:<i>`, `move_down:<i>`,
    `show` (the fields of the types as now chosen). ValidationError for any other.
    """
    questions = list(questions)
    if action == "show":
        return questions, "", "The fields of each question's type are shown."
    if action == "add":
        questions.append(new_question(new_type, {q["id"] for q in questions}))
        n = len(questions)
        return questions, f"f-survey-questions-{n - 1}-text", done_text(action, n)
    match = _ACTION.match(action)
    i = int(match[2]) if match else -1
    if not match or i >= len(questions):
        raise ValidationError(f"This form cannot do {action[:40]!r}: reload the page.", "action")
    verb = match[1]
    if verb == "remove":
        questions.pop(i)
        focus = f"f-survey-questions-{min(i, len(questions) - 1)}-text" if questions else "new-type"
        return questions, focus, done_text(action, len(questions))
    j = i - 1 if verb == "move_up" else i + 1
    if not 0 <= j < len(questions):
        raise ValidationError(f"Question {i + 1} cannot move further.", "action")
    questions[i], questions[j] = questions[j], questions[i]
    edge = (j == 0 and verb == "move_up") or (j == len(questions) - 1 and verb == "move_down")
    button = ("down" if verb == "move_up" else "up") if edge else verb.removeprefix("move_")
    return questions, f"q{j}-{button}", done_text(action, len(questions))


def done_text(action: str, count: int) -> str:
    """What an action did, in words, given the number of questions after it; "" for an unknown action."""
    if action == "add":
        return f"Question {count} added at the end."
    match = _ACTION.match(action)
    if not match:
        return ""
    i = int(match[2])
    if match[1] == "remove":
        return f"Question {i + 1} removed."
    return f"Question {i + 1} is now question {i if match[1] == 'move_up' else i + 2}."


def new_question(qtype: str, taken: set[str]) -> dict[str, str]:
    """A blank question of this type with an id no other question has (an NPS one comes with its text)."""
    stem = NEW_IDS.get(qtype, qtype if re.fullmatch(r"[a-z_]{1,20}", qtype) else "question")
    qid, n = stem, 2
    while qid in taken:
        qid, n = f"{stem}_{n}", n + 1
    typed = dict.fromkeys(QUESTION_KEYS, "") | {"type": qtype, "id": qid}
    if qtype == "nps":
        typed["text"] = FIRST_QUESTION
    return typed


def _number(value: str) -> int | str:
    """A whole number as the API takes it, or the text as typed so that the API says what is wrong with it."""
    return int(value.strip()) if _WHOLE.match(value.strip()) else value
