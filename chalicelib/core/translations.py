"""A campaign's own texts in the languages it offers: its questions, their options and labels, and the
subject, introduction and acknowledgements of its emails, as the CX lead gives them in
`options.translations` (see chalicelib.core.i18n for how a contact's language is chosen).

Shape: {locale: {"questions": {question id: {"text", "options", "low_label", "high_label"}},
"subject", "intro", "ack": {category: {"subject", "body"}}}}. The campaign's own texts are in its
`default_locale`; a translation gives the same texts in another language. Answers are stored and
counted as the default-language option values whatever language the customer saw: a translated
option is what the customer reads, never what is stored.

Pure functions: the option's shape is parsed by chalicelib.campaigns.campaigns (OPTIONS), which calls
`check` on the whole campaign once its survey and options are known together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core import i18n
from chalicelib.core.errors import ValidationError
from chalicelib.core.surveys import CHOICE_TYPES, DEFAULT_LABELS, Question, Survey

# Language names in English, for the CX lead's messages ("The French translation has no text ...").
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "pt_BR": "Brazilian Portuguese",
    "ar": "Arabic",
}
QUESTION_KEYS = ("text", "options", "low_label", "high_label")
TEXT_KEYS = ("subject", "intro")
LABEL_WORDS = {"low_label": "low-end label (low_label)", "high_label": "high-end label (high_label)"}


def language_name(code: str) -> str:
    """ "fr" -> "French"; a code without an English name is given as it is."""
    return LANGUAGE_NAMES.get(code, code)


def supported(value: Any, path: str) -> str:
    """A supported language code (a key of i18n.LANGUAGES), else a ValidationError naming them all and, for a
    tag that names one ("fr-FR"), the code to write."""
    if isinstance(value, str) and value in i18n.LANGUAGES:
        return value
    known = ", ".join(f"{code} ({language_name(code)})" for code in i18n.LANGUAGES)
    meant = i18n.normalize(value)
    hint = f" For {language_name(meant)}, write {meant!r}." if meant else ""
    given = f"Unknown language {value[:40]!r}" if isinstance(value, str) else "A language is a code such as 'fr'"
    raise ValidationError(f"{given}: use one of {known}.{hint}", path)


def _custom_label(question: Question, key: str) -> str:
    """The question's label when the CX lead wrote it; "" for a built-in one (parse_survey fills those in),
    which the interface shows in the customer's language."""
    builtin = DEFAULT_LABELS.get("rating" if question.type == "rating" else question.type, ("", ""))
    value = getattr(question, key)
    return "" if value == builtin[0 if key == "low_label" else 1] else value


def check(survey: Survey, options: Mapping[str, Any]) -> None:
    """Every translation covers the survey and the campaign's own texts.

    For each language: every question's text; a choice question's options (as many as the campaign's own,
    in the same order); a scale's low and high labels where the campaign wrote its own; the subject,
    introduction and acknowledgements where the campaign sets its own (a translation may also give them
    where it does not, in place of the built-in ones). A translation may not name a question the survey
    does not have, nor give options or labels a question does not have, nor be in the default language.

    Raises ValidationError naming the language and the question (or text) with the field path, e.g.
    `options.translations.fr.questions.reason.text`.
    """
    default = options.get("default_locale") or i18n.DEFAULT_LOCALE
    own = language_name(default)
    for code, translation in (options.get("translations") or {}).items():
        path, name = f"options.translations.{code}", language_name(code)
        if code == default:
            raise ValidationError(
                f"{name} is the campaign's own language (default_locale): its texts are the campaign's own, "
                "not a translation. Remove this translation or change default_locale.",
                path,
            )
        given = translation.get("questions") or {}
        for qid in given:
            if survey.question(qid) is None:
                raise ValidationError(
                    f"The {name} translation names question {qid!r}, which the survey does not have.",
                    f"{path}.questions.{qid}",
                )
        for question in survey.questions:
            _check_question(question, given.get(question.id) or {}, f"{path}.questions.{question.id}", name, own)
        for key in TEXT_KEYS:
            if options.get(key) and not translation.get(key):
                word = "introduction (intro)" if key == "intro" else "subject"
                raise ValidationError(
                    f"The {name} translation has no {word}: the campaign sets its own in {own}.", f"{path}.{key}"
                )
        for category, parts in (options.get("ack") or {}).items():
            for part in parts:
                if not ((translation.get("ack") or {}).get(category) or {}).get(part):
                    raise ValidationError(
                        f"The {name} translation has no {part} for the {category} acknowledgement: the campaign "
                        f"sets its own in {own}.",
                        f"{path}.ack.{category}.{part}",
                    )


def _check_question(question: Question, given: Mapping[str, Any], path: str, name: str, own: str) -> None:
    if not given.get("text"):
        raise ValidationError(f"The {name} translation has no text for question {question.id!r}.", f"{path}.text")
    if question.type in CHOICE_TYPES:
        options = given.get("options") or []
        if len(options) != len(question.options):
            raise ValidationError(
                f"The {name} translation of question {question.id!r} gives {len(options)} option(s); it needs "
                f"{len(question.options)}, in the order of the {own} ones ({', '.join(question.options)}).",
                f"{path}.options",
            )
    elif "options" in given:
        raise ValidationError(
            f"Question {question.id!r} has no options to translate (only choice questions have).", f"{path}.options"
        )
    for key in ("low_label", "high_label"):
        if not question.is_scale and key in given:
            raise ValidationError(
                f"Question {question.id!r} has no labels to translate (only scales have).", f"{path}.{key}"
            )
        if question.is_scale and _custom_label(question, key) and not given.get(key):
            raise ValidationError(
                f"The {name} translation has no {LABEL_WORDS[key]} for question {question.id!r}: the campaign "
                f"sets its own in {own}.",
                f"{path}.{key}",
            )


def prune(options: Mapping[str, Any], survey: Survey) -> dict[str, Any]:
    """The options with the translations of questions the survey no longer has left out (the builder saves
    a survey without a removed question's translations)."""
    translations = options.get("translations")
    if not translations:
        return dict(options)
    kept = {
        code: {
            **translation,
            "questions": {
                qid: texts for qid, texts in (translation.get("questions") or {}).items() if survey.question(qid)
            },
        }
        for code, translation in translations.items()
    }
    return {**options, "translations": kept}


def localize(survey: Survey, options: Mapping[str, Any], locale: str) -> Survey:
    """The survey as a customer reading `locale` sees it: question texts, labels and the options' display
    texts from its translation; every option's value (what is posted, stored and counted) stays the
    campaign's own. In the default language, or one without a translation, the survey as it is.

    A label the CX lead did not write (a built-in one) stays built-in in every language."""
    translation = (options.get("translations") or {}).get(locale)
    if not translation:
        return survey
    given = translation.get("questions") or {}
    questions = []
    for question in survey.questions:
        texts = given.get(question.id) or {}
        labels = tuple(texts.get("options") or ())
        questions.append(
            dataclasses.replace(
                question,
                text=texts.get("text") or question.text,
                option_labels=labels if len(labels) == len(question.options) else (),
                low_label=texts.get("low_label") or question.low_label,
                high_label=texts.get("high_label") or question.high_label,
            )
        )
    return Survey(tuple(questions))


@dataclass(frozen=True)
class Texts:
    """The campaign's email texts in one language; None where it gives none (the built-in text is used)."""

    subject: str | None
    intro: str | None
    ack: Mapping[str, Mapping[str, str]]  # category -> {subject?, body?}


def texts(options: Mapping[str, Any], locale: str) -> Texts:
    """The subject, introduction and acknowledgement templates for `locale`: the campaign's own in its
    default language (or any language it has no translation for), else its translation's."""
    translation = (options.get("translations") or {}).get(locale)
    source = (
        translation if translation and locale != (options.get("default_locale") or i18n.DEFAULT_LOCALE) else options
    )
    return Texts(source.get("subject") or None, source.get("intro") or None, dict(source.get("ack") or {}))
