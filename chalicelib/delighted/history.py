"""Reading the history a team exported from Delighted: people, survey responses, unsubscribes and bounces.

Each file is either a CSV export (read exactly as a recipients CSV is: chalicelib.sending.imports
decodes its charset, finds its delimiter and numbers its rows, and its header cells become names the
same way, `Response ID` -> `response_id`) or what Delighted's v1 API returned for a list call, saved
as JSON: a list of objects with the fields its documentation gives (a survey response: id, person,
survey_type, score, comment, permalink, created_at, updated_at, person_properties, notes, tags,
additional_answers; a person: id, email, name, created_at, properties; an unsubscribe or a bounce:
person_id, email, name, unsubscribed_at or bounced_at). Its kind is told by its columns or fields
(a score: responses; unsubscribed_at: unsubscribes; bounced_at: bounces; else people), or given.

Every row is checked here, before anything is written, so the report names each rejected row, its
field and why; chalicelib.delighted.history_import stores the rows accepted. Pure functions.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from base64 import urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.campaigns import contacts
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core.counters import category
from chalicelib.core.errors import ValidationError
from chalicelib.core.surveys import MAX_COMMENT, AnswerError, Question
from chalicelib.sending import imports
from chalicelib.web import parse_json

KINDS = ("people", "responses", "unsubscribes", "bounces")
ORIGIN = "delighted"
MAX_TAGS = 50
MAX_NOTES = 50
MAX_NOTE = 2000
MAX_ADDITIONAL = 50
MAX_ADDITIONAL_JSON = 50_000  # characters: a response stays far below DynamoDB's 400 KB item

# The names a CSV column may have once read as a property name (imports.property_name), per field.
ID = ("id", "response_id", "survey_response_id")
PERSON_ID = ("person_id", "person")
NAME = ("name", "person_name")
SCORE = ("score",)
COMMENT = ("comment",)
CREATED = ("created_at", "response_timestamp", "timestamp", "responded_at", "date", "created")
UPDATED = ("updated_at", "last_updated", "updated_timestamp")
TAGS = ("tags",)
NOTES = ("notes",)
UNSUBSCRIBED = ("unsubscribed_at",)
BOUNCED = ("bounced_at",)
LAST_SENT = ("last_sent_at",)  # when Delighted last surveyed the person: the fatigue window starts there
# Columns of Delighted's exports that say nothing about the person: not kept as properties.
SKIPPED = ("survey_type", "permalink", "channel", "phone_number", "delighted_id")
EMAIL = ("email", "person_email")


@dataclass
class Person:
    row: int
    email: str
    properties: dict[str, Any]
    created_at: float
    delighted_id: str = ""
    last_sent_at: float | None = None


@dataclass
class Response:
    """One survey response, already in the campaign's terms: `answers` by question id, `additional` the
    Delighted answers to questions the campaign does not ask (kept as Delighted gave them)."""

    row: int
    delighted_id: str
    email: str
    answers: dict[str, Any]
    comment: str | None
    score: int | None
    category: str | None
    created_at: float
    updated_at: float
    properties: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    additional: list[Any] = field(default_factory=list)


@dataclass
class Stop:
    """An address to suppress: `reason` unsubscribed or bounced, at the time Delighted recorded it."""

    row: int
    email: str
    reason: str
    at: float


@dataclass
class ExportFile:
    """One file as read: its kind, the rows accepted, every rejected row, and the file's header and cells
    (a JSON row is one cell, its JSON text) for the rejected rows' download."""

    name: str
    kind: str
    rows: int
    accepted: list[Any]
    rejected: list[contacts.Rejection]
    duplicates: int
    original: imports.CsvFile
    unknown_people: set[str] = field(default_factory=set)  # Delighted person ids named without an address


class RowError(ValueError):
    """Why one row cannot be imported, and its field (a name in the row): reported, the others imported."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def history_id(campaign_id: str, delighted_id: str) -> str:
    """The invitation id of an imported response: the same campaign and response always give the same
    id, so importing a file twice stores each response once."""
    digest = hashlib.sha256(f"{ORIGIN}|{campaign_id}|{delighted_id}".encode()).digest()[:16]
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


def read(
    name: str,
    text: str,
    campaign: CampaignView,
    now: float,
    kind: str | None = None,
    people: Mapping[str, str] | None = None,
) -> ExportFile:
    """The rows of one exported file, its `text` decoded by imports.decode_csv. `people` maps Delighted
    person ids to addresses (from the people files of the same import, and the contacts imported before),
    for responses that name their person by id only; the ids it lacks are the file's `unknown_people`.

    Raises ValidationError (field `file`, or `kind`) when the file cannot be read at all: not a CSV with
    an email column, JSON that is not a list of objects, a kind that cannot be told, or a `kind` given that
    the file's columns contradict (_given_kind).
    """
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"kind is one of {', '.join(KINDS)}.", "kind")
    text = _rejected_json(text) or text
    if text.lstrip("\ufeff \t\r\n")[:1] in ("[", "{"):
        items, original = _json_rows(text)
        names = set().union(*(_json_fields(item) for _, item in items if isinstance(item, Mapping)))
        fields_of = _json_fields
    else:
        original = imports.parse_csv(text)
        items = original.rows
        names = {imports.property_name(h) for h in original.header}
        fields_of = _csv_fields
    kind = _kind(names) if kind is None else _given_kind(kind, names)
    reader = {"people": _person, "responses": _response, "unsubscribes": _stop, "bounces": _stop}[kind]
    context = {"campaign": campaign, "now": now, "people": people or {}, "kind": kind, "unknown": set()}
    same: dict[str, list[Any]] = {}
    rejected: list[contacts.Rejection] = []
    for number, item in items:
        try:
            if isinstance(item, str):  # a CSV row imports.parse_csv could not read, with its reason
                raise RowError("", f"Row {number} {item}.")
            record = reader(number, fields_of(item), context)
        except RowError as exc:
            where = f"row[{number}].{exc.name}" if exc.name else f"row[{number}]"
            rejected.append(contacts.Rejection(number, where, exc.message))
            continue
        same.setdefault(_key(record), []).append(record)
    accepted = []
    duplicates = 0
    for records in same.values():
        conflict = _conflict(records)
        if conflict is None:
            accepted.append(records[0])
            duplicates += len(records) - 1
        else:
            rejected += [contacts.Rejection(r.row, f"row[{r.row}].{conflict[0]}", conflict[1]) for r in records]
    rejected.sort(key=lambda r: r.row)
    return ExportFile(name, kind, len(items), accepted, rejected, duplicates, original, context["unknown"])


# What each kind's rows cannot do without: every name group is a column (or JSON field) the file must
# have one of. A bounce or an unsubscribe suppresses the address for good, so its time column is required
# even when the kind is given: a people or responses file given as bounces is refused, not suppressed.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "people": (EMAIL,),
    "responses": (SCORE, CREATED, (*EMAIL, *PERSON_ID)),
    "unsubscribes": (UNSUBSCRIBED, (*EMAIL, *PERSON_ID)),
    "bounces": (BOUNCED, (*EMAIL, *PERSON_ID)),
}


def _detected(names: set[str]) -> str | None:
    """The kind a file's columns say: a score is a response; unsubscribed_at, bounced_at; else an address
    (or a person) makes it people; None when nothing tells."""
    if names & set(SCORE):
        return "responses"
    if names & set(UNSUBSCRIBED):
        return "unsubscribes"
    if names & set(BOUNCED):
        return "bounces"
    if names & {*EMAIL, "person"}:
        return "people"
    return None


def _kind(names: set[str]) -> str:
    kind = _detected(names)
    if kind is None:
        raise ValidationError(
            "This file is not one of Delighted's exports: it has no score, unsubscribed_at, bounced_at or email. "
            f"Name its kind ({', '.join(KINDS)}).",
            "kind",
        )
    return kind


def _given_kind(kind: str, names: set[str]) -> str:
    """The kind named by the operator, when the file's columns agree with it. Raises ValidationError (field
    `kind`) naming the kind the columns say when they say another, or the columns the kind needs when the
    file lacks them: nothing of the file is imported (a wrong kind would suppress or mail real people)."""
    detected = _detected(names)
    missing = " or ".join(group[0] for group in REQUIRED[kind] if not names & set(group))
    if detected in (None, kind) and not missing:
        return kind
    if detected in (None, kind):
        message = f"This file has no {missing}, which {kind} need: nothing was imported."
    else:
        lacks = f" (it has no {missing}, which {kind} need)" if missing else ""
        message = (
            f"This file looks like Delighted's {detected} export, not {kind}{lacks}: nothing was imported. "
            f"Import it as {detected}, or leave the kind out and its columns tell."
        )
    raise ValidationError(message, "kind")


def _key(record: Any) -> str:
    """Rows of one file that are the same thing: a response (its Delighted id, else its address and time),
    or a person, an unsubscribe or a bounce (its address)."""
    if isinstance(record, Response):
        return record.delighted_id
    return record.email


# The field a difference between two rows of the same thing is reported at, by the attribute that differs;
# an attribute that follows from another (a response's answers and category from its score and comment) is
# named only when nothing else differs.
_DIFFERING = {"additional": "additional_answers", "answers": "additional_answers"}
_FOLLOWING = ("answers", "category")


def _conflict(records: list[Any]) -> tuple[str, str] | None:
    """None when the rows of one thing say the same (a duplicate, merged); else (the field that differs, why
    every one of them is rejected): which is right is the operator's to say, so none is imported."""
    first = {k: v for k, v in asdict(records[0]).items() if k != "row"}
    differing: list[str] = []
    for record in records[1:]:
        other = asdict(record)
        differing += [k for k in first if first[k] != other[k] and k not in differing]
    if not differing:
        return None
    named = [k for k in differing if k not in _FOLLOWING] or differing
    fields = [f"{records[0].reason}_at" if k == "at" else _DIFFERING.get(k, k) for k in named]
    rows = [str(r.row) for r in records]
    shown = f"{', '.join(rows[:-1])} and {rows[-1]}"
    return fields[0], (
        f"{_thing(records[0])} appears {len(records)} times with different {', '.join(dict.fromkeys(fields))} "
        f"(rows {shown}): none of them is imported. Keep the right row and import it again."
    )


def _thing(record: Any) -> str:
    if isinstance(record, Response):
        generated = f"{record.email}|{record.created_at:.0f}"
        if record.delighted_id == generated:
            when = datetime.fromtimestamp(record.created_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            return f"The response of {record.email} at {when}"
        return f"Response {record.delighted_id}"
    if isinstance(record, Person):
        return f"Person {record.email}"
    return f"The {record.reason.removesuffix('d')} of {record.email}"


def _rejected_json(text: str) -> str | None:
    """The JSON list in our rejected-rows download of an import of JSON (admin.api.rejected_csv: a column
    `json`, one object a row, then `row` and `reason`), so its fixed rows are imported again as they are;
    None for any other file."""
    start = text.lstrip("\ufeff \t\r\n")
    if start.split("\n", 1)[0].strip() != ",".join((*imports.HISTORY_JSON, *imports.REJECTED_COLUMNS)):
        return None
    objects = [row[0] for row in list(csv.reader(io.StringIO(start)))[1:] if row and row[0].strip()]
    return f"[{','.join(objects)}]"


def _json_rows(text: str) -> tuple[list[tuple[int, Any]], imports.CsvFile]:
    try:
        value = parse_json(text, len(text))
    except ValidationError as exc:
        raise ValidationError(exc.message, "file") from None
    if isinstance(value, Mapping):
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else value
    if not isinstance(value, list) or not value:
        raise ValidationError("A JSON export is the list of objects Delighted's API returned.", "file")
    if len(value) > imports.MAX_ROWS:
        raise ValidationError(f"At most {imports.MAX_ROWS:,} rows per file; split the file.", "file")
    rows = [(n, item if isinstance(item, Mapping) else "is not an object") for n, item in enumerate(value)]
    cells = {n: [json.dumps(item, ensure_ascii=False)] for n, item in enumerate(value)}
    return rows, imports.CsvFile(["json"], rows, cells)


def _json_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON row's fields; an expanded `person` gives its email, name and id."""
    fields = dict(item)
    person = item.get("person")
    if isinstance(person, Mapping):
        fields["person"] = person.get("id")
        fields.setdefault("email", person.get("email"))
        fields.setdefault("name", person.get("name"))
    return fields


def _csv_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """A CSV row's cells by column name; every column not named in this module is a property."""
    known = {
        *ID,
        *PERSON_ID,
        *NAME,
        *SCORE,
        *COMMENT,
        *CREATED,
        *UPDATED,
        *TAGS,
        *NOTES,
        *UNSUBSCRIBED,
        *BOUNCED,
        *LAST_SENT,
    }
    props = item["properties"]
    fields = {name: value for name, value in props.items() if name in known}
    fields["email"] = item["email"]
    fields["properties"] = {k: v for k, v in props.items() if k not in known and k not in SKIPPED}
    if isinstance(fields.get("tags"), str):
        fields["tags"] = [t.strip() for t in fields["tags"].split(",") if t.strip()]
    if isinstance(fields.get("notes"), str):
        fields["notes"] = [{"text": fields["notes"]}]
    return fields


def _first(fields: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    """(the name given, its value) of the first of `names` the row has a value for; (names[0], None) if none."""
    for name in names:
        value = fields.get(name)
        if value is not None and value != "":
            return name, value
    return names[0], None


def _text_id(value: Any) -> str:
    return str(value).strip()[:200] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _email(fields: Mapping[str, Any], context: dict) -> str:
    name, value = _first(fields, EMAIL)
    if value is None:
        person = _text_id(fields.get("person") or fields.get("person_id"))
        value = context["people"].get(person)
        if value is None and person:
            context["unknown"].add(person)
            raise RowError(
                "person",
                f"Person {person} has no address here: export the responses with expand[]=person, or import "
                "Delighted's people file (in the same import or before).",
            )
    try:
        return contacts.email_address(value, name)
    except ValidationError as exc:
        raise RowError(name, exc.message) from None


def moment(value: Any, name: str, now: float) -> float:
    """Epoch seconds from what an export holds: a number (epoch seconds, as Delighted's API gives them) or
    an ISO 8601 time (`2025-03-04T10:20:00Z`, `2025-03-04 10:20:00 UTC`; without an offset it is UTC).
    Raises RowError naming the field; a time after `now` is refused too."""
    shown = str(value)[:40]
    if isinstance(value, bool):
        raise RowError(name, f"“{shown}” is not a time.")
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        value = float(value)
    if isinstance(value, int | float):
        at = float(value)
    elif isinstance(value, str):
        text = re.sub(r"\s*(UTC|GMT|Z)$", "+00:00", value.strip(), flags=re.IGNORECASE)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise RowError(
                name, f"“{shown}” is not a time: give epoch seconds or ISO 8601 such as 2025-03-04T10:20:00Z."
            ) from None
        at = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    else:
        raise RowError(name, "A time is epoch seconds or ISO 8601 text.")
    if at <= 0:
        raise RowError(name, f"“{shown}” is not a time after 1970-01-01 (epoch seconds count from then).")
    if at > now + 60:
        raise RowError(name, f"“{shown}” is in the future: give when it happened.")
    return at


def _when(fields: Mapping[str, Any], names: tuple[str, ...], now: float, default: float) -> float:
    name, value = _first(fields, names)
    return default if value is None else moment(value, name, now)


def _properties(fields: Mapping[str, Any], key: str) -> dict[str, Any]:
    props = fields.get(key) or {}
    if not isinstance(props, Mapping):
        raise RowError(key, "Properties are an object of names to text or numbers.")
    props = {imports.property_name(str(k)): v for k, v in props.items() if v is not None and v != ""}
    _, name = _first(fields, NAME)
    if isinstance(name, str) and name.strip():
        props.setdefault("name", name.strip())
    problem = contacts.properties_problem(props)
    if problem:
        raise RowError(f"{key}{problem[0]}", problem[1])
    return props


def _person(number: int, fields: Mapping[str, Any], context: dict) -> Person:
    email = _email(fields, context)
    created = _when(fields, CREATED, context["now"], context["now"])
    delighted_id = _text_id(fields.get("id") or fields.get("person_id"))
    name, sent = _first(fields, LAST_SENT)
    last_sent = None if sent is None else moment(sent, name, context["now"])
    return Person(number, email, _properties(fields, "properties"), created, delighted_id, last_sent)


def _stop(number: int, fields: Mapping[str, Any], context: dict) -> Stop:
    names, reason = (UNSUBSCRIBED, "unsubscribed") if context["kind"] == "unsubscribes" else (BOUNCED, "bounced")
    return Stop(number, _email(fields, context), reason, _when(fields, names, context["now"], context["now"]))


def _response(number: int, fields: Mapping[str, Any], context: dict) -> Response:
    campaign: CampaignView = context["campaign"]
    email = _email(fields, context)
    name, created = _first(fields, CREATED)
    if created is None:
        raise RowError(name, "When the response was given is required (created_at).")
    created_at = moment(created, name, context["now"])
    updated_at = max(created_at, _when(fields, UPDATED, context["now"], created_at))
    answers, score = _scored(campaign, fields)
    comment = _comment(campaign, fields, answers)
    additional = _additional(campaign, fields.get("additional_answers"), answers)
    _, given_id = _first(fields, ID)
    delighted_id = _text_id(given_id) or f"{email}|{created_at:.0f}"
    props_key = "person_properties" if "person_properties" in fields else "properties"
    return Response(
        row=number,
        delighted_id=delighted_id,
        email=email,
        answers=answers,
        comment=comment,
        score=score,
        category=category(score) if campaign.survey.nps_question and score is not None else None,
        created_at=created_at,
        updated_at=updated_at,
        properties=_properties(fields, props_key),
        tags=_tags(fields.get("tags")),
        notes=_notes(fields.get("notes"), created_at, context["now"]),
        additional=additional,
    )


def scored_question(campaign: CampaignView) -> Question:
    """The question a Delighted score answers: the survey's NPS question, else its first (a scale).
    Raises ValidationError when the campaign has neither: a score would have nowhere to go."""
    question = campaign.survey.nps_question or campaign.survey.first
    if not question.is_scale:
        raise ValidationError(
            "This campaign's first question is not a scale: Delighted's scores need an NPS or scale question.",
            "campaign_id",
        )
    return question


def _scored(campaign: CampaignView, fields: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    question = scored_question(campaign)
    name, value = _first(fields, SCORE)
    if value is None:
        raise RowError(name, "A response needs its score.")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RowError(name, f"“{str(value)[:20]}” is not a whole number.")
    try:
        score = question.parse([str(value)])
    except AnswerError as exc:
        raise RowError(name, exc.message) from None
    return {question.id: score}, score


def _comment(campaign: CampaignView, fields: Mapping[str, Any], answers: dict[str, Any]) -> str | None:
    """The comment, also the answer to the survey's text question when it has one (as the survey page does)."""
    name, value = _first(fields, COMMENT)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowError(name, "A comment is text.")
    text = value.strip()
    if len(text) > MAX_COMMENT:
        raise RowError(name, f"A comment has at most {MAX_COMMENT} characters (this one has {len(text)}).")
    box = campaign.survey.comment_question
    if box is not None and text:
        try:
            answers[box.id] = box.parse([text])
        except AnswerError as exc:
            raise RowError(name, exc.message) from None
    return text or None


def _additional(campaign: CampaignView, given: Any, answers: dict[str, Any]) -> list[Any]:
    """Delighted's additional answers: one to a question of the campaign (same id or same text) becomes its
    answer, and is counted; the others are kept as Delighted gave them."""
    if given in (None, ""):
        return []
    if not isinstance(given, list):
        raise RowError("additional_answers", "additional_answers is a list of answers.")
    if len(given) > MAX_ADDITIONAL or len(json.dumps(given)) > MAX_ADDITIONAL_JSON:
        raise RowError(
            "additional_answers",
            f"At most {MAX_ADDITIONAL} additional answers of {MAX_ADDITIONAL_JSON:,} characters in all per response.",
        )
    kept = []
    for n, item in enumerate(given):
        if not isinstance(item, Mapping):
            raise RowError(
                "additional_answers", f"additional_answers[{n}] is not an answer object ({{question, value}})."
            )
        question = item.get("question")
        target = None
        if isinstance(question, Mapping):
            wanted = str(question.get("text") or "").strip().lower()
            target = campaign.survey.question(str(question.get("id"))) or next(
                (q for q in campaign.survey.questions if wanted and q.text.strip().lower() == wanted), None
            )
        values = _answer_values(item.get("value"))
        if target is not None and values is not None and target.id not in answers:
            try:
                parsed = target.parse(values)
            except AnswerError:
                parsed = None
            if parsed is not None:
                answers[target.id] = parsed
                continue
        kept.append(item)
    return kept


def _answer_values(value: Any) -> list[str] | None:
    """An additional answer's value as form values: free_response, scale, select_one or select_many."""
    if not isinstance(value, Mapping):
        return None
    for key in ("free_response", "scale"):
        if value.get(key) not in (None, ""):
            return [str(value[key])]
    one = value.get("select_one")
    if isinstance(one, Mapping) and one.get("text"):
        return [str(one["text"])]
    many = value.get("select_many")
    if isinstance(many, list):
        return [str(choice.get("text")) for choice in many if isinstance(choice, Mapping) and choice.get("text")]
    return None


def _tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise RowError("tags", "tags is a list of texts.")
    tags = [t.strip()[:200] for t in value if t.strip()]
    if len(tags) > MAX_TAGS:
        raise RowError("tags", f"At most {MAX_TAGS} tags per response.")
    return tags


def _notes(value: Any, created_at: float, now: float) -> list[dict[str, Any]]:
    """Delighted's notes ({text, user_email, created_at}) as loop history entries {at, note, by}."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise RowError("notes", "notes is a list of {text, user_email, created_at}.")
    if len(value) > MAX_NOTES:
        raise RowError("notes", f"At most {MAX_NOTES} notes per response.")
    notes = []
    for n, note in enumerate(value):
        text = note.get("text") if isinstance(note, Mapping) else note
        if not isinstance(text, str):
            raise RowError(f"notes[{n}]", "A note has its text.")
        at = note.get("created_at") if isinstance(note, Mapping) else None
        by = note.get("user_email") if isinstance(note, Mapping) else None
        notes.append(
            {
                "at": created_at if at in (None, "") else moment(at, f"notes[{n}].created_at", now),
                "note": text.strip()[:MAX_NOTE],
                "by": str(by or "Delighted")[:200],
            }
        )
    return notes
