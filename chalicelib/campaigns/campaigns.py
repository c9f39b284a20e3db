"""Campaigns: a survey, who is asked and when, how the invitation reads, and its state.

States: draft -> scheduled -> sending -> sent, with paused and cancelled. `sending` means
the fan-out is still enqueueing batches; `sent` that every invitation has been handed to the
queue (batches may still be going out, so a sent campaign can still be paused; resuming goes
through the campaign again and skips what was sent). Only a draft can be edited, so a survey
never changes under answers already given; once it has gone out, the options that say how the
email reads and who it is from (CORRECTABLE_OPTIONS) can still be corrected, so invitations
that failed can be sent again (chalicelib.sending.delivery.resend_failed).

The survey definition is read on every answer, so `get_campaign()` keeps it in memory for
`CLOSELOOP_CAMPAIGN_CACHE_SECONDS` across warm invocations; sending reads it fresh.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from chalicelib.campaigns.contacts import RECIPIENT_SCHEMA, email_address
from chalicelib.core import i18n, personalize, themes, translations, webhook_spec
from chalicelib.core.alert_rules import DEFAULT_RULES, parse_rules
from chalicelib.core.config import campaign_cache_seconds, get_settings, store_location
from chalicelib.core.errors import Conflict, NotFound, ValidationError
from chalicelib.core.headers import header_problem, text_problem
from chalicelib.core.i18n import Text
from chalicelib.core.signing import new_id
from chalicelib.core.surveys import MAX_OPTIONS, SURVEY_JSON, SURVEY_SCHEMA, Survey, parse_incoming_survey, parse_survey
from chalicelib.core.webhook_spec import EVENTS, new_secret, secret_key
from chalicelib.store import bind, counts, one_page
from chalicelib.store.models import Campaign, ImportJob
from chalicelib.store.transact import ConditionFailed, update

__all__ = ["NotFound"]

MAX_SEGMENTS = 5
MAX_REMINDERS = 3
MAX_FATIGUE_DAYS = 365
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 1, 3650
_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_SUBJECT = Text("A quick question")
DEFAULT_INTRO = Text("We read every answer, and we will reply to yours.")
KINDS = ("one_off", "recurring")
DEFAULT_CONTACT_HOURS = 48
ACK_CATEGORIES = ("promoter", "passive", "detractor", "neutral")
ACTIVE = ("sending", "sent")
SCHEDULED_PK = "scheduled"
# what an admin may still correct once a campaign has gone out: how the email reads and who it is from, and
# the campaign's texts in other languages (a wording corrected, or a language added): answers are stored as
# the default-language option values whatever language a customer saw, so no answer changes meaning.
CORRECTABLE_OPTIONS = (
    "sender_name",
    "reply_to",
    "company",
    "subject",
    "intro",
    "ack",
    "follow_up_name",
    "default_locale",
    "translations",
    "team_locale",
)
# options that may be set at any time: a duty to delete what people wrote may arise after a campaign went out
ANYTIME_OPTIONS = ("retention_days",)


@dataclass(frozen=True)
class CampaignView:
    """What pages and emails need of a campaign, immutable so it can be cached and shared."""

    id: str
    name: str
    status: str
    survey: Survey
    segments: tuple[str, ...]
    timezone: str
    options: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "one_off"
    interval_days: int | None = None
    send_at: float | None = None
    sent_at: float | None = None  # when sending first started, or its imported history began (epoch seconds)
    # its translations as built by in_language, so a page's remembered rendering (web.render) finds the same one
    _translated: dict[str, CampaignView] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def company(self) -> str:
        return self.options.get("company") or ""

    @property
    def subject(self) -> str:
        if self.options.get("subject"):
            return self.options["subject"]
        return Text("A quick question from %(company)s", company=self.company) if self.company else DEFAULT_SUBJECT

    @property
    def intro(self) -> str:
        return self.options.get("intro") or DEFAULT_INTRO

    @property
    def reminders(self) -> list[int]:
        return list(self.options.get("reminders") or [])

    @property
    def themes(self) -> dict[str, list[str]]:
        return dict(self.options.get("themes") or {})

    @property
    def quote_themes(self) -> bool:
        """Whether the acknowledgement may name the comment's themes to the customer (off unless set)."""
        return self.options.get("quote_themes") is True

    @property
    def alert_rules(self) -> list[dict]:
        return list(self.options.get("alert_rules") or DEFAULT_RULES)

    @property
    def contact_within_hours(self) -> int:
        return int(self.options.get("contact_within_hours") or DEFAULT_CONTACT_HOURS)

    def fatigue_days(self, default: int) -> int:
        """Days within which a contact surveyed by any campaign is skipped: this campaign's option
        when set (0: no window), else `default` (CLOSELOOP_FATIGUE_DAYS)."""
        value = self.options.get("fatigue_days")
        return default if value is None else int(value)

    def locale_for(self, properties: Mapping[str, Any] | None) -> str:
        """The language a contact is addressed in: their `locale` property when the campaign offers it (a
        translation, or its default language), else the campaign's default (chalicelib.core.i18n.negotiate)."""
        return i18n.contact_locale(self.options, properties or {})

    def in_language(self, locale: str) -> CampaignView:
        """The campaign as a customer reading `locale` sees it: its survey's texts and its subject, intro
        and acknowledgements from that language's translation (chalicelib.core.translations); the option
        values answers are stored as stay the campaign's own. Itself in its default language."""
        if locale == self.options.get("default_locale", i18n.DEFAULT_LOCALE) or locale not in (
            self.options.get("translations") or {}
        ):
            return self
        if locale not in self._translated:
            texts = translations.texts(self.options, locale)
            options = {k: v for k, v in self.options.items() if k not in ("subject", "intro", "ack")}
            given = {"subject": texts.subject, "intro": texts.intro, "ack": texts.ack}
            self._translated[locale] = dataclasses.replace(
                self,
                survey=translations.localize(self.survey, self.options, locale),
                options=options | {k: v for k, v in given.items() if v},
            )
        return self._translated[locale]

    def webhooks_for(self, event: str) -> list[dict]:
        return [w for w in self.options.get("webhooks") or [] if event in w.get("events", webhook_spec.EVENTS)]

    def to_json(self, reveal: bool = False) -> dict:
        """Secrets (webhook secrets, the Slack URL) are shown only when the caller has just set them."""
        options = dict(self.options)
        if not reveal:
            if "slack_webhook_url" in options:
                options["slack_webhook_url"] = options["slack_webhook_url"][:30] + "…"
            if "webhooks" in options:
                options["webhooks"] = [{**w, "secret": w["secret"][:10] + "…"} for w in options["webhooks"]]
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "kind": self.kind,
            "interval_days": self.interval_days,
            "send_at": self.send_at,
            "survey": self.survey.to_json(),
            "segments": list(self.segments),
            "timezone": self.timezone,
            "options": options,
        }


def view(campaign: Campaign) -> CampaignView:
    return CampaignView(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        survey=parse_survey(campaign.survey),
        segments=tuple(campaign.segments or ()),
        timezone=campaign.timezone,
        options=dict(campaign.options or {}),
        kind=campaign.kind or "one_off",
        interval_days=int(campaign.interval_days) if campaign.interval_days else None,
        send_at=campaign.send_at,
        sent_at=campaign.sent_at,
    )


def parse_campaign(body: Any, partial: bool = False) -> dict[str, Any]:
    """The fields of a campaign, validated; a ValidationError names the field at fault.

    With `partial`, only the fields present are parsed (an update of a draft).
    """
    if not isinstance(body, Mapping):
        raise ValidationError("Send a JSON object describing the campaign.")
    unknown = sorted(set(body) - CAMPAIGN_SCHEMA["properties"].keys())
    if unknown:
        raise ValidationError(f"Unknown field {unknown[0]!r}.", unknown[0])
    fields: dict[str, Any] = {}
    if not partial or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise ValidationError("A campaign needs a name of 1 to 200 characters.", "name")
        fields["name"] = header_text(name.strip(), "name")  # digests and alerts carry it in their subject
    if not partial or "survey" in body:
        fields["survey"] = parse_incoming_survey(body.get("survey"))
    if not partial or "segments" in body:
        fields["segments"] = _segments(body.get("segments", []))
    if not partial or "timezone" in body:
        fields["timezone"] = _timezone(body.get("timezone", "UTC"), "timezone")
    if not partial or "options" in body:
        fields["options"] = parse_options(body.get("options", {}))
    if not partial or "kind" in body or "interval_days" in body:
        fields.update(_kind(body))
    if not partial:
        translations.check(fields["survey"], fields["options"])
    return fields


def _segments(segments: Any) -> list[str]:
    if not isinstance(segments, list) or len(segments) > MAX_SEGMENTS:
        raise ValidationError(f"segments is a list of at most {MAX_SEGMENTS} property names.", "segments")
    for i, seg in enumerate(segments):
        if not isinstance(seg, str) or not _SEGMENT.match(seg):
            raise ValidationError("A segment is a property name: letters, digits, _ . or -.", f"segments[{i}]")
    return list(dict.fromkeys(segments))


def _timezone(value: Any, field_name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # cold start: only parsing a campaign checks its zone

    if not isinstance(value, str) or not value.strip():
        given = (
            "only spaces"
            if isinstance(value, str) and value
            else "nothing"
            if value in (None, "")
            else "true or false"
            if isinstance(value, bool)
            else "a number"
            if isinstance(value, int | float)
            else "a list or an object"
        )
        raise ValidationError(f"Give a time zone as an IANA name such as Europe/Paris ({given} was given).", field_name)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        shown = "".join(c if c.isprintable() else "\ufffd" for c in value[:60])
        raise ValidationError(
            f"Unknown time zone “{shown}”: use an IANA name such as Europe/Paris.", field_name
        ) from None
    return value


def _kind(body: Mapping) -> dict[str, Any]:
    kind = body.get("kind", "one_off")
    if kind not in KINDS:
        raise ValidationError(f"kind is one of {', '.join(KINDS)}.", "kind")
    interval = body.get("interval_days")
    if kind == "recurring":
        if not isinstance(interval, int) or isinstance(interval, bool) or not 7 <= interval <= 730:
            raise ValidationError(
                "A recurring campaign asks again every 7 to 730 days (interval_days).", "interval_days"
            )
    elif interval is not None:
        raise ValidationError(
            "Ask again every (days) is for recurring campaigns only (interval_days applies to recurring ones).",
            "interval_days",
        )
    return {"kind": kind, "interval_days": interval}


def parse_options(options: Any) -> dict[str, Any]:
    """Campaign options, each parsed by its entry in OPTIONS; a ValidationError names `options.<key>`."""
    if not isinstance(options, Mapping):
        raise ValidationError("options is an object.", "options")
    clean: dict[str, Any] = {}
    for key, value in options.items():
        path = f"options.{key}"
        option = OPTIONS.get(key)
        if option is None:
            raise ValidationError(f"Unknown option {key!r}.", path)
        clean[key] = option.parse(value, path)
    return clean


def header_text(value: str, path: str) -> str:
    """Text that may reach a mail header (a sender name, a company, a name in a subject): refused when it
    holds a line break or control character, which could add a header of its own."""
    problem = header_problem(value)
    if problem:
        raise ValidationError(f"This text goes into email headers, so it cannot hold {problem}.", path)
    return value


def _emails(value: Any, path: str) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= 10:
        raise ValidationError("Give 1 to 10 email addresses.", path)
    return [email_address(item, f"{path}[{i}]") for i, item in enumerate(value)]


def _url(value: Any, path: str, called: bool = False) -> str:
    """An https URL (chalicelib.web.outbound); one we call (webhooks, Slack) must also point at public addresses only.

    A review link is only shown to customers, so only its form is checked."""
    if not isinstance(value, str) or len(value) > 500:
        raise ValidationError("An https:// URL of at most 500 characters.", path)
    from chalicelib.web import outbound  # cold start: only parsing a campaign checks URLs, not the answer path

    local = get_settings().is_local
    try:
        if called:
            outbound.check(value, local=local)
        else:
            outbound.parse(value, local=local)
    except outbound.Refused as exc:
        raise ValidationError(str(exc), path) from None
    return value


def _webhooks(value: Any, path: str) -> list[dict]:
    if not isinstance(value, list) or len(value) > 5:
        raise ValidationError("webhooks is a list of up to 5 endpoints.", path)
    endpoints = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or "url" not in item or set(item) - {"id", "url", "secret", "events"}:
            raise ValidationError("An endpoint is {url, events?, secret?}.", f"{path}[{i}]")
        events = item.get("events", list(EVENTS))
        if not isinstance(events, list) or not events or set(events) - set(EVENTS):
            raise ValidationError(
                f"Tick at least one event: events lists one or more of {', '.join(EVENTS)}.", f"{path}[{i}].events"
            )
        secret = item.get("secret") or new_secret()
        try:
            secret_key(secret)
        except ValueError as exc:
            raise ValidationError(str(exc), f"{path}[{i}].secret") from None
        endpoints.append(
            {
                "id": item.get("id") or new_id(6),
                "url": _url(item["url"], f"{path}[{i}].url", called=True),
                "secret": secret,
                "events": events,
            }
        )
    return endpoints


def _ack_templates(value: Any, path: str) -> dict[str, dict[str, str]]:
    if not isinstance(value, Mapping) or set(value) - set(ACK_CATEGORIES):
        raise ValidationError(f"ack maps {', '.join(ACK_CATEGORIES)} to {{subject, body}}.", path)
    clean: dict[str, dict[str, str]] = {}
    for category, template in value.items():
        if not isinstance(template, Mapping) or not set(template) <= {"subject", "body"} or not template:
            raise ValidationError("Each acknowledgement is {subject, body}.", f"{path}.{category}")
        clean[category] = {
            part: personalize.check_template(str(text), f"{path}.{category}.{part}", header=part == "subject")
            for part, text in template.items()
        }
    return clean


def _reminders(value: Any, path: str) -> list[int]:
    ok = isinstance(value, list) and len(value) <= MAX_REMINDERS
    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 60 for v in value)
    if not ok or value != sorted(set(value)):
        raise ValidationError(
            f"Reminders are up to {MAX_REMINDERS} whole numbers of days from 1 to 60 after the invitation, increasing,"
            " e.g. 3, 7 (reminders lists them, e.g. [3, 7]).",
            path,
        )
    return value


@dataclass(frozen=True)
class Option:
    """One campaign option, declared once: the JSON Schema chalicelib.admin.openapi publishes, and the
    parser that enforces it with our messages. The schema says no more than the parser enforces (a
    template that compiles, an address SES takes, a URL to a public host stay in the parser)."""

    schema: dict[str, Any]
    parse: Callable[[Any, str], Any]


def _text(limit: int, template: bool, description: str = "") -> Option:
    """Text of at most `limit` characters: a Jinja template (checked to compile), or plain text that may
    reach a mail header (checked for line breaks)."""

    def parse(value: Any, path: str) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise ValidationError(f"{path.removeprefix('options.')} is text of at most {limit} characters.", path)
        if template:
            return personalize.check_template(value.strip(), path, header=path == "options.subject")
        return header_text(value.strip(), path)

    schema = {"type": "string", "maxLength": limit} | ({"description": description} if description else {})
    return Option(schema, parse)


def _brand_color(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _COLOUR.match(value):
        raise ValidationError("The brand colour (brand_color) is a hex colour such as #1a56db.", path)
    return value.lower()


def _logo_url(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > 500 or '"' in value:
        raise ValidationError("The logo URL (logo_url) is an https:// address of at most 500 characters.", path)
    return value


def _follow_up_name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ValidationError(
            "Who follows up (follow_up_name) names who calls unhappy customers, e.g. 'Sam, our support lead'.", path
        )
    return header_text(value.strip(), path)


def _quote_themes(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("quote_themes is true or false.", path)
    return value


def _contact_within_hours(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 720:
        raise ValidationError("Contact within (contact_within_hours) is a whole number of hours from 1 to 720.", path)
    return value


def _fatigue_days(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_FATIGUE_DAYS:
        raise ValidationError(
            f"The fatigue window (fatigue_days) is a whole number of days from 0 to {MAX_FATIGUE_DAYS} (0: no window).",
            path,
        )
    return value


def _retention_days(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS:
        raise ValidationError(
            f"Retention (retention_days) is a whole number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}.",
            path,
        )
    return value


MAX_TRANSLATED = 1000  # characters of a translated question text; an option or a label: 200
_TRANSLATION_KEYS = ("questions", "subject", "intro", "ack")


def _translations(value: Any, path: str) -> dict[str, dict[str, Any]]:
    """The shape of each translation; whether it covers the survey is chalicelib.core.translations.check's
    (it needs the survey too)."""
    if not isinstance(value, Mapping):
        raise ValidationError(
            'translations maps a language to its texts, e.g. {"fr": {"questions": {"nps": {"text": "..."}}}}.', path
        )
    clean: dict[str, dict[str, Any]] = {}
    for code, translation in value.items():
        here = f"{path}.{translations.supported(code, f'{path}.{str(code)[:40]}')}"
        unknown = (
            sorted(map(str, set(translation) - set(_TRANSLATION_KEYS))) if isinstance(translation, Mapping) else []
        )
        if not isinstance(translation, Mapping) or unknown:
            raise ValidationError(
                f"A translation is an object with {', '.join(_TRANSLATION_KEYS)}"
                + (f" (unknown: {', '.join(unknown)})." if unknown else "."),
                here,
            )
        entry: dict[str, Any] = {
            "questions": _translated_questions(translation.get("questions", {}), f"{here}.questions")
        }
        for key, limit in (("subject", 200), ("intro", 1000)):
            text = translation.get(key)
            if text is None or text == "":
                continue
            if not isinstance(text, str) or len(text) > limit:
                raise ValidationError(f"The translated {key} is text of at most {limit} characters.", f"{here}.{key}")
            entry[key] = personalize.check_template(text.strip(), f"{here}.{key}", header=key == "subject")
        if translation.get("ack"):
            entry["ack"] = _ack_templates(translation["ack"], f"{here}.ack")
        clean[code] = entry
    return clean


def _translated_questions(value: Any, path: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise ValidationError("questions maps a question id to its {text, options, low_label, high_label}.", path)
    clean: dict[str, dict[str, Any]] = {}
    for qid, texts in value.items():
        here = f"{path}.{str(qid)[:40]}"
        unknown = sorted(map(str, set(texts) - set(translations.QUESTION_KEYS))) if isinstance(texts, Mapping) else []
        if not isinstance(texts, Mapping) or unknown:
            raise ValidationError(
                f"A translated question is {{{', '.join(translations.QUESTION_KEYS)}}}"
                + (f" (unknown: {', '.join(unknown)})." if unknown else "."),
                here,
            )
        entry: dict[str, Any] = {}
        for key in ("text", "low_label", "high_label"):
            text = texts.get(key)
            limit = MAX_TRANSLATED if key == "text" else 200
            if text is not None and (not isinstance(text, str) or len(text) > limit):
                raise ValidationError(f"{key} is text of at most {limit} characters.", f"{here}.{key}")
            if text and text_problem(text):
                raise ValidationError(f"{key} cannot hold {text_problem(text)}.", f"{here}.{key}")
            if text and text.strip():
                entry[key] = text.strip()
        if "options" in texts:
            options = texts["options"]
            if (
                not isinstance(options, list)
                or len(options) > MAX_OPTIONS
                or not all(isinstance(o, str) and o.strip() and len(o) <= 200 for o in options)
            ):
                raise ValidationError(
                    f"options is a list of up to {MAX_OPTIONS} non-empty texts of at most 200 characters.",
                    f"{here}.options",
                )
            problem = next((header_problem(o.strip()) for o in options if header_problem(o.strip())), None)
            if problem:
                raise ValidationError(
                    f"A translated option is one line of text: it cannot hold {problem}.", f"{here}.options"
                )
            entry["options"] = [o.strip() for o in options]
            if len(set(entry["options"])) != len(options):
                raise ValidationError("Translated options must differ from each other.", f"{here}.options")
        clean[str(qid)] = entry
    return clean


_HTTPS = {"type": "string", "maxLength": 500, "description": "an https:// URL"}
_LOCALE = {"enum": list(i18n.LANGUAGES)}
_TRANSLATED_QUESTION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "maxLength": MAX_TRANSLATED},
        "options": {
            "type": "array",
            "maxItems": MAX_OPTIONS,
            "items": {"type": "string", "maxLength": 200},
            "description": "the choices as the customer reads them, in the order of the campaign's own; "
            "answers are stored as the campaign's own",
        },
        "low_label": {"type": "string", "maxLength": 200},
        "high_label": {"type": "string", "maxLength": 200},
    },
}
OPTIONS: dict[str, Option] = {
    "subject": _text(200, True, "Jinja template, e.g. {{ first_name | default('there') }}"),
    "intro": _text(1000, True, "Jinja template with the contact's properties"),
    "company": _text(100, False),
    "sender_name": _text(100, False),
    "reply_to": Option({"type": "string", "format": "email"}, email_address),
    "brand_color": Option({"type": "string", "pattern": _COLOUR.pattern}, _brand_color),
    "logo_url": Option({"type": "string", "maxLength": 500, "pattern": '^https://[^"]*$'}, _logo_url),
    "reminders": Option(
        {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": 60},
            "maxItems": MAX_REMINDERS,
            "uniqueItems": True,
            "description": "days after the invitation, increasing",
        },
        _reminders,
    ),
    "themes": Option(
        {"type": "object", "description": "theme name to the keywords that tag a comment with it"},
        themes.parse_themes,
    ),
    "quote_themes": Option(
        {
            "type": "boolean",
            "default": False,
            "description": "name the comment's themes to the customer in the acknowledgement "
            '("It sounds like this is about pricing"); off by default, since a keyword can misread a comment',
        },
        _quote_themes,
    ),
    "alert_rules": Option(
        {"type": "array", "maxItems": 10, "items": {"type": "object", "minProperties": 1}}, parse_rules
    ),
    "alert_emails": Option(
        {"type": "array", "minItems": 1, "maxItems": 10, "items": {"type": "string", "format": "email"}},
        _emails,
    ),
    "slack_webhook_url": Option(
        {**_HTTPS, "description": "a Slack incoming-webhook URL, called for alerts"},
        partial(_url, called=True),
    ),
    "review_url": Option({**_HTTPS, "description": "a public review page shown to promoters"}, _url),
    "webhooks": Option(
        {
            "type": "array",
            "maxItems": 5,
            "items": {
                "type": "object",
                "required": ["url"],
                "additionalProperties": False,
                "properties": {
                    "id": {},
                    "url": _HTTPS,
                    "secret": {"description": "generated when absent"},
                    "events": {"type": "array", "minItems": 1, "items": {"enum": list(EVENTS)}},
                },
            },
        },
        _webhooks,
    ),
    "ack": Option(
        {
            "type": "object",
            "additionalProperties": False,
            "description": "acknowledgement templates per category",
            "properties": {
                category: {"type": "object", "minProperties": 1, "properties": {"subject": {}, "body": {}}}
                for category in ACK_CATEGORIES
            },
        },
        _ack_templates,
    ),
    "follow_up_name": Option({"type": "string", "minLength": 1, "maxLength": 100}, _follow_up_name),
    "contact_within_hours": Option({"type": "integer", "minimum": 1, "maximum": 720}, _contact_within_hours),
    "fatigue_days": Option(
        {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_FATIGUE_DAYS,
            "description": "skip contacts surveyed by any campaign within this many days (0: no window); "
            "absent: CLOSELOOP_FATIGUE_DAYS",
        },
        _fatigue_days,
    ),
    "retention_days": Option(
        {
            "type": "integer",
            "minimum": MIN_RETENTION_DAYS,
            "maximum": MAX_RETENTION_DAYS,
            "description": "remove comments, text answers and non-segment properties of responses older than this "
            "many days, keeping their counts (docs/privacy.md); absent: kept",
        },
        _retention_days,
    ),
    "default_locale": Option(
        {
            **_LOCALE,
            "default": i18n.DEFAULT_LOCALE,
            "description": "the language of the campaign's own texts (questions, subject, intro, ack), "
            "and of every contact whose locale it has no translation for",
        },
        translations.supported,
    ),
    "translations": Option(
        {
            "type": "object",
            "description": "the campaign's texts in other languages, by language; each covers every question's "
            "text, a choice question's options, and the labels, subject, intro and ack the campaign sets itself",
            "propertyNames": _LOCALE,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "questions": {"type": "object", "additionalProperties": _TRANSLATED_QUESTION},
                    "subject": {"type": "string", "maxLength": 200},
                    "intro": {"type": "string", "maxLength": 1000},
                    "ack": {"type": "object", "description": "acknowledgement templates per category, as ack"},
                },
            },
        },
        _translations,
    ),
    "team_locale": Option(
        {
            **_LOCALE,
            "description": "the language of the digest and alerts the CX team gets; absent: CLOSELOOP_TEAM_LOCALE",
        },
        translations.supported,
    ),
}
OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {key: option.schema for key, option in OPTIONS.items()},
}


# The body of POST /api/campaigns and PATCH /api/campaigns/{id}, declared once: parse_campaign refuses
# any other field, and chalicelib.admin.openapi publishes it. recipients, send and at are read by
# chalicelib.admin.api on create.
CAMPAIGN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "survey": SURVEY_SCHEMA,
        "segments": {
            "type": "array",
            "items": {"type": "string", "pattern": _SEGMENT.pattern},
            "maxItems": MAX_SEGMENTS,
        },
        "timezone": {"type": "string", "example": "Europe/Paris"},
        "kind": {"enum": list(KINDS)},
        "interval_days": {"type": "integer", "minimum": 7, "maximum": 730},
        "options": OPTIONS_SCHEMA,
        "recipients": {"type": "array", "items": RECIPIENT_SCHEMA},
        "send": {"type": "boolean"},
        "at": {"type": "string", "format": "date-time"},
    },
}

# What CampaignView.to_json returns, declared once for chalicelib.admin.openapi. Secrets in options are
# shortened with "…" unless the caller has just set them.
CAMPAIGN_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "status", "kind", "survey", "segments", "timezone", "options"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"enum": ["draft", "scheduled", "sending", "sent", "paused", "cancelled"]},
        "kind": {"enum": list(KINDS)},
        "interval_days": {"type": ["integer", "null"], "description": "days between rounds of a recurring campaign"},
        "send_at": {"type": ["number", "null"], "description": "when it is scheduled to go out, epoch seconds"},
        "survey": SURVEY_JSON,
        "segments": {"type": "array", "items": {"type": "string"}},
        "timezone": {"type": "string", "example": "Europe/Paris"},
        "options": OPTIONS_SCHEMA,
    },
}


def create_campaign(fields: Mapping[str, Any], now: float, campaign_id: str | None = None) -> CampaignView:
    bind()
    campaign = Campaign(
        campaign_id or new_id(8),
        name=fields["name"],
        survey=fields["survey"].to_json(),
        segments=fields["segments"],
        timezone=fields["timezone"],
        options=fields["options"],
        kind=fields.get("kind", "one_off"),
        interval_days=fields.get("interval_days"),
        created_at=now,
        updated_at=now,
    )
    campaign.save(condition=Campaign.id.does_not_exist())
    return view(campaign)


def update_draft(campaign_id: str, fields: Mapping[str, Any], now: float) -> CampaignView:
    """Any change to a draft; Conflict (409) for its time zone once answers are counted in it (imported
    history, or answers posted through the v1 API): the day and week counters are keyed by its days."""
    stored = load_campaign(campaign_id, consistent=True)
    if fields.get("timezone", stored.timezone) != stored.timezone and _answers_counted(campaign_id):
        raise Conflict(
            f"This campaign already counts answers by day in {stored.timezone} (imported or posted through the "
            "API): its time zone can no longer change. Create a new campaign for another time zone.",
            "timezone",
        )
    if "survey" in fields or "options" in fields:  # the translations checked against the survey they will serve
        translations.check(
            fields.get("survey") or parse_survey(stored.survey), fields.get("options", stored.options or {})
        )
    columns = {
        "name": Campaign.name,
        "segments": Campaign.segments,
        "timezone": Campaign.timezone,
        "options": Campaign.options,
        "kind": Campaign.kind,
        "interval_days": Campaign.interval_days,
    }
    actions = [Campaign.updated_at.set(now)]
    for key, value in fields.items():
        if key == "survey":
            actions.append(Campaign.survey.set(value.to_json()))
        elif value is None:
            actions.append(columns[key].remove())
        else:
            actions.append(columns[key].set(value))
    _transition(campaign_id, actions, Campaign.status == "draft", "Only a draft campaign can be edited.")
    forget(campaign_id)
    return get_view(campaign_id)


def _answers_counted(campaign_id: str) -> bool:
    """Whether a week counter holds an answer: a draft's are its imported history's (recipients imported
    count only as invited), a few items to read."""
    return any(item.get("responses") for item in counts.read(campaign_id, "W#").values())


def update_campaign(campaign_id: str, fields: Mapping[str, Any], now: float) -> CampaignView:
    """A draft takes any change; a campaign that has gone out only corrections of CORRECTABLE_OPTIONS and
    ANYTIME_OPTIONS, merged into its options (the others are kept). Conflict (409) names what cannot change any more."""
    campaign = load_campaign(campaign_id, consistent=True)
    if campaign.status == "draft":
        return update_draft(campaign_id, fields, now)
    options = fields.get("options", {})
    locked = sorted(set(fields) - {"options"}) + [
        f"options.{k}" for k in sorted(set(options) - set(CORRECTABLE_OPTIONS) - set(ANYTIME_OPTIONS))
    ]
    if locked:
        again = (
            " Unschedule it to make it a draft again, with every field open." if campaign.status == "scheduled" else ""
        )
        raise Conflict(
            f"This campaign is {campaign.status}: {', '.join(locked)} can no longer change; only the options "
            f"{', '.join(CORRECTABLE_OPTIONS + ANYTIME_OPTIONS)} can be corrected.{again}",
            "status",
        )
    merged = {**(campaign.options or {}), **options}
    translations.check(parse_survey(campaign.survey), merged)
    _transition(
        campaign_id,
        [Campaign.options.set(merged), Campaign.updated_at.set(now)],
        (Campaign.status == campaign.status) & (Campaign.updated_at == campaign.updated_at),
        "The campaign changed meanwhile; send the correction again.",
    )
    return get_view(campaign_id)


def load_campaign(campaign_id: str, consistent: bool = False) -> Campaign:
    """The stored campaign; NotFound (404) when there is none, also for an id that cannot be a key."""
    if not _keyable(campaign_id):
        raise NotFound(f"No campaign {str(campaign_id)[:60]!r}.", "campaign_id")
    bind()
    try:
        return Campaign.get(campaign_id, consistent_read=consistent)
    except Campaign.DoesNotExist:
        raise NotFound(f"No campaign {campaign_id!r}.", "campaign_id") from None


def _keyable(campaign_id: object) -> bool:
    """DynamoDB refuses an empty key or one over 2048 bytes (a 500); such an id names no campaign."""
    return isinstance(campaign_id, str) and 0 < len(campaign_id.encode("utf-8", "surrogatepass")) <= 2048


def get_view(campaign_id: str) -> CampaignView:
    return view(load_campaign(campaign_id, consistent=True))


def list_campaigns(limit: int, cursor: dict | None) -> tuple[list[CampaignView], dict | None]:
    """Newest first, paged (a Query on the all-campaigns index); the cursor is None when no campaign follows."""
    bind()
    found, after = one_page(
        Campaign.all_campaigns.query("campaign", scan_index_forward=False, limit=limit + 1, last_evaluated_key=cursor),
        limit,
    )
    return [view(c) for c in found], after


def names(campaign_ids: Iterable[str]) -> dict[str, str]:
    """{id: name} of the campaigns among `campaign_ids` that exist (BatchGetItem of the two attributes, 100
    keys a request): what a list of rows naming campaigns by id shows instead; a missing id is one gone."""
    wanted = [campaign_id for campaign_id in dict.fromkeys(campaign_ids) if _keyable(campaign_id)]
    if not wanted:
        return {}
    bind()
    return {c.id: c.name for c in Campaign.batch_get(wanted, attributes_to_get=["id", "name"])}


_cache: dict[tuple[str, str], tuple[float, CampaignView]] = {}
_cache_lock = threading.Lock()


def get_campaign(campaign_id: str) -> CampaignView | None:
    """The campaign, from memory when fresh; None when it does not exist."""
    if not _keyable(campaign_id):
        return None
    prefix, _, _ = bind()
    key = (prefix, campaign_id)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit and now - hit[0] < campaign_cache_seconds():
        return hit[1]
    try:
        found = view(Campaign.get(campaign_id))
    except Campaign.DoesNotExist:
        return None
    with _cache_lock:
        _cache[key] = (now, found)
    return found


def forget(campaign_id: str) -> None:
    """Drop a cached copy after a change made in this process."""
    prefix = store_location()[0]
    with _cache_lock:
        _cache.pop((prefix, campaign_id), None)


def _transition(campaign_id: str, actions: list, condition, refusal: str) -> None:
    try:
        update(Campaign, campaign_id, actions, Campaign.id.exists() & condition)
    except ConditionFailed as failed:
        if failed.old is None:
            raise NotFound(f"No campaign {campaign_id!r}.", "campaign_id") from None
        status = failed.old.get("status", {}).get("S", "?")
        raise Conflict(f"{refusal} This campaign is {status}.", "status") from None
    finally:
        forget(campaign_id)


def backdate_first_send(campaign_id: str, at: float) -> None:
    """History imported from another tool began at `at` (epoch seconds): the campaign counts as first sent
    then, so its trends and digests cover those weeks. Only ever moves `sent_at` earlier; a later send
    keeps it."""
    try:
        update(
            Campaign,
            campaign_id,
            [Campaign.sent_at.set(at)],
            Campaign.sent_at.does_not_exist() | (Campaign.sent_at > at),
        )
    except ConditionFailed:
        pass
    finally:
        forget(campaign_id)


def imports_running(campaign_id: str) -> bool:
    bind()
    return any(True for _ in ImportJob.running.query(campaign_id, limit=1))


def start_sending(campaign_id: str, now: float, at: float | None, queue: Any) -> str:
    """Send now (the fan-out starts), or at `at`; waits for running imports before starting."""
    if (at is not None and at > now) or imports_running(campaign_id):
        _transition(
            campaign_id,
            [
                Campaign.status.set("scheduled"),
                Campaign.send_at.set(max(at or now, now)),
                Campaign.sched_pk.set(SCHEDULED_PK),
                Campaign.updated_at.set(now),
            ],
            Campaign.status == "draft",
            "Only a draft campaign can be sent.",
        )
        return "scheduled"
    _transition(
        campaign_id,
        [
            Campaign.status.set("sending"),
            Campaign.send_at.set(now),
            Campaign.sent_at.set(Campaign.sent_at | now),  # imported history may have begun earlier
            Campaign.updated_at.set(now),
        ],
        Campaign.status == "draft",
        "Only a draft campaign can be sent.",
    )
    queue.send([{"kind": "fanout", "campaign_id": campaign_id}])
    return "sending"


def start_due(now: float, queue: Any) -> int:
    """Scheduled campaigns whose time has come (and whose imports are done) start sending."""
    bind()
    started = 0
    for key in Campaign.scheduled.query(SCHEDULED_PK, Campaign.send_at <= now):
        if imports_running(key.id):
            continue
        try:
            _transition(
                key.id,
                [
                    Campaign.status.set("sending"),
                    Campaign.sched_pk.remove(),
                    Campaign.sent_at.set(Campaign.sent_at | now),
                    Campaign.updated_at.set(now),
                ],
                Campaign.status == "scheduled",
                "",
            )
        except Conflict:
            continue
        queue.send([{"kind": "fanout", "campaign_id": key.id}])
        started += 1
    return started


def finish_sending(campaign_id: str, now: float) -> None:
    try:
        _transition(
            campaign_id, [Campaign.status.set("sent"), Campaign.updated_at.set(now)], Campaign.status == "sending", ""
        )
    except Conflict:
        return


def pause(campaign_id: str, now: float) -> str:
    """Stops what has not gone out yet: queued batches, reminders, recurring rounds."""
    campaign = load_campaign(campaign_id, consistent=True)
    if campaign.status not in ("scheduled", "sending", "sent"):
        raise Conflict(
            f"Only a scheduled, sending or sent campaign can be paused. This campaign is {campaign.status}.", "status"
        )
    _transition(
        campaign_id,
        [
            Campaign.status.set("paused"),
            Campaign.paused_from.set(campaign.status),
            Campaign.sched_pk.remove(),
            Campaign.updated_at.set(now),
        ],
        Campaign.status == campaign.status,
        "The campaign changed meanwhile.",
    )
    return "paused"


def resume(campaign_id: str, now: float, queue: Any) -> str:
    campaign = load_campaign(campaign_id, consistent=True)
    if campaign.status != "paused":
        raise Conflict(f"Only a paused campaign can be resumed. This campaign is {campaign.status}.", "status")
    back = campaign.paused_from or "sending"
    refan = back in ("sending", "sent") and campaign.kind != "recurring"
    back = "sending" if refan else back
    actions = [Campaign.status.set(back), Campaign.paused_from.remove(), Campaign.updated_at.set(now)]
    if back == "scheduled":
        actions.append(Campaign.sched_pk.set(SCHEDULED_PK))
    _transition(campaign_id, actions, Campaign.status == "paused", "The campaign changed meanwhile.")
    if refan:  # batches skipped while paused went back to pending: go through the campaign again
        queue.send([{"kind": "fanout", "campaign_id": campaign_id}])
    return back


def unschedule(campaign_id: str, now: float) -> str:
    """Back to a draft that nothing sends, so a wrong time (or anything else) can be corrected first."""
    _transition(
        campaign_id,
        [
            Campaign.status.set("draft"),
            Campaign.send_at.remove(),
            Campaign.sched_pk.remove(),
            Campaign.updated_at.set(now),
        ],
        Campaign.status == "scheduled",
        "Only a scheduled campaign can be unscheduled.",
    )
    return "draft"


def cancel(campaign_id: str, now: float) -> str:
    """Nothing more is sent, for good; what was sent still takes answers. A sent one-off has nothing
    left to cancel, paused or not (pausing it stops its reminders)."""
    one_off_sent = (Campaign.kind != "recurring") & (
        (Campaign.status == "sent") | ((Campaign.status == "paused") & (Campaign.paused_from == "sent"))
    )
    _transition(
        campaign_id,
        [Campaign.status.set("cancelled"), Campaign.sched_pk.remove(), Campaign.updated_at.set(now)],
        Campaign.status.is_in("draft", "scheduled", "sending", "paused", "sent") & ~one_off_sent,
        "A sent one-off (paused or not) or a cancelled campaign cannot be cancelled.",
    )
    return "cancelled"
