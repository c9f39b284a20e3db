"""Closing the loop: every answer acknowledged exactly once, and each response's loop worked to the end.

The acknowledgement goes out a quiet period after the last edit (`CLOSELOOP_ACK_DELAY`), so a
customer still typing is not interrupted and a changed score gets the reply that fits the
final answer. The job reads only responses due now (the sparse `ack-due` index) and, for
each: claims it with a lease (a conditional update), sends, marks it sent. Two overlapping
runs cannot both claim; a crash or an SES error between claim and send leaves it due again
once the lease runs out or after a backoff; a permanent failure is marked and reported.
"""

from __future__ import annotations

import math
import re
from collections import Counter as Tally
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from pynamodb.expressions.condition import size

from chalicelib import mail
from chalicelib.answers.counting import NEW_CASE
from chalicelib.answers.held import ACCEPTED, DISMISSED
from chalicelib.campaigns import suppression
from chalicelib.campaigns.campaigns import CampaignView, get_campaign
from chalicelib.core import brand, i18n, metrics, nps, personalize, themes
from chalicelib.core.config import Settings
from chalicelib.core.counters import plain
from chalicelib.core.errors import Conflict, NotFound, ValidationError
from chalicelib.core.headers import header_problem
from chalicelib.core.i18n import Text
from chalicelib.sending.invitations import properties_of, sender_for, unsubscribe_headers, unsubscribe_url
from chalicelib.store import bind, count_pending
from chalicelib.store.models import Invitation
from chalicelib.store.transact import ConditionFailed, update
from chalicelib.web.render import render

LEASE_SECONDS = 300
MAX_ATTEMPTS = 6
EXCERPT = 200
LOOP_STATUSES = ("acknowledged", "contacted", "resolved")
_NOTE_BREAKS = str.maketrans("\r\n\t", "   ")  # a note is lines of text; other control characters are refused
# Templates (core.personalize) in English, translated into the customer's language before they are filled in.
DEFAULT_ACK = {
    "promoter": {
        "subject": Text("Thank you{% if first_name %}, {{ first_name }}{% endif %}!"),
        "body": Text("Thank you for your {{ score }} out of 10. It means a lot to everyone here."),
    },
    "passive": {
        "subject": Text("Thank you for your feedback"),
        "body": Text("Thank you for your answer. We read it, and we want to earn a higher score from you."),
    },
    "detractor": {
        "subject": Text("We read your feedback"),
        "body": Text("Thank you for telling us honestly. We are sorry we fell short."),
    },
    "neutral": {
        "subject": Text("Thank you for your feedback"),
        "body": Text("Thank you for your answer. We read every one."),
    },
}
FOLLOW_UP = Text("Someone from our team")


def excerpt(comment: str | None, limit: int = EXCERPT) -> str:
    """The customer's own words, trimmed at a word boundary: proof that a person read them."""
    text = " ".join((comment or "").split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.-")
    return f"{cut}…"


def about(found: list[str], locale: str = i18n.DEFAULT_LOCALE) -> str:
    """['pricing', 'support', 'bugs'] -> 'pricing, support, and bugs' (in `locale`'s way of listing)."""
    words = [t.replace("_", " ").replace("-", " ") for t in found]
    return i18n.format_list(words, locale) if len(words) > 1 else "".join(words)


def promises(campaign: CampaignView, invitation: Invitation, sent_at: float) -> dict[str, Any]:
    """What the acknowledgement may promise, decided by the loop as it is when it is sent (epoch seconds).

    A personal contact only while the answer's case is open (an alert opened it, nobody has been in touch
    yet), with the hours left to its target (None once overdue); once contacted or resolved, a thank-you
    for that instead. "Reply to this email" only when the campaign has a `reply_to` that a person reads.
    Returns {follow_up, within_hours, loop, reply}.
    """
    loop = invitation.loop_status if invitation.loop_status in ("contacted", "resolved") else ""
    follow_up, within_hours = "", None
    if not loop and invitation.case_due_at is not None:
        follow_up = campaign.options.get("follow_up_name") or FOLLOW_UP
        left = float(invitation.case_due_at) - sent_at
        within_hours = math.ceil(left / 3600) if left > 0 else None
    return {
        "follow_up": follow_up,
        "within_hours": within_hours,
        "loop": loop,
        "reply": bool(campaign.options.get("reply_to")),
    }


def render_ack(campaign: CampaignView, invitation: Invitation, settings: Settings, sent_at: float) -> EmailMessage:
    """The acknowledgement that fits the answer: its category's template, the comment quoted, its themes
    named when the campaign sets `quote_themes`. The built-in body is followed by the loop's promise of a
    personal contact (`promises`); a body of the campaign's own (in the contact's language) is not, since
    it says itself what the team will do ("We will call you within a day.").

    `sent_at` (epoch seconds) starts its unsubscribe link's lifetime. In the contact's language: the
    campaign's translated templates where it has them (CampaignView.in_language).
    """
    campaign = campaign.in_language(campaign.locale_for(properties_of(invitation)))
    category = invitation.category or "neutral"
    props = properties_of(invitation)
    locale = i18n.contact_locale(campaign.options, props)
    defaults = {part: i18n.translate(text, locale) for part, text in DEFAULT_ACK[category].items()}
    own = (campaign.options.get("ack") or {}).get(category, {})
    templates = {**defaults, **own}
    promised = promises(campaign, invitation, sent_at)
    if own.get("body"):  # the CX lead's message says what the team will do: a built-in promise would repeat it
        promised = {**promised, "follow_up": "", "within_hours": None}
    found = themes.detect(invitation.comment, campaign.themes) if campaign.quote_themes else []
    variables = {
        **props,
        "score": invitation.score,
        "category": category,
        "excerpt": excerpt(invitation.comment),
        "themes": about(found, locale),
        "company": campaign.company,
        "review_url": campaign.options.get("review_url", ""),
        "follow_up_name": campaign.options.get("follow_up_name", ""),
    }
    unsubscribe = unsubscribe_url(invitation, sent_at, settings)
    context = {
        "campaign": campaign,
        "category": category,
        "body_text": personalize.render_text(
            templates["body"], variables, invitation.email, f"options.ack.{category}.body"
        ),
        "body_html": personalize.render_html(
            templates["body"], variables, invitation.email, f"options.ack.{category}.body"
        ),
        "excerpt": variables["excerpt"],
        "themes": variables["themes"],
        "review_url": variables["review_url"] if category == "promoter" else "",
        **promised,
        "unsubscribe": unsubscribe,
        "brand": campaign.options.get("brand_color") or "#1a56db",
        "on_brand": brand.palette(campaign.options.get("brand_color"))["on_accent"],
        "logo": campaign.options.get("logo_url"),
    }
    context["follow_up"] = i18n.translate(context["follow_up"], locale)
    context["preheader"] = " ".join(context["body_text"].split())
    return mail.build_message(
        sender=sender_for(campaign, settings),
        to=invitation.email,
        subject=personalize.render_text(
            templates["subject"], variables, invitation.email, f"options.ack.{category}.subject"
        ),
        text=render("email/ack.txt", locale, **context),
        html=render("email/ack.html", locale, **context),
        reply_to=campaign.options.get("reply_to"),
        headers={**unsubscribe_headers(unsubscribe), **i18n.language_header(locale)},
    )


def acknowledge_due(now: float, settings: Settings, limit: int = 500) -> Tally:
    """Acknowledge what is due now: a Query on the sparse ack-due index, never a Scan."""
    bind(settings)
    outcomes: Tally = Tally()
    for key in Invitation.ack_due.query("ack", Invitation.ack_due_at <= now, limit=limit):
        outcomes[acknowledge_one(key.id, now, settings)] += 1
    return outcomes


def acknowledge_one(invitation_id: str, now: float, settings: Settings) -> str:
    try:
        raw = update(
            Invitation,
            invitation_id,
            [
                Invitation.ack_state.set("sending"),
                Invitation.ack_lease_until.set(now + LEASE_SECONDS),
                Invitation.ack_attempts.add(1),
            ],
            (
                (Invitation.ack_state == "due")
                & (Invitation.ack_due_at <= now)
                & (Invitation.updated_at <= now - settings.ack_delay)
            )
            | ((Invitation.ack_state == "sending") & (Invitation.ack_lease_until < now)),
        )
    except ConditionFailed:
        return "busy"
    invitation = Invitation.from_raw_data(raw)
    campaign = get_campaign(invitation.campaign_id)
    if campaign is None:
        return _finish(invitation, "failed", "campaign deleted")
    reason = "unsubscribed" if invitation.unsubscribed_at else suppression.reason_for(invitation.email)
    if reason:
        return _finish(invitation, "skipped", reason)
    try:
        message = render_ack(campaign, invitation, settings, now)
    except Exception as exc:  # this acknowledgement alone cannot be built (a template, a header): it fails alone
        return _finish(invitation, "failed", f"cannot build the message: {exc}")
    try:
        message_id = mail.get_mailer(settings).send(
            message, tags={"invitation": invitation.id, "campaign": campaign.id, "kind": "ack"}
        )
    except mail.MailRejected as exc:
        return _finish(invitation, "failed", str(exc))
    except mail.MailError as exc:
        if int(invitation.ack_attempts) >= MAX_ATTEMPTS:
            return _finish(invitation, "failed", f"gave up after {invitation.ack_attempts} attempts: {exc}")
        update(
            Invitation,
            invitation.id,
            [
                Invitation.ack_state.set("due"),
                Invitation.ack_due_at.set(now + min(3600, 60 * 2 ** int(invitation.ack_attempts))),
                Invitation.ack_error.set(str(exc)[:500]),
                Invitation.ack_lease_until.remove(),
            ],
        )
        return "retry"
    loop = [Invitation.loop_status.set("acknowledged")] if invitation.loop_status in (None, "new") else []
    update(
        Invitation,
        invitation.id,
        [
            Invitation.ack_state.set("sent"),
            Invitation.ack_sent_at.set(now),
            Invitation.ack_message_id.set(message_id),
            Invitation.ack_subject.set(str(message["Subject"])[:300]),
            Invitation.ack_pk.remove(),
            Invitation.ack_due_at.remove(),
            Invitation.ack_lease_until.remove(),
            Invitation.ack_error.remove(),
            *loop,
            _history("acknowledged", f"Acknowledgement sent: {message['Subject']}", "closeloop", now),
            *count_pending.changed(invitation.id),
        ],
    )
    metrics.emit(metrics.ACKNOWLEDGEMENTS_SENT, settings=settings)
    return "sent"


def _finish(invitation: Invitation, state: str, reason: str) -> str:
    """Skipped (unsubscribed) or failed for good (a bounced address): marked, reported, not retried."""
    update(
        Invitation,
        invitation.id,
        [
            Invitation.ack_state.set(state),
            Invitation.ack_error.set(reason[:500]),
            Invitation.ack_pk.remove(),
            Invitation.ack_due_at.remove(),
            Invitation.ack_lease_until.remove(),
        ],
    )
    return state


def _history(status: str, note: str, by: str, now: float) -> Any:
    entry = {"at": now, "status": status, "note": note[:2000], "by": by[:200]}
    return Invitation.loop_history.set((Invitation.loop_history | []).append([entry]))


# The body of POST /api/responses/{id}/loop, declared once: set_loop_status reads its statuses and the
# note's limit from it, and chalicelib.admin.openapi publishes it.
LOOP_UPDATE_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {
            "enum": list(LOOP_STATUSES),
            "description": "contacted and resolved stop the case's clock; acknowledged reopens a resolved case "
            "(409 for any other)",
        },
        "note": {"type": "string", "maxLength": 2000, "description": "what was said or done"},
        "expected_version": {
            "type": "integer",
            "minimum": 0,
            "description": "the response's `loop.version` when it was read: the change is made only if nothing "
            "was recorded since, else 409 and nothing is saved; without it, the change is made whatever happened since",
        },
    },
}
REOPEN = "acknowledged"  # what a person's reopening sets: the loop goes back to acknowledged


class CaseChanged(Conflict):
    """The case changed since the caller read it (`expected_version`): nothing was saved.

    `latest` is the last entry of the loop history now ({at, status, note, by}; None if it has none)
    and `version` the history's length now, so the caller can show the case as it is.
    """

    def __init__(self, latest: dict | None, version: int) -> None:
        self.latest, self.version = latest, version
        what = (
            f"{latest.get('by')} marked it {latest.get('status')} at {_iso(latest.get('at'))}"
            if latest
            else "its loop history was cleared"
        )
        super().__init__(
            f"This case changed since you read it: {what}. Nothing was saved; read it again "
            f"(its loop.version is now {version}).",
            "expected_version",
        )


def _iso(epoch: Any) -> str:
    return datetime.fromtimestamp(float(epoch or 0), UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def loop_version(invitation: Invitation) -> int:
    """What `expected_version` compares: the number of entries in the loop history (each change adds one)."""
    return len(invitation.loop_history or [])


def set_loop_status(invitation_id: str, body: Any, by: str, now: float) -> Invitation:
    """A CX lead records what happened: contacted (the case's clock stops), resolved, or a reopening, with a note.

    One conditional UpdateItem: the response must have been answered; a reopening (`acknowledged`) needs a
    resolved case; with `expected_version`, nothing may have been recorded since the caller read it. Raises
    ValidationError (a bad body), NotFound, CaseChanged (stale) or Conflict (a reopening of an open case).
    """
    fields = LOOP_UPDATE_BODY["properties"]
    if not isinstance(body, Mapping):
        raise ValidationError("Send {status, note}.")
    status = body.get("status")
    if status not in fields["status"]["enum"]:
        raise ValidationError(f"status is one of {', '.join(fields['status']['enum'])}.", "status")
    note, limit = body.get("note", ""), fields["note"]["maxLength"]
    if not isinstance(note, str) or len(note) > limit:
        raise ValidationError(f"note is text of at most {limit:,} characters.", "note")
    problem = header_problem(note.translate(_NOTE_BREAKS))
    if problem:
        raise ValidationError(f"note holds {problem}: write it as lines of plain text.", "note")
    expected = body.get("expected_version")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool) or expected < 0):
        raise ValidationError(
            "expected_version is the response's loop.version: a whole number from 0.", "expected_version"
        )
    actions: list = [Invitation.loop_status.set(status), _history(status, note.strip(), by, now)]
    if status in ("contacted", "resolved"):
        actions += [
            Invitation.contacted_at.set(Invitation.contacted_at | now),
            Invitation.case_campaign.remove(),
            Invitation.case_due_at.remove(),
        ]
    if status == "resolved":
        actions.append(Invitation.resolved_at.set(Invitation.resolved_at | now))
    condition = Invitation.answered_at.exists()
    if status == REOPEN:
        condition &= Invitation.loop_status == "resolved"
    elif status == "contacted":  # a resolved case is reopened first: contacted would undo "resolved" unseen
        condition &= Invitation.loop_status.does_not_exist() | (Invitation.loop_status != "resolved")
    if expected is not None:
        unchanged = size(Invitation.loop_history) == expected
        condition &= (Invitation.loop_history.does_not_exist() | unchanged) if expected == 0 else unchanged
    try:
        raw = update(Invitation, invitation_id, [*actions, *count_pending.changed(invitation_id)], condition)
    except ConditionFailed as failed:
        raise _refusal(invitation_id, failed.old, status, expected) from None
    return Invitation.from_raw_data(raw)


def _refusal(invitation_id: str, old: dict | None, status: str, expected: int | None) -> Exception:
    """Why the loop change's condition failed, from the item as it was (no extra read)."""
    invitation = Invitation.from_raw_data(old) if old else None
    if invitation is None or invitation.answered_at is None:
        return NotFound(f"No response {invitation_id!r}.", "response_id")
    version = loop_version(invitation)
    if expected is not None and version != expected:
        return CaseChanged(_plain_entry(invitation.loop_history[-1]) if version else None, version)
    now_is = invitation.loop_status or NEW_CASE
    if status != REOPEN:
        return Conflict("This case is resolved: reopen it first, then mark it contacted. Nothing was saved.", "status")
    return Conflict(
        f"Only a resolved case can be reopened: this one is {now_is}, so it is still open. Nothing was saved.",
        "status",
    )


_NUMBER_OR_NULL = {"type": ["number", "null"]}
_TIME_OR_NULL = {"type": ["number", "null"], "description": "epoch seconds"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
# What response_json returns, declared once for chalicelib.admin.openapi.
RESPONSE_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["id", "campaign_id", "email", "answers", "acknowledgement", "loop", "link"],
    "properties": {
        "id": {"type": "string"},
        "campaign_id": {"type": "string"},
        "email": {"type": "string"},
        "properties": {"type": "object", "description": "the contact's properties when invited"},
        "answers": {"type": "object", "description": "question id to answer"},
        "comment": _TEXT_OR_NULL,
        "score": {"type": ["integer", "null"], "description": "the NPS answer, 0 to 10"},
        "category": {"enum": [*nps.CATEGORIES, None]},
        "themes": {"type": "array", "items": {"type": "string"}, "description": "the comment's themes"},
        "theme_matches": {
            "type": "array",
            "description": "each of the comment's themes with the keywords that matched, as the campaign gives them",
            "items": {
                "type": "object",
                "required": ["theme", "keywords"],
                "properties": {"theme": {"type": "string"}, "keywords": {"type": "array", "items": {"type": "string"}}},
            },
        },
        "answered_at": _TIME_OR_NULL,
        "updated_at": _TIME_OR_NULL,
        "evidence": {**_TEXT_OR_NULL, "description": "what showed a person answered, not a link scanner"},
        "acknowledgement": {
            "type": "object",
            "properties": {
                "state": _TEXT_OR_NULL,
                "due_at": _TIME_OR_NULL,
                "sent_at": _TIME_OR_NULL,
                "subject": _TEXT_OR_NULL,
                "attempts": {"type": "integer"},
                "error": _TEXT_OR_NULL,
            },
        },
        "loop": {
            "type": "object",
            "properties": {
                "status": {"enum": [NEW_CASE, *LOOP_STATUSES, None]},
                "contacted_at": _TIME_OR_NULL,
                "resolved_at": _TIME_OR_NULL,
                "case_due_at": {**_NUMBER_OR_NULL, "description": "when the case is overdue, epoch seconds"},
                "alerted_at": _TIME_OR_NULL,
                "version": {
                    "type": "integer",
                    "description": "the number of entries in the history: send it as expected_version to change "
                    "the loop only if nothing was recorded since",
                },
                "history": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "at": {"type": "number"},
                            "status": {
                                "enum": [*LOOP_STATUSES, ACCEPTED, DISMISSED],
                                "description": "a loop step, or a held answer accepted or dismissed",
                            },
                            "note": {"type": "string"},
                            "by": {"type": "string", "description": "the token's name"},
                        },
                    },
                },
            },
        },
        "link": {"type": "string", "description": "this response in the admin API"},
        "origin": {
            "type": ["object", "null"],
            "description": "where an imported response came from (`delighted`) and its id there; null for our own",
            "properties": {"tool": {"type": "string"}, "id": _TEXT_OR_NULL},
        },
        "tags": {"type": "array", "items": {"type": "string"}, "description": "imported, or set through the v1 API"},
        "notes": {
            "type": "array",
            "description": "Delighted's notes, imported or added through the v1 API",
            "items": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "user_email": _TEXT_OR_NULL, "created_at": _TIME_OR_NULL},
            },
        },
        "other_answers": {
            "type": "array",
            "items": {"type": "object"},
            "description": "imported answers to questions this campaign does not ask, as the other tool gave them",
        },
    },
}


def response_json(invitation: Invitation, campaign: CampaignView | None, settings: Settings) -> dict:
    """One response as the admin API shows it, with its acknowledgement and its loop history."""
    found = themes.matches(invitation.comment, campaign.themes) if campaign else []
    return {
        "id": invitation.id,
        "campaign_id": invitation.campaign_id,
        "email": invitation.email,
        "properties": properties_of(invitation),
        "answers": plain(invitation.answers),
        "comment": invitation.comment,
        "score": invitation.score,
        "category": invitation.category,
        "themes": [match.theme for match in found],
        "theme_matches": [match.to_json() for match in found],
        "answered_at": invitation.answered_at,
        "updated_at": invitation.updated_at,
        "evidence": invitation.evidence,
        "acknowledgement": {
            "state": invitation.ack_state,
            "due_at": invitation.ack_due_at,
            "sent_at": invitation.ack_sent_at,
            "subject": invitation.ack_subject,
            "attempts": int(invitation.ack_attempts or 0),
            "error": invitation.ack_error,
        },
        "loop": {
            "status": invitation.loop_status,
            "contacted_at": invitation.contacted_at,
            "resolved_at": invitation.resolved_at,
            "case_due_at": invitation.case_due_at,
            "alerted_at": invitation.alerted_at,
            "history": [_plain_entry(e) for e in invitation.loop_history or []],
            "version": loop_version(invitation),
        },
        "link": f"{settings.base_url}/api/responses/{invitation.id}",
        "origin": {"tool": invitation.origin, "id": invitation.origin_id} if invitation.origin else None,
        "tags": list(invitation.tags or []),
        "notes": [_note(n) for n in invitation.notes or []],
        "other_answers": _answer_objects(invitation.additional_answers),
    }


def _answer_objects(kept: Any) -> list[dict]:
    """The answer objects of what an import kept as another tool gave it (imports before the check kept any value)."""
    return [a for a in kept if isinstance(a, dict)] if isinstance(kept, list) else []


def _note(note: Any) -> dict[str, Any]:
    entry = plain(note)
    return {"text": entry.get("text"), "user_email": entry.get("user_email"), "created_at": entry.get("created_at")}


def response_page(settings: Settings, invitation_id: str) -> str:
    """The response's dashboard page: where "Open the response" in an alert, a digest or Slack leads.

    A CX lead without a session is signed in first and brought back here.
    """
    return f"{settings.base_url}/dashboard/responses/{invitation_id}"


def _plain_entry(entry: Any) -> dict:
    return entry.as_dict() if hasattr(entry, "as_dict") else dict(entry)


# The `property` query parameter of GET /api/campaigns/{id}/responses, declared once: parse_property_filter
# matches its pattern, and chalicelib.admin.openapi publishes it.
PROPERTY_FILTER: dict[str, Any] = {
    "name": "property",
    "in": "query",
    "schema": {
        "anyOf": [
            {"type": "string", "pattern": r"^([A-Za-z_][A-Za-z0-9_.-]{0,63}):(.{1,200})$", "example": "plan:pro"},
            {"const": ""},
        ]
    },
    "description": "name:value of a contact property; empty or absent: every response",
}
_PROPERTY_FILTER = re.compile(PROPERTY_FILTER["schema"]["anyOf"][0]["pattern"])


def parse_property_filter(raw: str | None) -> tuple[str, str] | None:
    if not raw:
        return None
    found = _PROPERTY_FILTER.match(raw)
    if not found:
        raise ValidationError("property filters look like plan:pro.", PROPERTY_FILTER["name"])
    return found.group(1), found.group(2)


_HOURS = {"type": ["number", "null"], "description": "mean in hours; null before the first"}
# What loop_report returns, declared once for chalicelib.admin.openapi.
LOOP_REPORT_JSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "responses": {"type": "integer"},
        "acknowledged": {"type": "integer"},
        "mean_hours_to_acknowledge": _HOURS,
        "cases_opened": {"type": "integer"},
        "contacted": {"type": "integer"},
        "mean_hours_to_contact": _HOURS,
        "resolved": {"type": "integer"},
        "mean_hours_to_close": _HOURS,
        "cases_overdue": {"type": "integer", "description": "open cases past their target time"},
    },
}


def loop_report(counts: Mapping[str, int], overdue: int) -> dict:
    """Time to acknowledge, to contact and to close, from the counters (means, in hours)."""

    def mean_hours(name: str) -> float | None:
        n = counts.get(f"loop.{name}.n", 0)
        return round(counts.get(f"loop.{name}.seconds", 0) / n / 3600, 2) if n else None

    return {
        "responses": counts.get("responses", 0),
        "acknowledged": counts.get("loop.ack.n", 0),
        "mean_hours_to_acknowledge": mean_hours("ack"),
        "cases_opened": counts.get("cases.opened", 0),
        "contacted": counts.get("loop.contact.n", 0),
        "mean_hours_to_contact": mean_hours("contact"),
        "resolved": counts.get("loop.close.n", 0),
        "mean_hours_to_close": mean_hours("close"),
        "cases_overdue": overdue,
    }
