"""Following every change of an invitation, exactly once, off the customer's path.

Every write that changes what an invitation counts for (created, sent, skipped, answered,
edited, scanner activity, bounced, unsubscribed) is one single-item write that adds 1 to the
invitation's `rev` and puts it in the sparse `count-pending` index. The applier reads the
pending invitations, computes `contribution(state) - counted` per period and segment, and
in one transaction per batch adds the differences to the counter items and records the new
`counted` on each invitation, on condition that its `rev` has not moved and it is still pending.
A change that lands meanwhile fails that condition and is applied on the next pass, and a second
applier that read the same copy finds it applied, so nothing is counted twice or lost, whatever
the interleaving (two runs at once included); many answers share one write of the hot counter items.

The same pass does the bookkeeping that trails an answer, so the customer's request writes
one item and one keys-only index entry: it adds the response to the campaign's responses
index, opens its loop status, schedules its acknowledgement a quiet period after the last
edit, and cancels reminders.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

from pynamodb.expressions.update import Action

from chalicelib.campaigns.campaigns import CampaignView, get_campaign
from chalicelib.core import alert_rules, counters
from chalicelib.core.config import Settings, get_settings
from chalicelib.core.counters import plain
from chalicelib.queue import get_queue
from chalicelib.store import bind
from chalicelib.store.count_pending import SHARDS
from chalicelib.store.counts import add_op
from chalicelib.store.models import Invitation
from chalicelib.store.transact import TransactionConflict, update_op, write

NEW_CASE = "new"  # the loop status of an answer nobody has acknowledged or worked on yet
CLOSED = ("contacted", "resolved")  # loop statuses that close a case
REOPENED = "acknowledged"  # where a reopened loop goes back to (the dashboard's "reopen" too)

MAX_TRANSACTION_ITEMS = 100
ACK_PK = "ack"
REMIND_PK = "remind"


def state_of(invitation: Invitation) -> counters.CountState:
    return counters.CountState(
        created_at=invitation.created_at,
        send_state=invitation.send_state,
        send_error=invitation.send_error,
        sent_at=invitation.sent_at,
        reminders_sent=int(invitation.reminders_sent or 0),
        bounced_at=invitation.bounced_at,
        complained_at=invitation.complained_at,
        unsubscribed_at=invitation.unsubscribed_at,
        filtered=int(invitation.filtered or 0),
        trap_hits=int(invitation.trap_hits or 0),
        held=invitation.held is not None,
        answered_at=invitation.answered_at,
        answers=plain(invitation.answers),
        comment=invitation.comment,
        ack_sent_at=invitation.ack_sent_at,
        alerted_at=invitation.alerted_at,
        contacted_at=invitation.contacted_at,
        resolved_at=invitation.resolved_at,
        removed_comment=None if invitation.comment_themes is None else tuple(invitation.comment_themes),
    )


def contribution_of(
    invitation: Invitation, campaign: CampaignView, alerted_at: float | None = None
) -> dict[str, counters.Counts]:
    """What the invitation counts for; `alerted_at` when the same pass decides an alert, so it is counted too.
    Nothing for an invitation being deleted with its person (`erased_at`): the applier counts it out."""
    if invitation.erased_at is not None:
        return {}
    state = state_of(invitation)
    if alerted_at is not None:
        state = dataclasses.replace(state, alerted_at=alerted_at)
    return counters.contribution(state, campaign.survey, campaign.timezone, campaign.themes)


def follow_ups(invitation: Invitation, campaign: CampaignView, settings: Settings, now: float) -> tuple[list, list]:
    """What trails an answer: the responses index, the loop, the acknowledgement, no more reminders,
    and the events it announces (alerts, webhooks), as (actions on the invitation, queue messages)."""
    if invitation.answered_at is None or invitation.erased_at is not None:
        return [], []
    actions: list[Action] = []
    if invitation.responded_campaign is None:
        actions.append(Invitation.responded_campaign.set(invitation.campaign_id))
    if invitation.loop_status is None:
        actions.append(Invitation.loop_status.set(NEW_CASE))
    due = (invitation.updated_at or invitation.answered_at) + settings.ack_delay
    if invitation.ack_state in (None, "due") and (invitation.ack_pk is None or invitation.ack_due_at != due):
        actions += [Invitation.ack_pk.set(ACK_PK), Invitation.ack_due_at.set(due), Invitation.ack_state.set("due")]
    if invitation.send_pk == REMIND_PK:
        actions += [Invitation.send_pk.remove(), Invitation.send_due_at.remove()]
    messages = []
    version = int(invitation.answer_version or 0)
    if version > int(invitation.event_version or 0):
        kind = "response.updated" if invitation.event_version else "response.created"
        alert = invitation.alerted_at is None and alert_rules.matches(
            campaign.alert_rules,
            invitation.score,
            invitation.category,
            invitation.comment,
            plain(invitation.properties),
            campaign.themes,
        )
        actions.append(Invitation.event_version.set(version))
        if alert:
            actions += _open_case(invitation, campaign, now)
        if alert or campaign.webhooks_for(kind):
            messages.append(
                {
                    "kind": "event",
                    "campaign_id": invitation.campaign_id,
                    "invitation_id": invitation.id,
                    "version": version,
                    "type": kind,
                    "alert": alert,
                }
            )
    return actions, messages


def _open_case(invitation: Invitation, campaign: CampaignView, now: float) -> list[Action]:
    """The case an alerted version opens: its target counts from that version (an edit's own time, not the
    first answer's), and a loop already contacted or resolved (an imported response, a case closed before the
    customer changed their answer) is reopened, as a person's reopening does, so its status says it is open."""
    since = invitation.updated_at or invitation.answered_at
    actions = [
        Invitation.alerted_at.set(now),
        Invitation.case_campaign.set(invitation.campaign_id),
        Invitation.case_due_at.set(since + campaign.contact_within_hours * 3600),
        Invitation.case_opened_at.set(since),
    ]
    if invitation.loop_status in CLOSED:
        note = f"Reopened: the answer changed after the case was {invitation.loop_status}; it needs a personal contact."
        entry = {"at": now, "status": REOPENED, "note": note, "by": "closeloop"}
        actions += [
            Invitation.loop_status.set(REOPENED),
            Invitation.loop_history.set((Invitation.loop_history | []).append([entry])),
        ]
    return actions


def pending_ids(limit: int) -> list[str]:
    bind()
    ids: list[str] = []
    for n in range(SHARDS):
        ids += [item.id for item in Invitation.count_pending.query(f"count#{n}", limit=limit - len(ids))]
        if len(ids) >= limit:
            break
    return ids


def apply_pending(limit: int = 2000) -> dict[str, int]:
    """Apply up to `limit` pending invitations; returns how many were applied and how many moved meanwhile."""
    ids = pending_ids(limit)
    # An eventually consistent read is enough: a stale copy fails its `rev` condition and waits a pass.
    invitations = list(Invitation.batch_get(ids)) if ids else []
    return _apply(invitations, get_settings(), time.time())


def apply_these(ids: list[str]) -> dict[str, int]:
    """Apply these invitations' pending changes now, as the schedule would; read strongly consistent, so a
    change just written is seen. Returns how many were applied and how many moved meanwhile."""
    bind()
    invitations = list(Invitation.batch_get(ids, consistent_read=True)) if ids else []
    return _apply(invitations, get_settings(), time.time())


def _apply(invitations: Iterable[Invitation], settings: Settings, now: float) -> dict[str, int]:
    """Group invitations into transactions of at most 100 items (invitations plus distinct counter items).

    In the order of their campaign and time, so a backlog spread over many days (imported history, a
    catch-up after an outage) shares its counter items within each transaction: fewer, fuller ones."""
    outcome = {"applied": 0, "moved": 0}
    batch: list[tuple[Invitation, dict]] = []
    keys: set[tuple[str, str]] = set()
    for invitation in sorted(invitations, key=lambda i: (i.campaign_id, i.answered_at or i.created_at)):
        campaign = get_campaign(invitation.campaign_id)
        if invitation.count_pk is None or campaign is None:
            continue
        also, messages = follow_ups(invitation, campaign, settings, now)
        alerted = now if any(m["alert"] for m in messages) else None
        new = contribution_of(invitation, campaign, alerted)
        change = counters.expand(
            counters.period_delta(plain(invitation.counted), new),
            counters.segment_keys(plain(invitation.properties), campaign.segments),
        )
        own = {(invitation.campaign_id, key) for key in change}
        if batch and len(batch) + 1 + len(keys | own) > MAX_TRANSACTION_ITEMS:
            _commit(batch, outcome)
            batch, keys = [], set()
        batch.append((invitation, {"new": new, "change": change, "also": also, "messages": messages}))
        keys |= own
    if batch:
        _commit(batch, outcome)
    return outcome


def _commit(batch: list[tuple[Invitation, dict]], outcome: dict[str, int]) -> None:
    """One transaction; invitations that moved meanwhile are dropped and the rest retried."""
    while batch:
        operations = [
            update_op(
                Invitation,
                invitation.id,
                [Invitation.counted.set(plan["new"]), Invitation.count_pk.remove(), *plan["also"]],
                # rev unmoved and still pending: applying leaves rev as it is, so a second applier that read
                # the same copy (two runs at once) finds count_pk gone and counts nothing twice
                (Invitation.rev == invitation.rev) & Invitation.count_pk.exists(),
            )
            for invitation, plan in batch
        ]
        merged: dict[tuple[str, str], counters.Counts] = {}
        for invitation, plan in batch:
            for key, counts in plan["change"].items():
                bucket = merged.setdefault((invitation.campaign_id, key), {})
                for name, value in counts.items():
                    bucket[name] = bucket.get(name, 0) + value
        operations += [add_op(campaign_id, key, counts) for (campaign_id, key), counts in merged.items() if counts]
        # announce before committing: a crash in between repeats the announcement (the ledger drops the
        # duplicate), never loses it; an announcement whose commit failed is dropped on delivery
        get_queue().send([m for _, plan in batch for m in plan["messages"]])
        try:
            write(operations)
        except TransactionConflict as conflict:
            moved = {i for i, code in enumerate(conflict.codes[: len(batch)]) if code == "ConditionalCheckFailed"}
            outcome["moved"] += len(moved)
            batch = [entry for i, entry in enumerate(batch) if i not in moved]
            continue
        outcome["applied"] += len(batch)
        return
