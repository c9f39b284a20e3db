"""The admin API's messages in the builder's words: a field is named by the label a person sees beside it.

The API names a field by its JSON path, for whoever wrote the JSON: "max_choices is a whole number, not the
string “two”", "The brand colour (brand_color) is …". A builder step knows the label of each input it shows
({field path: label}), so it says the same message with those labels (`in_words`) and lists each refusal at
the top of the page under its label (`summary_label`). The API's own messages stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_INDEX = re.compile(r"\[\d{1,3}\]$")
_ASIDE = re.compile(r" ?\((?!“)([^()]*)\)")  # an aside in parentheses, not a quoted value such as (“A”)
_ROW = re.compile(r"(questions|alert_rules|webhooks)\[(\d{1,3})\]")
_ROW_WORDS = {"questions": "question", "alert_rules": "rule", "webhooks": "webhook"}


def key_of(path: str) -> str:
    """The API's name of the field a path ends in: `max_choices` of `survey.questions[1].max_choices`,
    `segments` of `segments[2]`."""
    return _INDEX.sub("", path.rsplit(".", 1)[-1])


def _parent(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path else ""


def names_near(path: str, labels: Mapping[str, str]) -> dict[str, str]:
    """{API name: label} of the fields a message about `path` may name: the field itself, its siblings (of the
    same question, rule or step), for a whole rule or question its own fields, and the step's top fields."""
    near = (_parent(path), path, "", "options")
    names = {key_of(other): label for other, label in labels.items() if _parent(other) in near}
    if path in labels:
        names[key_of(path)] = labels[path]
    return names


def in_words(message: str, names: Mapping[str, str]) -> str:
    """`message` with the API's field names given as the form's labels (`names`: {"max_choices": "Choose at
    most"}): an aside in parentheses that names a field goes (it restates, for a JSON caller, the field the
    sentence already names); a name with an underscore becomes its label wherever it stands, any other name
    (segments, points) where it opens the message (elsewhere it is a word: "needs its text")."""
    if not names:
        return message

    def named(text: str, name: str) -> bool:
        return re.search(rf"(?<![\w“]){re.escape(name)}(?![\w”])", text) is not None

    text = _ASIDE.sub(lambda m: "" if any(named(m[1], name) for name in names) else m[0], message)
    for name, label in names.items():
        if "_" in name:
            text = re.sub(rf"(?<![\w“.]){re.escape(name)}(?![\w”])", f"“{label}”", text)
    for name, label in names.items():
        opening = re.match(rf"{re.escape(name)}\b(?! \()", text)
        if opening:
            text = f"“{label}”{text[opening.end() :]}"
            after = re.match(r" and (\w+)\b", text[len(label) + 2 :])
            if after and after[1] in names:
                start = len(label) + 2 + len(" and ")
                text = f"{text[:start]}“{names[after[1]]}”{text[start + len(after[1]) :]}"
            break
    return text


def worded(errors: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, str]:
    """Each error's message in the words of the page whose inputs `labels` names."""
    return {path: in_words(message, names_near(path, labels)) for path, message in errors.items()}


def summary_label(path: str, labels: Mapping[str, str]) -> str:
    """What the list of refusals at the top of a page calls a field: its label, with the question, rule or
    webhook it belongs to when the label does not say ("Rule 2" for a whole rule); the path itself for a field
    with no input here."""
    label = labels.get(path)
    row = _ROW.search(path)
    if label is None:
        return f"{_ROW_WORDS[row[1]].capitalize()} {int(row[2]) + 1}" if row and path.endswith("]") else path
    if row and not re.search(r"\d", label):
        return f"{label} ({_ROW_WORDS[row[1]]} {int(row[2]) + 1})"
    return label
