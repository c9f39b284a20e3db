"""The campaign builder's languages step (issue 19): the language the campaign is written in, the CX
team's language, and the campaign's texts in each other language it offers: every question's text,
options and labels, and the subject, introduction and acknowledgements.

Inputs are named by the admin API's field paths (`options.translations.fr.questions.reason.text`, options
one per line) and a save is the API's PATCH (`api.update_campaign`), so the completeness check and its
messages are the API's (chalicelib.core.translations.check), shown beside the input they name. "Add a
language" shows the form again with an empty section for it, unsaved, without a script. A draft's options
are replaced as a whole, so the step sends its own over the stored ones; once a campaign has gone out its
languages stay correctable (CORRECTABLE_OPTIONS). The survey step shows the question translations too,
beside each question, and saves them with the survey, so a question added or removed there keeps the
translations complete (a removed question's translations are dropped).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.core import i18n, translations
from chalicelib.core.errors import Conflict, ValidationError
from chalicelib.core.lazy import OnFirstUse
from chalicelib.core.translations import QUESTION_KEYS, language_name
from chalicelib.dashboard.web import Ctx, page, redirect, textarea_lines, view
from chalicelib.dashboard.wording import worded

api = OnFirstUse("chalicelib.admin.api")  # cold start: the admin API's use cases, on request
campaigns = OnFirstUse("chalicelib.campaigns.campaigns")  # cold start: campaigns are read on request

routes = Blueprint(__name__)

KEYS = ("default_locale", "team_locale", "translations")
_FIELD = re.compile(
    r"^options\.translations\.([A-Za-z_]{2,5})\."
    r"(?:questions\.([a-z][a-z0-9_]{0,31})\.(text|options|low_label|high_label)|(subject|intro)"
    r"|ack\.(promoter|passive|detractor|neutral)\.(subject|body))$"
)
_REMOVE = re.compile(r"^remove:([A-Za-z_]{2,5})$")
MAX_GAPS = 200  # refusals gathered on one save: more than the fields of five languages of a full survey


def language_choices() -> list[tuple[str, str]]:
    """(code, "French (Français)") of every supported language."""
    return [(code, f"{language_name(code)} ({native})") for code, native in i18n.LANGUAGES.items()]


def translations_form(translations: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Stored translations as the form shows them: texts, options one per line."""
    typed: dict[str, dict[str, Any]] = {}
    for code, translation in translations.items():
        typed[code] = {
            "questions": {
                qid: {key: "\n".join(v) if key == "options" else str(v) for key, v in texts.items()}
                for qid, texts in (translation.get("questions") or {}).items()
            },
            **{key: str(translation.get(key, "")) for key in ("subject", "intro")},
            "ack": {cat: dict(parts) for cat, parts in (translation.get("ack") or {}).items()},
        }
    return typed


def typed_translations(form: Mapping[str, str], codes: list[str]) -> dict[str, dict[str, Any]]:
    """The translation inputs of a form as typed, for the languages `codes` (in that order)."""
    typed: dict[str, dict[str, Any]] = {
        code: {"questions": {}, "subject": "", "intro": "", "ack": {}} for code in codes
    }
    for name, value in form.items():
        found = _FIELD.match(name)
        if not found or found[1] not in typed:
            continue
        entry = typed[found[1]]
        if found[2]:
            entry["questions"].setdefault(found[2], {})[found[3]] = value
        elif found[4]:
            entry[found[4]] = value
        else:
            entry["ack"].setdefault(found[5], {})[found[6]] = value
    return typed


def translations_body(typed: Mapping[str, Mapping[str, Any]], question_ids: list[str]) -> dict[str, Any]:
    """Typed translations as the API takes them, for the questions `question_ids` only (a removed question's
    texts are left out); empty texts are left out, options are the non-blank lines."""
    body: dict[str, Any] = {}
    for code, entry in typed.items():
        questions: dict[str, Any] = {}
        for qid in question_ids:
            texts = entry["questions"].get(qid, {})
            given: dict[str, Any] = {}
            for key in QUESTION_KEYS:
                value = texts.get(key, "")
                if key == "options" and value.strip():
                    given[key] = textarea_lines(value)
                elif value.strip():
                    given[key] = value
            questions[qid] = given
        translation: dict[str, Any] = {"questions": questions}
        translation |= {key: entry[key] for key in ("subject", "intro") if entry.get(key, "").strip()}
        ack = {cat: {part: text for part, text in parts.items() if text.strip()} for cat, parts in entry["ack"].items()}
        if any(ack.values()):
            translation["ack"] = {cat: parts for cat, parts in ack.items() if parts}
        body[code] = translation
    return body


def merge_questions(
    stored: Mapping[str, Any], typed: Mapping[str, Mapping[str, Any]], question_ids: list[str]
) -> dict[str, Any]:
    """The stored translations with their question texts as typed on the survey step, for the survey's
    questions as typed (a removed question's are dropped); subject, introduction and ack kept."""
    questions = translations_body(typed, question_ids)
    return {code: {**translation, **questions.get(code, {})} for code, translation in stored.items()}


def translation_labels(code: str, question_ids: list[str], questions_only: bool = False) -> dict[str, str]:
    """{field path: label} of one language's inputs (templates/dashboard/builder_languages.html and
    _builder_translations.html), question by question in their order; `questions_only`: the survey step's."""
    language, base = language_name(code), f"options.translations.{code}"
    labels: dict[str, str] = {}
    for n, qid in enumerate(question_ids, 1):
        here = f"{base}.questions.{qid}"
        labels |= {
            f"{here}.text": f"Question {n} in {language}",
            f"{here}.options": f"Choices of question {n} in {language}, one per line",
            f"{here}.low_label": f"Words under the lowest score of question {n} in {language}",
            f"{here}.high_label": f"Words under the highest score of question {n} in {language}",
        }
    if questions_only:
        return labels
    labels |= {f"{base}.subject": f"Subject in {language}", f"{base}.intro": f"Introduction in {language}"}
    for cat in campaigns.ACK_CATEGORIES:
        labels[f"{base}.ack.{cat}.subject"] = f"Acknowledgement subject for a {cat} in {language}"
        labels[f"{base}.ack.{cat}.body"] = f"Acknowledgement for a {cat} in {language}"
    return labels


def shown_paths(code: str, survey: Any, categories: tuple[str, ...]) -> set[str]:
    """The field paths of one language's inputs on the page: an error naming one is shown beside it."""
    base = f"options.translations.{code}"
    paths = {f"{base}.subject", f"{base}.intro"}
    paths |= {f"{base}.ack.{cat}.{part}" for cat in categories for part in ("subject", "body")}
    for q in survey.questions:
        keys = ["text", *(["options"] if q.options else []), *(["low_label", "high_label"] if q.is_scale else [])]
        paths |= {f"{base}.questions.{q.id}.{key}" for key in keys}
    return paths


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/languages")
def languages_step(ctx: Ctx, campaign_id: str) -> Response:
    c = campaigns.get_view(campaign_id)
    typed = {
        "default_locale": c.options.get("default_locale", i18n.DEFAULT_LOCALE),
        "team_locale": c.options.get("team_locale", ""),
        "translations": translations_form(c.options.get("translations") or {}),
    }
    return _page(ctx, c, typed, saved=ctx.query.get("saved") == "1")


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/languages", methods=["POST"], change=True)
def save_languages(ctx: Ctx, campaign_id: str) -> Response:
    c = campaigns.get_view(campaign_id)
    codes = [code for code in ctx.form_lists.get("languages", []) if code in i18n.LANGUAGES]
    typed = {
        "default_locale": ctx.form.get("options.default_locale", ""),
        "team_locale": ctx.form.get("options.team_locale", ""),
        "translations": typed_translations(ctx.form, list(dict.fromkeys(codes))),
    }
    if ctx.form.get("action") == "add":
        code = ctx.form.get("new_language", "")
        if code not in i18n.LANGUAGES:
            return _page(ctx, c, typed, {"new_language": "Choose a language to add."}, status=400)
        typed["translations"].setdefault(code, {"questions": {}, "subject": "", "intro": "", "ack": {}})
        return _page(ctx, c, typed, changed=f"{language_name(code)} added: give its texts.", focus=code)
    removed = _REMOVE.match(ctx.form.get("action", ""))
    if removed:
        typed["translations"].pop(removed[1], None)
    options = {
        "default_locale": typed["default_locale"],
        "translations": translations_body(typed["translations"], [q.id for q in c.survey.questions]),
    } | ({"team_locale": typed["team_locale"]} if typed["team_locale"] else {})
    merged = {k: v for k, v in c.options.items() if k not in KEYS} | options
    try:
        api.update_campaign(c.id, {"options": merged if c.status == "draft" else options}, ctx.now)
    except ValidationError as exc:
        return _page(ctx, c, typed, every_gap(c, merged, exc), status=exc.status)
    except Conflict as exc:
        return _page(ctx, c, typed, {exc.field or "options": exc.message}, status=exc.status)
    return redirect(f"/dashboard/campaigns/{quote(c.id, safe='')}/edit/languages?saved=1")


def every_gap(c: Any, options: Mapping[str, Any], refusal: ValidationError) -> dict[str, str]:
    """{field path: message}: the API's refusal, then each further field the same checks refuse (the API
    names its first gap; a person wants to see them all in one save). The field at fault is given the
    campaign's own text, which passes, and the checks run again, until they pass or name a field that
    cannot be filled so (a language, the campaign's own language)."""
    errors = {refusal.field or "options": refusal.message}
    trial, field = copy.deepcopy(dict(options)), refusal.field or ""
    for _ in range(MAX_GAPS):
        if not _fill(trial, field, c):
            break
        try:
            translations.check(c.survey, campaigns.parse_options(trial))
        except ValidationError as exc:
            field = exc.field or "options"
            if field in errors:
                break
            errors[field] = exc.message
        else:
            break
    return errors


def _fill(options: dict[str, Any], path: str, c: Any) -> bool:
    """Give the translated text at `path` the campaign's own (or take it away where the campaign has none);
    False when `path` names no translated text."""
    found = _FIELD.match(path)
    translation = (options.get("translations") or {}).get(found[1]) if found else None
    if not found or not isinstance(translation, dict):
        return False
    if found[2]:
        question = c.survey.question(found[2])
        texts = translation.setdefault("questions", {}).setdefault(found[2], {})
        own = getattr(question, found[3], None) if question else None
        if own:
            texts[found[3]] = list(own) if found[3] == "options" else own
        else:
            texts.pop(found[3], None)
    elif found[4]:
        own = c.options.get(found[4])
        if own:
            translation[found[4]] = own
        else:
            translation.pop(found[4], None)
    else:
        own = ((c.options.get("ack") or {}).get(found[5]) or {}).get(found[6])
        parts = translation.setdefault("ack", {}).setdefault(found[5], {})
        if own:
            parts[found[6]] = own
        else:
            parts.pop(found[6], None)
    return True


def _page(
    ctx: Ctx,
    c: Any,
    typed: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    *,
    status: int = 200,
    saved: bool = False,
    changed: str = "",
    focus: str = "",
) -> Response:
    offered = set(typed["translations"])
    labels = {
        "options.default_locale": "The campaign’s own language",
        "options.team_locale": "Your team’s language",
        "new_language": "Language to add",
    }
    for code in typed["translations"]:
        labels |= translation_labels(code, [q.id for q in c.survey.questions])
    errors = worded(errors or {}, labels)
    shown = {"options.default_locale", "options.team_locale", "new_language"} | {
        path for code in offered for path in shown_paths(code, c.survey, campaigns.ACK_CATEGORIES)
    }
    return page(
        ctx,
        "builder_languages.html",
        status=status,
        c=c,
        typed=typed,
        errors=errors,
        unplaced={f: m for f, m in errors.items() if f not in shown},
        readonly=not ctx.person.is_admin,
        saved="Saved." if saved else None,
        changed=changed,
        focus=focus,
        languages=language_choices(),
        addable=[
            (code, name)
            for code, name in language_choices()
            if code not in offered and code != (typed["default_locale"] or i18n.DEFAULT_LOCALE)
        ],
        language_name=language_name,
        categories=campaigns.ACK_CATEGORIES,
    )
