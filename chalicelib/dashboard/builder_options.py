"""The campaign builder's email and follow-up steps (issue 18): how the invitation reads and who it is
from; then themes, acknowledgements, alerts, webhooks and the fatigue window.

A step turns its form into the admin API's body `{"options": {...}}` and calls the use case of
PATCH /api/campaigns/{id} (`api.update_campaign`), so the rules and the messages are the API's: a
value is passed on as typed (a reminder "soon" stays text) and the API's ValidationError comes back
next to the input its field path names. An empty field means "not set". The API replaces a draft's
options as a whole, so a step sends its own options over the stored ones it does not show. Once a
campaign has gone out the API takes only CORRECTABLE_OPTIONS, merged into the stored ones: those stay
editable, the rest is shown read-only. Secrets (webhook secrets, the Slack URL) are shown shortened,
as the API shows them, and kept unless a new one is typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.core.config import get_settings
from chalicelib.core.errors import Conflict, ValidationError
from chalicelib.core.lazy import OnFirstUse
from chalicelib.core.webhook_spec import EVENTS
from chalicelib.dashboard.web import Ctx, page, redirect, view
from chalicelib.dashboard.wording import summary_label, worded

api = OnFirstUse("chalicelib.admin.api")  # cold start: the admin API's use cases, on request
campaigns = OnFirstUse("chalicelib.campaigns.campaigns")  # cold start: campaigns are read on request
invitations = OnFirstUse("chalicelib.sending.invitations")  # cold start: recipients' properties, on request

routes = Blueprint(__name__)

EMAIL_TEXT = ("sender_name", "reply_to", "company", "brand_color", "logo_url", "subject", "intro")
EMAIL = (*EMAIL_TEXT, "reminders")
FOLLOW_UP_TEXT = ("review_url", "follow_up_name")
FOLLOW_UP_NUMBERS = ("contact_within_hours", "fatigue_days")
FOLLOW_UP = (
    "themes",
    "ack",
    "alert_rules",
    "alert_emails",
    "slack_webhook_url",
    "webhooks",
    *FOLLOW_UP_TEXT,
    *FOLLOW_UP_NUMBERS,
)
RULE_FIELDS = ("category", "max_score", "min_score", "theme", "property", "equals")
RULE_NUMBERS = ("max_score", "min_score")
PROPERTY_SAMPLE = 25  # recipients whose property names the email step lists
GROUPS = ("themes", "alert_rules", "alert_emails", "webhooks")  # the repeated rows, each with "Add a row"
LABELS = {
    "sender_name": "sender name",
    "reply_to": "reply-to address",
    "intro": "introduction",
    "ack": "acknowledgements",
    "follow_up_name": "who follows up",
    "default_locale": "the campaign's own language",
    "translations": "its texts in other languages",
    "team_locale": "your team's language",
}
EMAIL_LABELS = {  # the labels of builder_email.html: what the page's messages call its inputs
    "sender_name": "Sender name",
    "reply_to": "Reply-to address",
    "company": "Company",
    "brand_color": "Brand colour",
    "logo_url": "Logo URL",
    "subject": "Subject",
    "intro": "Introduction",
    "reminders": "Reminders (days after the invitation)",
}
FOLLOW_UP_LABELS = {  # the labels of builder_follow_up.html's inputs and groups that are not rows
    "themes": "Themes",
    "ack": "Acknowledgements",
    "alert_rules": "Alert rules",
    "alert_emails": "Where alerts go",
    "slack_webhook_url": "Slack webhook URL",
    "webhooks": "Webhooks",
    "review_url": "Review page URL",
    "follow_up_name": "Who follows up",
    "contact_within_hours": "Contact within (hours)",
    "fatigue_days": "Fatigue window (days)",
}
RULE_LABELS = {
    "category": "Category",
    "max_score": "Score at most",
    "min_score": "Score at least",
    "theme": "Theme",
    "property": "Property",
    "equals": "Property equals",
}
WEBHOOK_LABELS = {"url": "URL", "events": "Events", "secret": "Signing secret"}
ROWS = ("alert_rules", "alert_emails", "webhooks")  # list options: each row is also checked on its own
_ROW = re.compile(r"^options\.(themes|alert_rules|alert_emails|webhooks)\[(\d{1,3})\](?:\.(\w+))?$")
_WHOLE = re.compile(r"^-?\d{1,9}$")


@dataclass
class FollowUp:
    """The follow-up form's values as typed (text), rows in their order."""

    themes: list[dict[str, str]] = field(default_factory=list)  # {name, keywords: "a, b"}
    ack: dict[str, dict[str, str]] = field(default_factory=dict)  # category -> {subject, body}
    alert_rules: list[dict[str, str]] = field(default_factory=list)  # RULE_FIELDS -> text
    alert_emails: list[str] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)  # {id, url, events: [..], secret, shown}
    slack: str = ""  # a new Slack URL typed
    slack_remove: bool = False
    text: dict[str, str] = field(default_factory=dict)  # FOLLOW_UP_TEXT and FOLLOW_UP_NUMBERS


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/email")
def email_step(ctx: Ctx, campaign_id: str) -> Response:
    campaign = campaigns.get_view(campaign_id)
    return _email_page(ctx, campaign, _email_stored(campaign.options), saved_now=ctx.query.get("saved") == "1")


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/email", methods=["POST"], change=True)
def save_email(ctx: Ctx, campaign_id: str) -> Response:
    campaign = campaigns.get_view(campaign_id)
    locked, stored = _locks(ctx, campaign, EMAIL), _email_stored(campaign.options)
    typed = {key: stored[key] if locked[key] else ctx.form.get(f"options.{key}", "") for key in EMAIL}
    options = _email_options(typed)
    try:
        saved = _save(ctx, campaign, EMAIL, options)
    except ValidationError as exc:
        first = exc.field or "options"
        errors = {first: exc.message} | {p: m for p, m in every_option_error(options).items() if p != first}
        return _email_page(ctx, campaign, typed, errors, status=exc.status)
    except Conflict as exc:
        return _email_page(ctx, campaign, typed, {exc.field or "options": exc.message}, status=exc.status)
    if ctx.form.get("action") == "next":
        return redirect(_step_path(saved, "follow-up"))
    return redirect(f"{_step_path(saved, 'email')}?saved=1")


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/follow-up")
def follow_up_step(ctx: Ctx, campaign_id: str) -> Response:
    campaign = campaigns.get_view(campaign_id)
    stored = _follow_up_stored(campaign.to_json()["options"])
    return _follow_up_page(ctx, campaign, stored, saved_now=ctx.query.get("saved") == "1")


@view(routes, "/dashboard/campaigns/{campaign_id}/edit/follow-up", methods=["POST"], change=True)
def save_follow_up(ctx: Ctx, campaign_id: str) -> Response:
    campaign = campaigns.get_view(campaign_id)
    shown = campaign.to_json()["options"]
    typed = _keep_locked(_follow_up_typed(ctx, shown), _follow_up_stored(shown), _locks(ctx, campaign, FOLLOW_UP))
    adding = ctx.form.get("add")
    if adding in GROUPS:  # "Add a row": the same form again, everything typed kept (empty rows too), one more
        return _follow_up_page(ctx, campaign, typed, spare=dict.fromkeys(GROUPS, 0) | {adding: 1})
    typed = _compact(typed)  # rows as sent, so the API's [i] names the i-th row on the page
    options = _follow_up_options(typed, campaign.options)
    try:
        saved = _save(ctx, campaign, FOLLOW_UP, options)
    except ValidationError as exc:
        return _follow_up_page(ctx, campaign, typed, _follow_up_errors(typed, options, exc), status=exc.status)
    except Conflict as exc:
        return _follow_up_page(ctx, campaign, typed, {exc.field or "options": exc.message}, status=exc.status)
    known = {w["id"] for w in campaign.options.get("webhooks", [])}
    typed_secrets = {row["secret"] for row in typed.webhooks}
    new_secrets = [
        (w["url"], w["secret"])
        for w in saved.options.get("webhooks", [])
        if w["id"] not in known and w["secret"] not in typed_secrets
    ]
    if not new_secrets:
        if ctx.form.get("action") == "next":
            return redirect(f"/dashboard/campaigns/{quote(saved.id, safe='')}/preview")
        return redirect(f"{_step_path(saved, 'follow-up')}?saved=1")
    return _follow_up_page(  # a secret made for a new endpoint is shown once, as the API's answer shows it
        ctx, saved, _follow_up_stored(saved.to_json()["options"]), saved_now=True, new_secrets=new_secrets
    )


def every_option_error(options: Mapping[str, Any]) -> dict[str, str]:
    """{field path: message} of each option on its own, by the API's own parser: the API stops at its first
    error, and a person wants to see every field to correct in one save. A row of alert rules, alert emails
    or webhooks is parsed alone and its message renumbered to its row; each acknowledgement text alone."""
    errors: dict[str, str] = {}
    for key, value in options.items():
        if key in ROWS and isinstance(value, list):
            trials = [({key: [item]}, f"options.{key}[0]", f"options.{key}[{i}]") for i, item in enumerate(value)]
        elif key == "ack" and isinstance(value, Mapping):
            trials = [
                ({key: {cat: {part: text}}}, "", "") for cat, parts in value.items() for part, text in parts.items()
            ]
        else:
            trials = [({key: value}, "", "")]
        for trial, alone, row in trials:
            try:
                campaigns.parse_options(trial)
            except ValidationError as exc:
                path = exc.field or "options"
                errors.setdefault(
                    row + path.removeprefix(alone) if alone and path.startswith(alone) else path, exc.message
                )
    return errors


def theme_errors(themes: list[dict[str, str]]) -> dict[str, str]:
    """{options.themes[i].name or .keywords: message}: each theme's name and keywords parsed on their own by the
    API's parser, which names a theme's path (options.themes.<name>) for both: the page marks the input at fault."""
    errors: dict[str, str] = {}
    for i, row in enumerate(themes):
        for part, trial in (("name", {row["name"]: ["keyword"]}), ("keywords", {"theme": _keywords(row["keywords"])})):
            try:
                campaigns.parse_options({"themes": trial})
            except ValidationError as exc:
                errors[f"options.themes[{i}].{part}"] = exc.message
    return errors


def _follow_up_errors(typed: FollowUp, options: Mapping[str, Any], refusal: ValidationError) -> dict[str, str]:
    """The API's refusal and every other field's, a theme's beside its name or keywords."""
    themes = theme_errors(typed.themes)
    first = refusal.field or "options"
    if first.startswith("options.themes."):  # options.themes.<name>: shown beside the row's input at fault
        errors = themes or {"options.themes": refusal.message}
    else:
        errors = {first: refusal.message} | themes
    others = every_option_error({k: v for k, v in options.items() if k != "themes"})
    return errors | {path: message for path, message in others.items() if path not in errors}


def _keywords(text: str) -> list[str]:
    """A theme's keywords as typed, separated by commas."""
    return [w.strip() for w in text.split(",") if w.strip()]


def _step_path(campaign: Any, step: str) -> str:
    return f"/dashboard/campaigns/{quote(campaign.id, safe='')}/edit/{step}"


def _save(ctx: Ctx, campaign: Any, keys: tuple[str, ...], options: dict[str, Any]) -> Any:
    """PATCH /api/campaigns/{id} with this step's options: a draft's merged over the options of the
    other steps (the API replaces them as a whole); once sent, only the correctable ones, a stored one
    cleared sent as empty (the API merges a correction into the stored options, so leaving it out
    would keep the old value; where empty is not allowed, the API says so next to the field)."""
    if campaign.status == "draft":
        body = {"options": {k: v for k, v in campaign.options.items() if k not in keys} | options}
    else:
        correctable = [k for k in keys if k in campaigns.CORRECTABLE_OPTIONS]
        cleared = {k: ({} if k == "ack" else "") for k in correctable if k in campaign.options}
        body = {"options": {k: v for k, v in (cleared | options).items() if k in correctable}}
    _, answer = api.update_campaign(campaign.id, body, ctx.now)
    return campaigns.get_view(answer["campaign"]["id"])


def _number(text: str) -> int | str:
    """A whole number typed in a text box becomes a number; anything else stays text for the API to refuse."""
    text = text.strip()
    return int(text) if _WHOLE.match(text) else text


def _email_stored(options: Mapping[str, Any]) -> dict[str, str]:
    typed = {key: str(options.get(key, "")) for key in EMAIL_TEXT}
    typed["reminders"] = ", ".join(str(days) for days in options.get("reminders", []))
    return typed


def _email_options(typed: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {key: typed[key] for key in EMAIL_TEXT if typed[key].strip()}
    if typed["reminders"].strip():
        options["reminders"] = [_number(days) for days in re.split(r"[\s,;]+", typed["reminders"].strip())]
    return options


def _follow_up_stored(options: Mapping[str, Any]) -> FollowUp:
    """The form's values from the options as the API shows them (secrets shortened)."""
    return FollowUp(
        themes=[{"name": name, "keywords": ", ".join(words)} for name, words in options.get("themes", {}).items()],
        ack={cat: {p: options.get("ack", {}).get(cat, {}).get(p, "") for p in ("subject", "body")} for cat in _acks()},
        alert_rules=[{k: str(rule.get(k, "")) for k in RULE_FIELDS} for rule in options.get("alert_rules", [])],
        alert_emails=list(options.get("alert_emails", [])),
        webhooks=[
            {"id": w["id"], "url": w["url"], "events": list(w["events"]), "secret": "", "shown": w["secret"]}
            for w in options.get("webhooks", [])
        ],
        text={key: str(options.get(key, "")) for key in (*FOLLOW_UP_TEXT, *FOLLOW_UP_NUMBERS)},
    )


def _follow_up_typed(ctx: Ctx, shown: Mapping[str, Any]) -> FollowUp:
    """The form as typed. Rows are gathered by their index in the field names, in order."""
    rows: dict[str, dict[int, dict[str, Any]]] = {group: {} for group in GROUPS}
    for name, values in ctx.form_lists.items():
        found = _ROW.match(name)
        if found:
            group, index, part = found.group(1), int(found.group(2)), found.group(3) or "value"
            rows[group].setdefault(index, {})[part] = values if part == "events" else values[0]
    ordered = {group: [rows[group][i] for i in sorted(rows[group])] for group in GROUPS}
    secrets_shown = {w["id"]: w["secret"] for w in shown.get("webhooks", [])}
    form = ctx.form
    return FollowUp(
        themes=[{"name": r.get("name", ""), "keywords": r.get("keywords", "")} for r in ordered["themes"]],
        ack={cat: {p: form.get(f"options.ack.{cat}.{p}", "") for p in ("subject", "body")} for cat in _acks()},
        alert_rules=[{k: r.get(k, "") for k in RULE_FIELDS} for r in ordered["alert_rules"]],
        alert_emails=[r.get("value", "") for r in ordered["alert_emails"]],
        webhooks=[
            {
                "id": r.get("id", ""),
                "url": r.get("url", ""),
                "events": list(r.get("events", [])),
                "secret": r.get("secret", ""),
                "shown": secrets_shown.get(r.get("id", ""), ""),
            }
            for r in ordered["webhooks"]
        ],
        slack=form.get("options.slack_webhook_url", ""),
        slack_remove=form.get("slack_remove") == "yes",
        text={key: form.get(f"options.{key}", "") for key in (*FOLLOW_UP_TEXT, *FOLLOW_UP_NUMBERS)},
    )


def _keep_locked(typed: FollowUp, stored: FollowUp, locked: Mapping[str, bool]) -> FollowUp:
    """What cannot change here is shown as stored (its inputs are disabled, so the browser sends none)."""
    for key in ("themes", "ack", "alert_rules", "alert_emails", "webhooks"):
        if locked[key]:
            setattr(typed, key, getattr(stored, key))
    if locked["slack_webhook_url"]:
        typed.slack, typed.slack_remove = "", False
    typed.text |= {key: stored.text[key] for key in typed.text if locked[key]}
    return typed


def _compact(typed: FollowUp) -> FollowUp:
    """Empty rows dropped: they are not sent."""
    typed.themes = [r for r in typed.themes if r["name"].strip() or r["keywords"].strip()]
    typed.alert_rules = [r for r in typed.alert_rules if any(v.strip() for v in r.values())]
    typed.alert_emails = [e for e in typed.alert_emails if e.strip()]
    typed.webhooks = [w for w in typed.webhooks if w["url"].strip() or w["secret"].strip()]
    return typed


def _follow_up_options(typed: FollowUp, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The options of the follow-up step, as the admin API takes them; `stored` gives the secrets kept."""
    options: dict[str, Any] = {}
    if typed.themes:
        options["themes"] = {r["name"]: _keywords(r["keywords"]) for r in typed.themes}
    ack = {cat: {p: t for p, t in parts.items() if t.strip()} for cat, parts in typed.ack.items()}
    if any(ack.values()):
        options["ack"] = {cat: parts for cat, parts in ack.items() if parts}
    if typed.alert_rules:
        options["alert_rules"] = [
            {k: (_number(v) if k in RULE_NUMBERS else v) for k, v in r.items() if v.strip()} for r in typed.alert_rules
        ]
    if typed.alert_emails:
        options["alert_emails"] = typed.alert_emails
    if typed.slack.strip():
        options["slack_webhook_url"] = typed.slack
    elif "slack_webhook_url" in stored and not typed.slack_remove:
        options["slack_webhook_url"] = stored["slack_webhook_url"]
    if typed.webhooks:
        kept = {w["id"]: w["secret"] for w in stored.get("webhooks", [])}
        options["webhooks"] = []
        for row in typed.webhooks:
            endpoint: dict[str, Any] = {"url": row["url"], "events": row["events"]}
            if row["id"] in kept:
                endpoint["id"] = row["id"]
            secret = row["secret"] if row["secret"].strip() else kept.get(row["id"])
            if secret:
                endpoint["secret"] = secret
            options["webhooks"].append(endpoint)
    for key in FOLLOW_UP_TEXT:
        if typed.text[key].strip():
            options[key] = typed.text[key]
    for key in FOLLOW_UP_NUMBERS:
        if typed.text[key].strip():
            options[key] = _number(typed.text[key])
    return options


def _acks() -> tuple[str, ...]:
    return campaigns.ACK_CATEGORIES


def _locks(ctx: Ctx, campaign: Any, keys: tuple[str, ...]) -> dict[str, bool]:
    """Which of these options the person may not change here: all for a viewer; once sent, those the
    API no longer takes."""
    if not ctx.person.is_admin:
        return dict.fromkeys(keys, True)
    if campaign.status == "draft":
        return dict.fromkeys(keys, False)
    return {key: key not in campaigns.CORRECTABLE_OPTIONS for key in keys}


def _elsewhere(errors: Mapping[str, str], shown: tuple[str, ...]) -> dict[str, str]:
    """The errors whose field has no input on this page (an option of the other step stored before a
    rule existed, the status): shown at the top, naming the field."""
    return {
        path: message
        for path, message in errors.items()
        if not any(path == f"options.{k}" or path.startswith((f"options.{k}.", f"options.{k}[")) for k in shown)
    }


def _email_page(
    ctx: Ctx,
    campaign: Any,
    values: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    *,
    status: int = 200,
    saved_now: bool = False,
) -> Response:
    labels = {f"options.{key}": label for key, label in EMAIL_LABELS.items()}
    errors = worded(errors or {}, labels)
    return page(
        ctx,
        "builder_email.html",
        status=status,
        c=campaign,
        values=values,
        errors=errors,
        summary={path: summary_label(path, labels) for path in errors},
        elsewhere=_elsewhere(errors, EMAIL),
        locked=_locks(ctx, campaign, EMAIL),
        correctable=[LABELS.get(key, key) for key in campaigns.CORRECTABLE_OPTIONS],
        saved_now=saved_now,
        variables=_variables(campaign),
        swatch=values.get("brand_color", "") if re.fullmatch(r"#[0-9A-Fa-f]{6}", values.get("brand_color", "")) else "",
    )


def _follow_up_page(
    ctx: Ctx,
    campaign: Any,
    values: FollowUp,
    errors: Mapping[str, str] | None = None,
    *,
    status: int = 200,
    saved_now: bool = False,
    spare: Mapping[str, int] | None = None,
    new_secrets: list[tuple[str, str]] | None = None,
) -> Response:
    labels = _follow_up_labels(values)
    errors = worded(errors or {}, labels)
    spare = {group: 1 for group in GROUPS} | dict(spare or {})
    shown = campaign.to_json()["options"]
    return page(
        ctx,
        "builder_follow_up.html",
        status=status,
        c=campaign,
        v=values,
        errors=errors,
        summary={path: summary_label(path, labels) for path in errors},
        elsewhere=_elsewhere(errors, FOLLOW_UP),
        locked=_locks(ctx, campaign, FOLLOW_UP),
        correctable=[LABELS.get(key, key) for key in campaigns.CORRECTABLE_OPTIONS],
        saved_now=saved_now,
        new_secrets=new_secrets or [],
        spare=spare,
        events=EVENTS,
        categories=campaigns.ACK_CATEGORIES,
        slack_shown=shown.get("slack_webhook_url", ""),
        default_contact_hours=campaigns.DEFAULT_CONTACT_HOURS,
        global_fatigue=get_settings().fatigue_days,
    )


def _follow_up_labels(values: FollowUp) -> dict[str, str]:
    """{field path: label} of the follow-up form's inputs, its rows as typed."""
    labels = {f"options.{key}": label for key, label in FOLLOW_UP_LABELS.items()}
    for i, _ in enumerate(values.themes):
        labels |= {
            f"options.themes[{i}].name": f"Theme {i + 1} name",
            f"options.themes[{i}].keywords": f"Theme {i + 1} keywords",
        }
    for cat in _acks():
        labels |= {
            f"options.ack.{cat}": f"{cat.capitalize()}s",
            f"options.ack.{cat}.subject": f"Subject for {cat}s",
            f"options.ack.{cat}.body": f"Message for {cat}s",
        }
    for i, _ in enumerate(values.alert_rules):
        labels |= {f"options.alert_rules[{i}].{key}": label for key, label in RULE_LABELS.items()}
    for i, _ in enumerate(values.alert_emails):
        labels[f"options.alert_emails[{i}]"] = f"Alert email {i + 1}"
    for i, _ in enumerate(values.webhooks):
        labels |= {f"options.webhooks[{i}].{key}": label for key, label in WEBHOOK_LABELS.items()}
    return labels


def _variables(campaign: Any) -> dict[str, Any]:
    """What subject and intro templates may use besides `email` and `properties` (personalize.variables,
    the admin API preview's `variables`): the property names of a sample of this campaign's recipients;
    with none yet, its segments, which its recipients are expected to have."""
    return {"seen": invitations.property_names(campaign.id, PROPERTY_SAMPLE), "segments": list(campaign.segments)}
