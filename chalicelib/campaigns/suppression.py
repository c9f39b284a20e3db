"""Who must never be mailed again: unsubscribed, bounced, complained.

Suppressions are keyed by a hash of the address, so they outlive a deleted contact and a
deleted person is still never mailed. Every send checks them; SES bounce and complaint
events (through SNS) and the unsubscribe link add them.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from chalicelib.campaigns.contacts import email_hash, normalize_email
from chalicelib.store import bind, count_pending
from chalicelib.store.models import Invitation, Suppression
from chalicelib.store.transact import ConditionFailed, put_new, update

REASONS = ("unsubscribed", "bounced", "complained", "deleted")
log = logging.getLogger(__name__)


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


def suppress(email: str, reason: str, now: float, source: str, campaign_id: str | None = None) -> bool:
    """Suppress the address; True if it was not suppressed before (the first reason is kept)."""
    entry = Suppression(email_hash(email), reason=reason, source=source, campaign_id=campaign_id, created_at=now)
    return put_new(entry) is None


def unsubscribe(invitation_id: str, campaign_id: str, now: float) -> bool:
    """The person behind this invitation asked to stop: suppress them everywhere, at once."""
    bind()
    try:
        invitation = Invitation.get(invitation_id)
    except Invitation.DoesNotExist:
        return False
    if invitation.campaign_id != campaign_id:
        return False
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
    return True


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
