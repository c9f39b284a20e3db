"""Deleting a person: the contact and everything about them, in every table, counted out exactly once.

What goes (docs/privacy.md): the contact; every invitation sent to the address with its answers, comment,
held answers, loop history and case; the ledger items of its alerts and webhooks; its memberships of
recurring campaigns; its digest subscriptions and their ledger items; and, when the address is a
dashboard user, that user (their sessions are refused at once and expire within 7 days). What stays:
the SHA-256 of the address in `suppressions` with reason "deleted" (so it is never mailed again, even
by a later import), and a `deletions` item saying who deleted someone, when, and how many items each
table lost, never the address.

Counters move exactly once, through the counting applier (chalicelib.answers.counting), crash-safe:
each invitation is first marked (`erased_at`, out of every sparse index, count-pending), so it counts
for nothing; the applier then moves its counters by `0 - counted` under its `rev` condition; only then
is the item deleted, on condition that no change is pending. A run stopped anywhere is finished by
running it again (or, for the counters, by the applier's own schedule), and a recomputation
(`rebuild-counters`) equals the counters at every step.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DeleteError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.answers import counting
from chalicelib.campaigns import campaigns
from chalicelib.campaigns.contacts import email_address, email_hash
from chalicelib.core.errors import Conflict, NotFound, ValidationError
from chalicelib.core.signing import new_id
from chalicelib.insight import digest, digest_recipients
from chalicelib.sending import ledger
from chalicelib.store import bind, count_pending
from chalicelib.store.models import (
    Campaign,
    Contact,
    DashboardUser,
    Deletion,
    Delivery,
    DigestSubscription,
    Invitation,
    Member,
    Suppression,
)
from chalicelib.store.transact import ConditionFailed, update

TABLES = ("contacts", "invitations", "deliveries", "members", "digest-subscriptions", "dashboard-users", "suppressions")
APPLY_ROUNDS = 5  # an answer landing on a marked invitation is counted out on the next round

# What DeletionReport.to_json returns, declared once for chalicelib.admin.openapi.
REPORT_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["id", "actor", "deleted_at", "items"],
    "properties": {
        "id": {"type": "string", "description": "the deletion's record in the deletions table"},
        "actor": {"type": "string", "description": "who asked: the admin token's or the API key's name"},
        "deleted_at": {"type": "number", "description": "epoch seconds"},
        "items": {
            "type": "object",
            "description": "table name -> items removed (suppressions: the entry written or stripped of the address)",
            "properties": {name: {"type": "integer"} for name in TABLES},
        },
    },
}


@dataclass
class DeletionReport:
    """How many items each table lost (`items`, by table name); never the address."""

    id: str
    actor: str
    deleted_at: float
    items: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))

    found: bool = False  # whether anything was known about the address (an item found, or its suppression)

    def to_json(self) -> dict:
        return {"id": self.id, "actor": self.actor, "deleted_at": self.deleted_at, "items": dict(self.items)}

    def summary(self) -> str:
        counts = ", ".join(f"{name} {n}" for name, n in self.items.items())
        return f"deletion {self.id} by {self.actor}: {counts}"


def delete_person(email: str, *, actor: str, now: float) -> DeletionReport:
    """Delete everything about the address and suppress its hash; returns the report, also recorded.

    Safe to run again after a crash midway: it finishes what was left. Raises ValidationError for
    something that is not an address, Conflict (before anything is deleted) when the address is the
    dashboard's last admin, and NotFound when nothing was known about the address, after suppressing
    its hash and recording the request anyway (so an unknown address is never mailed either). Raises
    Conflict too, after counting out what it could, when the person's invitations keep changing through
    five rounds (answers arriving all along): running it again finishes. `actor` names who asked, for
    the record that outlives the person: blank is a ValidationError, and the person's own address in
    it is recorded as "the person" (someone deleting themselves).
    """
    address = email_address(email, "email")
    actor = re.sub(re.escape(address), "the person", actor.strip(), flags=re.IGNORECASE)
    if not actor:
        raise ValidationError("Say who asked for the deletion: its record keeps who, never the address.", "actor")
    bind()
    user = _dashboard_user(address)
    if user is not None and user.role == "admin" and _other_admin(address) is None:
        raise Conflict(f"{address} is the dashboard's last admin: make someone else an admin first.", "email")
    report = DeletionReport(new_id(), actor, now)
    report.items["suppressions"], known = _suppress(address, now, actor)
    _delete_invitations(address, now, report)
    zones = {c.id: c.timezone for c in Campaign.all_campaigns.query("campaign", attributes_to_get=["id", "timezone"])}
    _forget_in_campaigns(zones, address, now, report)
    if user is not None:
        report.items["dashboard-users"] = _remove_user(user)
    report.items["contacts"] = int(_deleted(Contact(address), Contact.email.exists()))
    report.found = known or any(n for name, n in report.items.items() if name != "suppressions")
    Deletion(report.id, actor=actor, created_at=now, found=int(report.found), items=dict(report.items)).save()
    if not report.found:
        raise NotFound(
            f"Nothing is known about {address} (any more); its hash is suppressed, so it is never mailed.", "email"
        )
    return report


def _suppress(address: str, now: float, actor: str) -> tuple[int, bool]:
    """The address's suppression becomes its hash alone, reason "deleted": written if absent, and an earlier
    entry (an unsubscribe, a bounce) stripped of the address. Returns (1 when an item was written or
    stripped, else 0; whether an entry that was not a deletion's held the address)."""
    try:
        old = Suppression.get(email_hash(address), consistent_read=True)
    except Suppression.DoesNotExist:
        old = None
    if old is not None and old.reason == "deleted" and old.email is None and old.list_pk is None:
        return 0, False
    Suppression(email_hash(address), reason="deleted", source="admin", created_at=now, added_by=actor).save()
    return 1, old is not None and old.reason != "deleted"


def _mark(invitation_id: str, now: float) -> None:
    """Count for nothing from now on and leave every sparse index, so no job sends, acknowledges or lists it."""
    with contextlib.suppress(ConditionFailed):  # deleted meanwhile
        update(
            Invitation,
            invitation_id,
            [
                Invitation.erased_at.set(Invitation.erased_at | now),
                Invitation.send_pk.remove(),
                Invitation.send_due_at.remove(),
                Invitation.ack_pk.remove(),
                Invitation.ack_due_at.remove(),
                Invitation.responded_campaign.remove(),
                Invitation.skipped_campaign.remove(),
                Invitation.case_campaign.remove(),
                Invitation.case_due_at.remove(),
                Invitation.held_campaign.remove(),
                Invitation.held_at.remove(),
                *count_pending.changed(invitation_id),
            ],
            Invitation.id.exists(),
        )


def _delete_invitations(address: str, now: float, report: DeletionReport) -> None:
    """Mark each invitation, apply its change (its counters go to zero), then delete it and its events' ledger
    items on condition that nothing is pending: an answer that landed meanwhile is counted out next round."""
    for _ in range(APPLY_ROUNDS):
        ids = [key.id for key in Invitation.by_email.query(address)]
        found = list(Invitation.batch_get(ids, consistent_read=True)) if ids else []
        if not found:
            return
        for invitation in found:
            if invitation.erased_at is None:
                _mark(invitation.id, now)
        counting.apply_these([invitation.id for invitation in found])
        for invitation in Invitation.batch_get([i.id for i in found], consistent_read=True):
            campaign = campaigns.get_campaign(invitation.campaign_id)
            if campaign is not None and invitation.count_pk is not None:
                continue  # changed since the applier read it: counted out next round
            report.items["deliveries"] += _delete_deliveries(_event_keys(invitation, campaign))
            # a deleted campaign's counters went with it: nothing to count out
            condition = Invitation.count_pk.does_not_exist() if campaign is not None else Invitation.id.exists()
            report.items["invitations"] += _deleted(invitation, condition)
    raise Conflict("The person's invitations kept changing while being deleted: run the deletion again.", "email")


def _deleted(item: Any, condition: Any) -> bool:
    """Delete `item` on `condition`; False when the condition failed (gone meanwhile, or changed)."""
    try:
        item.delete(condition)
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def _event_keys(invitation: Invitation, campaign: campaigns.CampaignView | None) -> list[str]:
    """The ledger keys of the alerts and webhooks the invitation's answers announced (chalicelib.loop.alerts)."""
    options = campaign.options if campaign else {}
    alerted = options.get("alert_emails") or ([options["reply_to"]] if options.get("reply_to") else [])
    keys = []
    for version in range(1, int(invitation.event_version or 0) + 1):
        event_id = f"{invitation.id}.{version}"
        keys += [f"alert#{event_id}#slack", *(f"alert#{event_id}#email#{a}" for a in alerted)]
        keys += [f"webhook#{w['id']}#{event_id}" for w in options.get("webhooks") or []]
    return keys


def _digest_keys(campaign_id: str, timezone: str, address: str, now: float) -> list[str]:
    """The ledger keys of the digests this address may have been sent: every period the ledger still keeps."""
    keys = []
    oldest = now - (ledger.KEEP_DAYS + 1) * 86400
    for frequency in digest_recipients.FREQUENCIES:
        period = digest.latest_period(frequency, now, timezone, so_far=True)
        while period.epochs(timezone)[1] >= oldest:
            keys.append(f"digest#{campaign_id}#{address}#{period.key}")
            period = period.previous
    return keys


def _delete_deliveries(keys: list[str]) -> int:
    """Delete the ledger items among `keys` that exist; returns how many there were."""
    found = [d for start in range(0, len(keys), 100) for d in Delivery.batch_get(keys[start : start + 100])]
    with Delivery.batch_write() as batch:
        for delivery in found:
            batch.delete(delivery)
    return len(found)


def _forget_in_campaigns(zones: dict[str, str], address: str, now: float, report: DeletionReport) -> None:
    """The address's memberships of recurring campaigns and its digest subscriptions, with their digests' ledger
    items: BatchGetItem of (campaign, address) over every campaign (`zones`: campaign id -> time zone)."""
    keys = [(campaign_id, address) for campaign_id in zones]
    for member in Member.batch_get(keys, consistent_read=True):
        member.delete()
        report.items["members"] += 1
    for subscription in DigestSubscription.batch_get(keys, consistent_read=True):
        campaign_id = subscription.campaign_id
        report.items["deliveries"] += _delete_deliveries(_digest_keys(campaign_id, zones[campaign_id], address, now))
        subscription.delete()
        report.items["digest-subscriptions"] += 1


def _dashboard_user(address: str) -> DashboardUser | None:
    try:
        return DashboardUser.get("team", address, consistent_read=True)
    except DashboardUser.DoesNotExist:
        return None


def _other_admin(address: str) -> str | None:
    return next(
        (
            u.email
            for u in DashboardUser.query("team", consistent_read=True)
            if u.role == "admin" and u.email != address
        ),
        None,
    )


def _remove_user(user: DashboardUser) -> int:
    """Remove the dashboard user; an admin only while another admin stays one (as the People page does)."""
    if user.role != "admin":
        return int(_deleted(user, DashboardUser.email.exists()))
    other = _other_admin(user.email)
    last = Conflict(f"{user.email} is the dashboard's last admin: make someone else an admin first.", "email")
    if other is None:
        raise last
    try:
        with TransactWrite(connection=DashboardUser._get_connection().connection) as transaction:
            transaction.condition_check(DashboardUser, "team", other, DashboardUser.role == "admin")
            transaction.delete(user)
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" not in [r.code if r else None for r in exc.cancellation_reasons]:
            raise
        raise last from None
    return 1
