"""Who must never be mailed again: unsubscribed, bounced, complained.

Suppressions are keyed by a hash of the address, so they outlive a deleted contact and a
deleted person is still never mailed. Every send checks them; SES bounce and complaint
events (through SNS) and the unsubscribe link add them, and so does an admin (`add`: the
admin API's POST /api/suppression and the dashboard). Nothing here removes one: an
unsubscribe is never undone by anyone but the person.

The address itself is kept beside the hash (except for a deleted person) in a sparse index
sorted by address, so an admin can look addresses up by their beginning (`search`), a page at
a time; the whole address always finds its entry through the hash (`find`).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.campaigns.contacts import email_address, email_hash, normalize_email
from chalicelib.core.errors import ValidationError
from chalicelib.store import bind, count_pending, one_page
from chalicelib.store.models import Invitation, Suppression
from chalicelib.store.transact import ConditionFailed, put_new, update

REASONS = ("unsubscribed", "bounced", "complained", "deleted", "manual")
# The reasons an admin may give for an address they add: bounced comes from SES and deleted from
# deleting a person, never from a form. "manual" is any other reason (a test, partner or role address).
MANUAL_REASONS = {
    "unsubscribed": "Unsubscribed: they asked to stop",
    "complained": "Complained about our email",
    "manual": "Manual: a test, partner or role address…",
}
SOURCES = {
    "link": "the unsubscribe link",
    "ses": "a bounce or complaint reported by SES",
    "admin": "an admin",
    "import": "the history imported from another tool",
}
LIST_PK = "suppression"
MAX_PREFIX = 254
log = logging.getLogger(__name__)

# What Entry.to_json returns, declared once for chalicelib.admin.openapi.
ENTRY_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["email", "reason", "created_at"],
    "properties": {
        "email": {"type": "string"},
        "reason": {"enum": list(REASONS)},
        "source": {
            "enum": [*SOURCES, None],
            "description": "link: the unsubscribe link; ses: a bounce or complaint event; admin: added by hand; "
            "import: an unsubscribe or bounce imported from another tool's history",
        },
        "campaign_id": {"type": ["string", "null"], "description": "the campaign whose email led to it"},
        "added_by": {"type": ["string", "null"], "description": "the admin or token that added it"},
        "created_at": {"type": "number", "description": "epoch seconds"},
    },
}
# The body of POST /api/suppression, declared once: add reads the names and reasons from it.
ADD_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["email", "reason"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "reason": {"enum": list(MANUAL_REASONS)},
    },
}
# The search's query parameter, declared once: parse_prefix reads its name and limit from it.
EMAIL_PREFIX: dict[str, Any] = {
    "name": "email_prefix",
    "in": "query",
    "schema": {"type": "string", "maxLength": MAX_PREFIX},
    "description": "the beginning of the address, whatever its case; absent: every address, in order",
}


@dataclass(frozen=True)
class Entry:
    """Why one address is suppressed."""

    email: str
    reason: str
    source: str | None
    campaign_id: str | None
    added_by: str | None
    created_at: float

    def to_json(self) -> dict:
        return {
            "email": self.email,
            "reason": self.reason,
            "source": self.source,
            "campaign_id": self.campaign_id,
            "added_by": self.added_by,
            "created_at": self.created_at,
        }


def _entry(item: Suppression, email: str) -> Entry:
    return Entry(email, item.reason, item.source, item.campaign_id, item.added_by, item.created_at)


def find(email: str) -> Entry | None:
    """The suppression of this address (one GetItem by its hash), whatever its age or reason; None if none."""
    bind()
    try:
        return _entry(Suppression.get(email_hash(email), consistent_read=True), normalize_email(email))
    except Suppression.DoesNotExist:
        return None


def parse_prefix(query: Mapping[str, str]) -> str:
    """The search's prefix, trimmed and lower-cased as addresses are stored ("" for every address)."""
    name, limit = EMAIL_PREFIX["name"], EMAIL_PREFIX["schema"]["maxLength"]
    prefix = normalize_email(query.get(name))
    if len(prefix) > limit:
        raise ValidationError(f"{name} has at most {limit} characters.", name)
    return prefix


def search(prefix: str, limit: int, start: dict | None = None) -> tuple[list[Entry], dict | None]:
    """Suppressed addresses starting with `prefix`, in address order: one Query page (`limit` items) of the
    sparse suppression-list index, and the key to start the next page from (None when none follows). The first
    page also holds the whole address typed when it is suppressed but not in the index (suppressed before
    the index existed, or a deleted person)."""
    bind()
    condition = Suppression.email.startswith(prefix) if prefix else None
    items, after = one_page(
        Suppression.by_address.query(LIST_PK, condition, limit=limit + 1, last_evaluated_key=start), limit
    )
    found = [_entry(item, item.email) for item in items]
    if start is None and "@" in prefix and prefix not in {entry.email for entry in found}:
        exact = find(prefix)
        found = [exact, *found] if exact else found
    return found, after


def add(body: Any, now: float, by: str) -> tuple[Entry, bool]:
    """Suppress the address an admin gives, `{"email", "reason"}` (ADD_BODY; reason one of MANUAL_REASONS).
    Returns its entry and True, or the entry already there and False: the first reason is kept, so an
    unsubscribe or a bounce is never rewritten. Raises ValidationError naming `email` or `reason`."""
    email_field, reason_field = ADD_BODY["properties"]
    if not isinstance(body, Mapping):
        raise ValidationError(f'Send {{"{email_field}": ..., "{reason_field}": ...}}.')
    email = email_address(body.get(email_field), email_field)
    reason = body.get(reason_field)
    if reason not in ADD_BODY["properties"][reason_field]["enum"]:
        raise ValidationError(f"{reason_field} is one of {', '.join(MANUAL_REASONS)}.", reason_field)
    item = _item(email, reason, now, "admin", None, by)
    old = put_new(item)
    return _entry(item if old is None else Suppression.from_raw_data(old), email), old is None


def reason_for(email: str) -> str | None:
    """Why this address is suppressed, or None."""
    bind()
    try:
        return Suppression.get(email_hash(email)).reason
    except Suppression.DoesNotExist:
        return None


def suppressed(emails: list[str]) -> dict[str, str]:
    """{email: reason} for the suppressed ones among `emails` (BatchGetItem, 100 per request)."""
    bind()
    by_hash = {email_hash(e): e for e in emails}
    return {by_hash[s.email_hash]: s.reason for s in Suppression.batch_get(list(by_hash))}


def suppress(
    email: str, reason: str, now: float, source: str, campaign_id: str | None = None, added_by: str | None = None
) -> bool:
    """Suppress the address; True if it was not suppressed before (the first reason is kept)."""
    return put_new(_item(email, reason, now, source, campaign_id, added_by)) is None


def _item(
    email: str, reason: str, now: float, source: str, campaign_id: str | None, added_by: str | None
) -> Suppression:
    """The address is kept beside its hash for the admin's search, except a deleted person's."""
    kept = None if reason == "deleted" else normalize_email(email)
    return Suppression(
        email_hash(email),
        reason=reason,
        source=source,
        campaign_id=campaign_id,
        created_at=now,
        email=kept,
        list_pk=LIST_PK if kept else None,
        added_by=added_by,
    )


@dataclass(frozen=True)
class Unsubscribed:
    """An unsubscribe done; `answered` when its invitation has an answer, which the page thanks them for."""

    answered: bool


def unsubscribe(invitation_id: str, campaign_id: str, now: float) -> Unsubscribed | None:
    """The person behind this invitation asked to stop: suppress them everywhere, at once. None only for
    an invitation of another campaign; a signed link whose invitation is gone is done already (only the
    person's deletion removes invitations, after suppressing them), and a mailbox provider reads a 404
    as an unsubscribe that failed."""
    bind()
    try:
        invitation = Invitation.get(invitation_id)
    except Invitation.DoesNotExist:
        return Unsubscribed(answered=False)
    if invitation.campaign_id != campaign_id:
        return None
    suppress(invitation.email, "unsubscribed", now, source="link", campaign_id=campaign_id)
    with contextlib.suppress(ConditionFailed):  # unsubscribed before: nothing more to count
        update(
            Invitation,
            invitation_id,
            [
                Invitation.unsubscribed_at.set(now),
                Invitation.send_pk.remove(),
                Invitation.send_due_at.remove(),
                *count_pending.changed(invitation_id),
            ],
            Invitation.unsubscribed_at.does_not_exist(),
        )
    return Unsubscribed(answered=invitation.answered_at is not None)


def ses_notification(message: str | dict, now: float) -> list[str]:
    """Handle one SES event (event publishing or the older notification format); returns what it did."""
    event: dict[str, Any] = json.loads(message) if isinstance(message, str) else message
    kind = event.get("eventType") or event.get("notificationType")
    mail = event.get("mail", {})
    if kind == "Bounce":
        bounce = event.get("bounce", {})
        if bounce.get("bounceType") != "Permanent":
            return [f"transient bounce ignored: {bounce.get('bounceSubType', '')}"]
        recipients = [r.get("emailAddress", "") for r in bounce.get("bouncedRecipients", [])]
        reason, field = "bounced", Invitation.bounced_at
    elif kind == "Complaint":
        recipients = [r.get("emailAddress", "") for r in event.get("complaint", {}).get("complainedRecipients", [])]
        reason, field = "complained", Invitation.complained_at
    else:
        return [f"{kind} ignored"]
    done = []
    tags = mail.get("tags", {})
    invitation_ids = tags.get("invitation", [])
    for address in filter(None, map(normalize_email, recipients)):
        suppress(address, reason, now, source="ses", campaign_id=(tags.get("campaign") or [None])[0])
        done.append(f"{reason}: {email_hash(address)[:12]}")
    for invitation_id in invitation_ids:
        try:
            update(
                Invitation,
                invitation_id,
                [
                    field.set(now),
                    Invitation.send_pk.remove(),
                    Invitation.send_due_at.remove(),
                    *count_pending.changed(invitation_id),
                ],
                Invitation.id.exists() & field.does_not_exist(),
            )
        except ConditionFailed:
            log.info("SES %s for invitation %s already recorded or unknown", reason, invitation_id)
    return done
