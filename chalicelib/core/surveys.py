"""Surveys are ordered lists of typed questions; each type parses and explains its answers.

Pure functions and value objects: a survey definition is validated once when a campaign is
created, and answers are parsed from form fields (lists of strings) on every submit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.errors import ValidationError
from chalicelib.core.headers import header_problem, text_problem
from chalicelib.core.i18n import Text

# Fixed scales; `rating` takes its number of points from the question.
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
CHOICE_TYPES = ("single_choice", "multi_choice")
QUESTION_TYPES = ("nps", "csat", "ces", "rating", "single_choice", "multi_choice", "text")
# Shown in the customer's language unless the campaign sets its own (core.i18n.Text).
DEFAULT_LABELS = {
    "nps": (Text("Not at all likely"), Text("Extremely likely")),
    "csat": (Text("Very unsatisfied"), Text("Very satisfied")),
    "ces": (Text("Very difficult"), Text("Very easy")),
    "rating": (Text("Poor"), Text("Excellent")),
}
MAX_RATING_POINTS = 10
MAX_OPTIONS = 20
MAX_QUESTIONS = 20
MAX_TEXT = 2000
MAX_COMMENT = 5000
# Characters of what a campaign writes, checked when a survey comes in (parse_incoming_survey). A question's
# text and a scale's end labels may be as long as their translations (campaigns.MAX_TRANSLATED: 1,000 for a
# question text, 200 for a label); an option is shorter, as the survey page posts it back: MAX_OPTIONS of
# them fit one text answer's share of the answer form (answers.survey_pages.ANSWER_FORM_BYTES).
MAX_QUESTION_TEXT = 1000
MAX_LABEL = 200
MAX_OPTION = 100
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

# The request shape of a survey, declared once: parse_incoming_survey reads its keys, JSON types, lengths,
# enums and patterns from here and chalicelib.admin.openapi publishes it. It says no more than that parser
# enforces; what JSON Schema cannot say (unique ids, which keys apply to which type, the first question)
# stays in code.
QUESTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "type", "text"],
    "properties": {
        "id": {"type": "string", "pattern": _ID.pattern},
        "type": {"enum": list(QUESTION_TYPES)},
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_TEXT},
        "required": {"type": "boolean", "description": "the first question is always required"},
        "options": {
            "type": "array",
            "minItems": 2,
            "maxItems": MAX_OPTIONS,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": MAX_OPTION},
            "description": "single_choice and multi_choice only",
        },
        "points": {"type": "integer", "minimum": 2, "maximum": MAX_RATING_POINTS, "description": "rating only"},
        "low_label": {"type": "string", "maxLength": MAX_LABEL, "description": "scales only; empty: the default"},
        "high_label": {"type": "string", "maxLength": MAX_LABEL, "description": "scales only; empty: the default"},
        "min_choices": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_OPTIONS,
            "description": "multi_choice only; 0 (the default): none required",
        },
        "max_choices": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_OPTIONS,
            "description": "multi_choice only; 0 (the default): no limit, the page says 'choose any'",
        },
    },
}
SURVEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["questions"],
    "properties": {"questions": {"type": "array", "minItems": 1, "maxItems": MAX_QUESTIONS, "items": QUESTION_SCHEMA}},
}


def _unlimited(schema: Any) -> Any:
    """A declaration without its lengths and patterns."""
    if isinstance(schema, dict):
        return {key: _unlimited(value) for key, value in schema.items() if key not in ("maxLength", "pattern")}
    return schema


# A stored survey as the API answers it (CampaignView.to_json): the request's shape without its lengths and
# id pattern, which a campaign accepted before they were checked may exceed (parse_survey reads it).
QUESTION_JSON: dict[str, Any] = _unlimited(QUESTION_SCHEMA)
SURVEY_JSON: dict[str, Any] = {
    **SURVEY_SCHEMA,
    "properties": {"questions": {**SURVEY_SCHEMA["properties"]["questions"], "items": QUESTION_JSON}},
}


def question_keys(qtype: str) -> tuple[str, ...]:
    """The keys a question of this type takes, in QUESTION_SCHEMA's order."""
    keys = ["id", "type", "text", "required"]
    if qtype == "rating":
        keys.append("points")
    if qtype in SCALES or qtype == "rating":
        keys += ["low_label", "high_label"]
    if qtype in CHOICE_TYPES:
        keys.append("options")
    if qtype == "multi_choice":
        keys += ["min_choices", "max_choices"]
    return tuple(keys)


class AnswerError(ValueError):
    """An answer a customer can fix, with the sentence that tells them how (a Text, shown in their language)."""

    def __init__(self, question_id: str, message: Text) -> None:
        super().__init__(message)
        self.question_id = question_id
        self.message = message


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    required: bool = False
    options: tuple[str, ...] = ()
    points: int = 0
    low_label: str = ""
    high_label: str = ""
    min_choices: int = 0
    max_choices: int = 0
    # what the customer reads for each option, in their language (chalicelib.core.translations.localize);
    # empty: the options themselves. The option's value is what is posted, stored and counted.
    option_labels: tuple[str, ...] = ()

    def display(self, value: Any) -> str:
        """The text a customer reads for an answer value: a translated option, else the value as text."""
        if self.option_labels and value in self.options:
            return self.option_labels[self.options.index(value)]
        return str(value)

    def choices(self) -> list[tuple[str, str]]:
        """(value, text shown) of each option, in order."""
        return [(option, self.display(option)) for option in self.options]

    @property
    def field_name(self) -> str:
        return f"q_{self.id}"

    @property
    def bounds(self) -> tuple[int, int] | None:
        if self.type in SCALES:
            return SCALES[self.type]
        if self.type == "rating":
            return (1, self.points)
        return None

    @property
    def is_scale(self) -> bool:
        return self.bounds is not None

    def scale_values(self) -> list[int]:
        low, high = self.bounds or (0, -1)
        return list(range(low, high + 1))

    def one_click_values(self) -> list[str]:
        """Answers a person can give with one click in the email itself."""
        if self.is_scale:
            return [str(v) for v in self.scale_values()]
        if self.type == "single_choice":
            return list(self.options)
        return []

    def parse(self, raw: list[str]) -> Any:
        """The typed answer from form values, None when left empty; AnswerError explains a bad one."""
        values = [v.strip() for v in raw if v is not None and v.strip()]
        if self.type == "text":  # only invisible characters is no answer
            values = [text for v in values if (text := written(v))]
        if not values:
            if self.required:
                raise AnswerError(self.id, self._missing_message())
            return None
        if self.is_scale:
            return self._parse_scale(values)
        if self.type == "single_choice":
            return self._parse_choice(values)
        if self.type == "multi_choice":
            return self._parse_choices(values)
        text = " ".join(values)  # each already written(): what a person wrote
        if len(text) > MAX_TEXT:
            raise AnswerError(
                self.id,
                Text("Please keep this under %(limit)s characters (it has %(n)s).", limit=MAX_TEXT, n=len(text)),
            )
        return text

    def _missing_message(self) -> Text:
        if self.is_scale:
            low, high = self.bounds
            return Text("Please choose a score from %(low)s to %(high)s.", low=low, high=high)
        if self.type in CHOICE_TYPES:
            return Text("Please choose an answer.")
        return Text("Please answer this question.")

    def _parse_scale(self, values: list[str]) -> int:
        low, high = self.bounds
        if len(values) > 1:
            raise AnswerError(
                self.id, Text("Choose one score from %(low)s to %(high)s, not several.", low=low, high=high)
            )
        try:
            number = int(values[0])
        except ValueError:
            raise AnswerError(
                self.id,
                Text(
                    "“%(given)s” is not a whole number: choose a score from %(low)s to %(high)s.",
                    given=quoted(values[0], 20),
                    low=low,
                    high=high,
                ),
            ) from None
        if not low <= number <= high:
            raise AnswerError(
                self.id,
                Text(
                    "%(given)s is outside the scale: choose a score from %(low)s to %(high)s.",
                    given=number,
                    low=low,
                    high=high,
                ),
            )
        return number

    def _parse_choice(self, values: list[str]) -> str:
        if len(values) > 1:
            raise AnswerError(self.id, Text("Choose one answer, not several."))
        if values[0] not in self.options:
            raise AnswerError(self.id, Text("“%(given)s” is not one of the choices.", given=quoted(values[0], 40)))
        return values[0]

    def _parse_choices(self, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in self.options]
        if unknown:
            raise AnswerError(self.id, Text("“%(given)s” is not one of the choices.", given=quoted(unknown[0], 40)))
        chosen = [o for o in self.options if o in set(values)]
        if self.min_choices and len(chosen) < self.min_choices:
            raise AnswerError(self.id, Text("Please choose at least %(n)s.", n=self.min_choices))
        if self.max_choices and len(chosen) > self.max_choices:
            raise AnswerError(
                self.id,
                Text("Please choose at most %(n)s (you chose %(chosen)s).", n=self.max_choices, chosen=len(chosen)),
            )
        return chosen

    def to_json(self) -> dict:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "text": self.text, "required": self.required}
        if self.options:
            data["options"] = list(self.options)
        if self.type == "rating":
            data["points"] = self.points
        if self.is_scale:
            data["low_label"], data["high_label"] = self.low_label, self.high_label
        if self.type == "multi_choice":
            data["min_choices"], data["max_choices"] = self.min_choices, self.max_choices
        return data


@dataclass(frozen=True)
class Survey:
    questions: tuple[Question, ...]
    _by_id: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({q.id: q for q in self.questions})

    @property
    def first(self) -> Question:
        return self.questions[0]

    @property
    def nps_question(self) -> Question | None:
        return next((q for q in self.questions if q.type == "nps"), None)

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    @property
    def comment_question(self) -> Question | None:
        """The survey's first text question: the page's one free-text box, whose answer is the comment."""
        return next((q for q in self.questions if q.type == "text"), None)

    def typed(self, form: Mapping[str, list[str]]) -> dict[str, Any]:
        """What the person gave, as they gave it, to show again on the form: {question id: text, or
        a list of texts for multiple choices}; valid or not, nothing ticked or typed is dropped."""
        shown: dict[str, Any] = {}
        for question in self.questions:
            raw = [v for v in form.get(question.field_name, []) if isinstance(v, str)]
            if question.type == "multi_choice":
                shown[question.id] = [v.strip() for v in raw if v.strip()]
            elif question.type == "text":
                shown[question.id] = "\n".join(v for v in raw if v)
            elif raw:
                shown[question.id] = raw[0].strip()
        return shown

    def parse_answers(
        self, form: Mapping[str, list[str]], only_first: bool = False
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Answers given and errors found; `only_first` parses the headline question alone."""
        answers: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for question in self.questions[:1] if only_first else self.questions:
            try:
                value = question.parse(form.get(question.field_name, []))
            except AnswerError as exc:
                errors[question.id] = exc.message
                continue
            if value is not None:
                answers[question.id] = value
        return answers, errors

    def to_json(self) -> dict:
        return {"questions": [q.to_json() for q in self.questions]}


# Bidirectional embeddings, overrides and isolates, and the byte order mark: no keyboard types them, and
# an override would make a quoted comment read otherwise in the dashboard and the emails (the marks LRM and
# RLM, and the joiners some scripts need, are kept).
_INVISIBLE = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")


def quoted(text: str, limit: int) -> str:
    """A refused value as an error message quotes it: what cannot be shown (control characters,
    bidirectional overrides) as U+FFFD, so the customer sees that something is there."""
    return "".join("\ufffd" if _hidden(ch) else ch for ch in text[:limit])


def _hidden(ch: str) -> bool:
    return ch not in "\t\n\r" and (unicodedata.category(ch) == "Cc" or ch in _INVISIBLE)


def written(text: str) -> str:
    """What a person wrote, without control characters (tab and line breaks apart) or bidirectional
    overrides: no keyboard types them, so they come from scripts, and they would travel into the emails
    and exports that quote it."""
    return "".join(ch for ch in text if not _hidden(ch)).strip()


def parse_comment(raw: list[str]) -> str | None:
    text = written("\n".join(v for v in raw if v))
    if len(text) > MAX_COMMENT:
        raise AnswerError(
            "comment",
            Text("Please keep your comment under %(limit)s characters (it has %(n)s).", limit=MAX_COMMENT, n=len(text)),
        )
    return text or None


def parse_incoming_survey(data: Any, path: str = "survey") -> Survey:
    """A survey as a request gives it (POST and PATCH /api/campaigns, so the dashboard's builder and the demo
    seed too), held to SURVEY_SCHEMA to the letter: no key it does not declare, none that the question's type
    does not take, booleans JSON booleans, texts strings within their lengths (MAX_QUESTION_TEXT, MAX_LABEL,
    MAX_OPTION); then parse_survey's rules. A ValidationError names the field at fault, e.g.
    `survey.questions[2].required`."""
    return _parse(data, path, strict=True)


def parse_survey(data: Any, path: str = "survey") -> Survey:
    """A stored survey (or one built in code), read as campaigns have always been read: a campaign accepted
    before a check was added keeps loading, so the survey links it mailed keep working. What comes in goes
    through parse_incoming_survey. A ValidationError names the field at fault."""
    return _parse(data, path, strict=False)


def _parse(data: Any, path: str, strict: bool) -> Survey:
    if not isinstance(data, Mapping):
        raise ValidationError("A survey is an object with a list of questions.", path)
    unknown = sorted(map(str, set(data) - SURVEY_SCHEMA["properties"].keys())) if strict else []
    if unknown:
        raise ValidationError(
            f"Unknown field {unknown[0][:40]!r}: a survey has only questions.", f"{path}.{unknown[0][:40]}"
        )
    items = data.get("questions")
    if not isinstance(items, list) or not items:
        raise ValidationError("A survey needs at least one question.", f"{path}.questions")
    if len(items) > MAX_QUESTIONS:
        raise ValidationError(f"A survey has at most {MAX_QUESTIONS} questions.", f"{path}.questions")
    questions = [
        _parse_question(item, f"{path}.questions[{i}]", first=i == 0, strict=strict) for i, item in enumerate(items)
    ]
    seen: set[str] = set()
    for i, q in enumerate(questions):
        if q.id in seen:
            raise ValidationError(f"Question id “{q.id}” is used twice.", f"{path}.questions[{i}].id")
        seen.add(q.id)
    if questions[0].type in ("text", "multi_choice"):
        raise ValidationError(
            "The first question is answered in the email itself: make it a scale or a single choice.",
            f"{path}.questions[0].type",
        )
    return Survey(tuple(questions))


def _parse_question(item: Any, path: str, first: bool, strict: bool) -> Question:
    if not isinstance(item, Mapping):
        raise ValidationError("Each question is an object.", path)
    qtype = item.get("type")
    if qtype not in QUESTION_TYPES:
        given = (
            "A question needs its type"
            if qtype is None
            else f"Unknown question type “{quoted(qtype, 40)}”"
            if isinstance(qtype, str)
            else f"type is a string, not {_json_name(qtype)}"
        )
        raise ValidationError(f"{given}: use one of {', '.join(QUESTION_TYPES)}.", f"{path}.type")
    if strict:
        _check_declared(item, qtype, path)
    qid = item.get("id")
    if not isinstance(qid, str) or not (_ID.fullmatch(qid) if strict else _ID.match(qid)):
        raise ValidationError(
            "A question id is 1-32 lower-case letters, digits or underscores, starting with a letter.", f"{path}.id"
        )
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("Every question needs its text.", f"{path}.text")
    points = 0
    if qtype == "rating":
        points = item.get("points", 5)
        if not isinstance(points, int) or isinstance(points, bool) or not 2 <= points <= MAX_RATING_POINTS:
            raise ValidationError(f"A rating has 2 to {MAX_RATING_POINTS} points.", f"{path}.points")
    options: tuple[str, ...] = ()
    if qtype in CHOICE_TYPES:
        raw = item.get("options")
        if (
            not isinstance(raw, list)
            or not 2 <= len(raw) <= MAX_OPTIONS
            or not all(isinstance(o, str) and o.strip() for o in raw)
        ):
            raise ValidationError(f"A choice question needs 2 to {MAX_OPTIONS} non-empty options.", f"{path}.options")
        options = tuple(o.strip() for o in raw)
        if len(set(options)) != len(options):
            raise ValidationError("Options must differ from each other.", f"{path}.options")
    min_choices, max_choices = _choice_limits(item, qtype, len(options), path)
    low, high = DEFAULT_LABELS.get("rating" if qtype == "rating" else qtype, ("", ""))
    return Question(
        id=qid,
        type=qtype,
        text=text.strip(),
        required=first or bool(item.get("required", False)),
        options=options,
        points=points,
        low_label=_label(item.get("low_label"), low),
        high_label=_label(item.get("high_label"), high),
        min_choices=min_choices,
        max_choices=max_choices,
    )


_JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,), "integer": (int,), "array": (list,)}
_WORDS = {"string": "a string", "boolean": "true or false", "integer": "a whole number", "array": "a list"}


def _check_declared(item: Mapping, qtype: str, path: str) -> None:
    """Each key of an incoming question as QUESTION_SCHEMA declares it: known, taken by the question's type, of
    its JSON type (true is no number, "false" no boolean) and within its lengths. Ranges, patterns and
    uniqueness are _parse_question's, with their own messages."""
    declared = QUESTION_SCHEMA["properties"]
    taken = question_keys(qtype)
    for key in sorted(map(str, item), key=lambda k: (list(declared).index(k) if k in declared else len(declared), k)):
        here, value, schema = f"{path}.{key[:40]}", item[key], declared.get(key)
        if schema is None:
            raise ValidationError(f"Unknown field {key[:40]!r}: a question has {', '.join(declared)}.", here)
        if key not in taken:
            users = [t for t in QUESTION_TYPES if key in question_keys(t)]
            raise ValidationError(f"{key} is for {_either(users)} questions only, not {qtype}.", here)
        kind = schema.get("type")
        if kind is None:
            continue
        if not isinstance(value, _JSON_TYPES[kind]) or (kind == "integer" and isinstance(value, bool)):
            raise ValidationError(f"{key} is {_WORDS[kind]}, not {_json_name(value)}.", here)
        limit = schema.get("maxLength")
        if limit and len(value) > limit:
            raise ValidationError(f"{key} has at most {limit} characters; this one has {len(value)}.", here)
        problem = text_problem(value) if kind == "string" else None
        if problem:
            raise ValidationError(f"{key} cannot hold {problem}: it is shown in emails and pages.", here)
        if kind == "array":
            _check_texts(value, key, schema["items"]["maxLength"], here)


def _check_texts(values: list, key: str, limit: int, path: str) -> None:
    """A list of texts (a choice question's options), each within `limit` characters; the message counts
    from 1, as the builder shows them one per line."""
    noun = key.removesuffix("s")
    for n, entry in enumerate(values, 1):
        if not isinstance(entry, str):
            raise ValidationError(f"{key} is a list of texts; {noun} {n} is {_json_name(entry)}.", path)
        if len(entry) > limit:
            raise ValidationError(
                f"{noun.capitalize()} {n} (“{quoted(entry, 30)}…”) has {len(entry)} characters; "
                f"each has at most {limit}.",
                path,
            )
        if key == "options":
            _check_option(entry.strip(), n, path)
    if key == "options":
        seen: dict[str, int] = {}
        for n, entry in enumerate(values, 1):
            first = seen.setdefault(_as_seen(entry), n)
            if first != n:
                raise ValidationError(
                    f"Options {first} and {n} (“{quoted(entry.strip(), 30)}”) look the same to a customer: "
                    "make each choice read differently.",
                    path,
                )


def _check_option(option: str, n: int, path: str) -> None:
    """An option's text is the value the form posts back: a browser sends a line break in it as CR LF and
    drops nothing else, so an option with a line break or a control character could never be chosen; one of
    invisible characters only (a zero-width space) shows an empty choice."""
    problem = header_problem(option) or next(
        (f"a bidirectional control (U+{ord(ch):04X})" for ch in option if ch in _INVISIBLE), None
    )
    if problem:
        shown = "".join("\ufffd" if header_problem(ch) or ch in _INVISIBLE else ch for ch in option[:30])
        raise ValidationError(f"Option {n} (“{shown}”) cannot hold {problem}: an option is one line of text.", path)
    if option and not _as_seen(option):
        raise ValidationError(f"Option {n} shows nothing: it has only spaces or invisible characters.", path)


# characters that draw nothing though Unicode calls them letters or symbols: Hangul fillers, the blank braille
# pattern; and the emoji and text presentation selectors, which change no choice's meaning
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800\ufe0e\ufe0f")


def _as_seen(option: str) -> str:
    """An option as a customer sees it: composed (é and e + U+0301 alike), without what draws nothing (format
    characters such as a zero-width space, spaces, combining marks with nothing to sit on, blank letters)."""
    composed = unicodedata.normalize("NFC", option)
    kept = "".join(ch for ch in composed if not (ch.isspace() or ch in _BLANK or unicodedata.category(ch) == "Cf"))
    return kept if any(unicodedata.category(ch)[0] != "M" for ch in kept) else ""


def _json_name(value: Any) -> str:
    """How JSON names a value's type, with a short value: what a person sees they sent."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string “{quoted(value, 30)}”"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "an object"


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _label(given: Any, default: str) -> str:
    """A scale's end label; the default one (a stored survey carries it in English) stays translatable."""
    text = str(given or "")
    return default if not text or text == default else text


def _choice_limits(item: Mapping, qtype: str, n_options: int, path: str) -> tuple[int, int]:
    if qtype != "multi_choice":
        return 0, 0
    limits = []
    for key, default in (("min_choices", 0), ("max_choices", 0)):
        value = item.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= n_options:
            words = "Choose at least" if key == "min_choices" else "Choose at most"
            raise ValidationError(f"{words} ({key}) is a whole number from 0 to {n_options}.", f"{path}.{key}")
        limits.append(value)
    if limits[1] and limits[0] > limits[1]:
        raise ValidationError("min_choices cannot exceed max_choices.", f"{path}.min_choices")
    return limits[0], limits[1]
