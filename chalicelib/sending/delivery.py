"""Sending invitations and reminders: each at most once per claim, at SES's pace, nothing lost.

A send claims its invitation with a lease (a conditional update), checks suppression and
survey fatigue, sends, then marks it sent. A crash between claim and mark leaves the lease
to expire and a redelivered queue message to finish the job; the window for a duplicate is
the few milliseconds between SES accepting a message and the mark. Work arrives as queue
messages (chalicelib.runtime.work): `fanout` pages through a campaign's invitations and enqueues
`send` batches of 50; the dispatcher turns due invitations (retries, reminders, recurring
rounds) and due scheduled campaigns into messages.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib import mail
from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.campaigns.contacts import Recipient
from chalicelib.core import schedule
from chalicelib.core.config import Settings
from chalicelib.core.errors import Conflict
from chalicelib.core.personalize import TemplateRefused
from chalicelib.queue import WorkQueue
from chalicelib.sending import ledger
from chalicelib.sending.invitations import (
    REMIND_PK,
    SEND_PK,
    campaign_invitation_ids,
    new_invitation,
    properties_of,
    render_invitation,
)
from chalicelib.store import bind, count_pending
from chalicelib.store.models import Invitation, Member
from chalicelib.store.transact import ConditionFailed, put_new, update

DAY = 86400
LEASE_SECONDS = 120
MAX_ATTEMPTS = 8
BATCH = 50
FANOUT_PAGE = 2000
DISPATCH_LIMIT = 1000
DISPATCH_HOLD = 600  # a dispatched invitation is not dispatched again for 10 minutes
PAUSED_RECHECK = 3600
RESEND_LIMIT = 5000  # failed invitations put back per call; the answer says when more remain


class Pacer:
    """Keeps one worker at `rate` sends per second (SES's account rate divided by the workers)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic, sleep=time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock, self.sleep, self.next = clock, sleep, 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if now < self.next:
            self.sleep(self.next - now)
            now = self.next
        self.next = now + self.interval


def backoff(attempt: int) -> int:
    return min(3600, 30 * 2 ** max(0, attempt - 1))


@dataclass
class BatchResult:
    outcomes: Tally = field(default_factory=Tally)
    retry_after: int | None = None


def send_batch(
    campaign_id: str, ids: list[str], reminder: bool, clock: Callable[[], float], settings: Settings, pacer: Pacer
) -> BatchResult:
    """Send each invitation (or its next reminder); stop at the first throttle and ask to be retried."""
    result = BatchResult()
    try:
        campaign = campaigns.view(campaigns.load_campaign(campaign_id, consistent=True))
    except campaigns.NotFound:
        result.outcomes["missing"] += len(ids)
        return result
    blocked, sent = _suppressed_among(ids)
    step = remind_one if reminder else send_one
    for index, invitation_id in enumerate(ids):
        if invitation_id in sent and not reminder:  # sent before (or imported history): no claim to try
            result.outcomes["done"] += 1
            continue
        pacer.wait()
        now = clock()
        outcome, attempt = step(invitation_id, campaign, now, settings, blocked)
        result.outcomes[outcome] += 1
        if outcome in ("throttled", "retry", "busy"):
            result.retry_after = max(result.retry_after or 0, backoff(attempt) if outcome != "busy" else LEASE_SECONDS)
        if outcome == "throttled":
            result.outcomes["not_tried"] += len(ids) - index - 1
            break
    return result


def _suppressed_among(ids: list[str]) -> tuple[dict[str, str], set[str]]:
    """One BatchGetItem for the addresses and one for their suppressions, instead of a read per send: the
    suppressed addresses with why, and the invitations already sent (a state never left, so even a stale
    read is right), which a fan-out over a campaign with imported history meets by the thousand.

    Checked when the batch starts, seconds before each send; an unsubscribe landing in between is
    still honoured by everything sent afterwards.
    """
    found = list(Invitation.batch_get(ids, attributes_to_get=["id", "email", "send_state"]))
    sent = {invitation.id for invitation in found if invitation.send_state == "sent"}
    emails = [invitation.email for invitation in found]
    return (suppression.suppressed(emails) if emails else {}), sent


def _claim(invitation_id: str, actions: list, condition, now: float) -> tuple[Invitation | None, str]:
    try:
        return Invitation.from_raw_data(update(Invitation, invitation_id, actions, condition)), "claimed"
    except ConditionFailed as failed:
        if failed.old is None:
            return None, "missing"
        return None, "busy" if failed.old.get("send_state", {}).get("S") == "sending" else "done"


def send_one(
    invitation_id: str, campaign: CampaignView, now: float, settings: Settings, blocked: dict[str, str]
) -> tuple[str, int]:
    """Claim, check, send, mark. `blocked` maps suppressed addresses to why. Returns (outcome, attempt)."""
    invitation, state = _claim(
        invitation_id,
        [
            Invitation.send_state.set("sending"),
            Invitation.send_lease_until.set(now + LEASE_SECONDS),
            Invitation.send_attempts.add(1),
        ],
        (Invitation.campaign_id == campaign.id)
        & (
            (Invitation.send_state == "pending")
            | ((Invitation.send_state == "sending") & (Invitation.send_lease_until < now))
        ),
        now,
    )
    if invitation is None:
        return state, 0
    attempt = int(invitation.send_attempts)
    if campaign.status == "cancelled":
        return _finish(invitation, "skipped", "cancelled"), attempt
    if campaign.status not in campaigns.ACTIVE:
        _release(invitation, now + PAUSED_RECHECK if invitation.send_pk else None, "campaign not active")
        return "paused", attempt
    if campaign.kind == "recurring" and not is_member(campaign.id, invitation.email):
        return _finish(invitation, "skipped", "removed"), attempt
    reason = blocked.get(invitation.email)
    if reason:
        return _finish(invitation, "skipped", f"suppressed:{reason}"), attempt
    if not contacts.claim_survey(invitation.email, invitation.id, now, campaign.fatigue_days(settings.fatigue_days)):
        return _finish(invitation, "skipped", "fatigue:surveyed recently"), attempt
    try:
        message = render_invitation(campaign, invitation, settings, now)
    except Exception as exc:  # whatever this one message meets, it fails alone
        return _finish(invitation, "failed", failure_reason(exc)), attempt
    try:
        message_id = mail.get_mailer(settings).send(
            message, tags={"invitation": invitation.id, "campaign": campaign.id}
        )
    except mail.MailThrottled as exc:
        _release(invitation, now + backoff(attempt), str(exc))
        return "throttled", attempt
    except mail.MailRejected as exc:
        return _finish(invitation, "failed", failure_reason(exc)), attempt
    except mail.MailError as exc:
        if attempt >= MAX_ATTEMPTS:
            return _finish(invitation, "failed", f"gave_up:after {attempt} attempts: {exc}"), attempt
        _release(invitation, now + backoff(attempt), str(exc))
        return "retry", attempt
    except Exception as exc:  # an error of the backend with this message: it fails alone
        return _finish(invitation, "failed", failure_reason(exc)), attempt
    _mark_sent(invitation, campaign, message_id, now, settings)
    return "sent", attempt


def failure_reason(exc: Exception) -> str:
    """`kind:detail` for a message that failed, the kind counted in the campaign's stats (`failed.reasons`):
    `template` (a subject or intro fails for this contact), `message` (a header cannot carry a value),
    `rejected` (the mail provider refused it), `gave_up` (still failing after MAX_ATTEMPTS), `error`."""
    if isinstance(exc, TemplateRefused):
        return f"template:{exc.field}: {exc.message}"
    if isinstance(exc, mail.MessageInvalid):
        return f"message:{exc}"
    if isinstance(exc, mail.MailRejected):
        return f"rejected:{exc}"
    return f"error:{type(exc).__name__}: {exc}"


def _mark_sent(invitation: Invitation, campaign: CampaignView, message_id: str, now: float, settings: Settings) -> None:
    reminders = campaign.reminders
    next_step = (
        [Invitation.send_pk.set(REMIND_PK), Invitation.send_due_at.set(now + reminders[0] * DAY)]
        if reminders
        else [Invitation.send_pk.remove(), Invitation.send_due_at.remove()]
    )
    update(
        Invitation,
        invitation.id,
        [
            Invitation.send_state.set("sent"),
            Invitation.sent_at.set(now),
            Invitation.message_id.set(message_id),
            Invitation.send_lease_until.remove(),
            Invitation.send_error.remove(),
            *next_step,
            *count_pending.changed(invitation.id),
        ],
    )
    if campaign.kind == "recurring":
        _next_round(invitation, campaign, now, settings)


def _next_round(invitation: Invitation, campaign: CampaignView, now: float, settings: Settings) -> None:
    """Recurring surveys ask again every N days, on a weekday morning in the contact's time zone."""
    props = properties_of(invitation)
    due = schedule.weekday_morning(
        now + (campaign.interval_days or 90) * DAY, contact_timezone(props, campaign), invitation.email
    )
    upcoming = new_invitation(
        campaign, Recipient(invitation.email, props), now, settings, round_=int(invitation.round) + 1, due_at=due
    )
    put_new(upcoming)


def contact_timezone(properties: dict, campaign: CampaignView) -> str:
    return schedule.valid_timezone(properties.get("timezone")) or campaign.timezone


def is_member(campaign_id: str, email: str) -> bool:
    try:
        return Member.get(campaign_id, email).removed_at is None
    except Member.DoesNotExist:
        return False


def _release(invitation: Invitation, due_at: float | None, reason: str) -> None:
    """Back to pending; due again at `due_at` through the dispatcher, or left to a queue redelivery."""
    actions = [
        Invitation.send_state.set("pending"),
        Invitation.send_lease_until.remove(),
        Invitation.send_error.set(reason[:500]),
    ]
    if due_at is not None:
        actions += [Invitation.send_pk.set(SEND_PK), Invitation.send_due_at.set(due_at)]
    update(Invitation, invitation.id, actions)


def _finish(invitation: Invitation, state: str, reason: str) -> str:
    actions = [
        Invitation.send_state.set(state),
        Invitation.send_error.set(reason[:500]),
        Invitation.send_pk.remove(),
        Invitation.send_due_at.remove(),
        Invitation.send_lease_until.remove(),
        *count_pending.changed(invitation.id),
    ]
    if state in ("skipped", "failed"):  # listed with the skipped, with the reason
        actions.append(Invitation.skipped_campaign.set(invitation.campaign_id))
    update(Invitation, invitation.id, actions)
    return state if state != "skipped" else f"skipped:{reason.split(':')[0]}"


def remind_one(
    invitation_id: str, campaign: CampaignView, now: float, settings: Settings, blocked: dict[str, str]
) -> tuple[str, int]:
    """The next reminder to someone who has not answered, unsubscribed or bounced; once per reminder."""
    invitation, state = _claim(
        invitation_id,
        [Invitation.reminder_lease_until.set(now + LEASE_SECONDS)],
        (Invitation.campaign_id == campaign.id)
        & (Invitation.send_state == "sent")
        & (Invitation.send_pk == REMIND_PK)
        & Invitation.answered_at.does_not_exist()
        & Invitation.unsubscribed_at.does_not_exist()
        & Invitation.bounced_at.does_not_exist()
        & Invitation.complained_at.does_not_exist()
        & (Invitation.reminder_lease_until.does_not_exist() | (Invitation.reminder_lease_until < now)),
        now,
    )
    if invitation is None:
        return ("done" if state == "busy" else state), 0
    done = int(invitation.reminders_sent or 0)
    reminders = campaign.reminders
    stop = [Invitation.send_pk.remove(), Invitation.send_due_at.remove(), Invitation.reminder_lease_until.remove()]
    if campaign.status == "cancelled" or done >= len(reminders) or invitation.email in blocked:
        update(Invitation, invitation.id, stop)
        return "done", done
    if campaign.status not in campaigns.ACTIVE:
        update(
            Invitation,
            invitation.id,
            [Invitation.send_due_at.set(now + PAUSED_RECHECK), Invitation.reminder_lease_until.remove()],
        )
        return "paused", done
    try:
        mail.get_mailer(settings).send(
            render_invitation(campaign, invitation, settings, now, reminder=done + 1),
            tags={"invitation": invitation.id, "campaign": campaign.id},
        )
    except mail.MailRejected as exc:  # this reminder cannot go (nor would the next): stop reminding, say why
        update(Invitation, invitation.id, [*stop, Invitation.send_error.set(f"reminder {failure_reason(exc)}"[:500])])
        return "reminder_failed", done
    except mail.MailError as exc:
        update(
            Invitation,
            invitation.id,
            [Invitation.send_due_at.set(now + backoff(done + 1)), Invitation.reminder_lease_until.remove()],
        )
        return ("throttled" if isinstance(exc, mail.MailThrottled) else "retry"), done + 1
    except Exception as exc:  # a template or header that fails for this contact: it fails alone
        update(Invitation, invitation.id, [*stop, Invitation.send_error.set(f"reminder {failure_reason(exc)}"[:500])])
        return "reminder_failed", done
    after = (
        [Invitation.send_due_at.set(invitation.sent_at + reminders[done + 1] * DAY)]
        if done + 1 < len(reminders)
        else [Invitation.send_pk.remove(), Invitation.send_due_at.remove()]
    )
    update(
        Invitation,
        invitation.id,
        [
            Invitation.reminders_sent.set(done + 1),
            Invitation.reminder_lease_until.remove(),
            *after,
            *count_pending.changed(invitation.id),
        ],
    )
    return "reminded", done + 1


def resend_failed(campaign_id: str, queue: WorkQueue, limit: int = RESEND_LIMIT) -> tuple[int, bool]:
    """Failed invitations back to pending (attempts reset), enqueued in batches; (how many, whether more
    remain for another call). Conflict (409) unless the campaign is sending or sent."""
    campaign = campaigns.load_campaign(campaign_id, consistent=True)
    if campaign.status not in campaigns.ACTIVE:
        raise Conflict(
            f"Only a sending or sent campaign can resend its failed invitations. This campaign is {campaign.status}.",
            "status",
        )
    ids: list[str] = []
    failed = Invitation.skipped.query(campaign_id, filter_condition=Invitation.send_state == "failed")
    for invitation in failed:
        if len(ids) >= limit:
            break
        try:
            update(
                Invitation,
                invitation.id,
                [
                    Invitation.send_state.set("pending"),
                    Invitation.send_attempts.set(0),
                    Invitation.send_error.remove(),
                    Invitation.skipped_campaign.remove(),
                    *count_pending.changed(invitation.id),
                ],
                Invitation.send_state == "failed",
            )
        except ConditionFailed:
            continue
        ids.append(invitation.id)
    queue.send(
        [{"kind": "send", "campaign_id": campaign_id, "ids": ids[i : i + BATCH]} for i in range(0, len(ids), BATCH)]
    )
    return len(ids), len(ids) >= limit


def fanout(campaign_id: str, cursor: dict | None, queue: WorkQueue) -> str:
    """Enqueue one page of a sending campaign's invitations in batches, then the next page."""
    campaign = campaigns.view(campaigns.load_campaign(campaign_id, consistent=True))
    if campaign.status != "sending":
        return f"stopped: campaign is {campaign.status}"
    ids, next_cursor = campaign_invitation_ids(campaign_id, cursor, FANOUT_PAGE)
    kind = "place" if campaign.kind == "recurring" else "send"
    messages: list[dict] = [
        {"kind": kind, "campaign_id": campaign_id, "ids": ids[i : i + BATCH]} for i in range(0, len(ids), BATCH)
    ]
    if next_cursor:
        messages.append({"kind": "fanout", "campaign_id": campaign_id, "cursor": next_cursor})
    queue.send(messages)
    if not next_cursor:
        campaigns.finish_sending(campaign_id, time.time())
    return f"{len(ids)} invitations in {len(messages)} messages"


def place(campaign_id: str, ids: list[str], now: float) -> int:
    """Recurring campaigns: make each first-round invitation due on the contact's next weekday morning."""
    campaign = campaigns.view(campaigns.load_campaign(campaign_id, consistent=True))
    placed = 0
    for invitation_id in ids:
        invitation = Invitation.get(invitation_id)
        due = schedule.weekday_morning(now, contact_timezone(properties_of(invitation), campaign), invitation.email)
        try:
            update(
                Invitation,
                invitation_id,
                [Invitation.send_pk.set(SEND_PK), Invitation.send_due_at.set(due)],
                (Invitation.send_state == "pending") & Invitation.send_pk.does_not_exist(),
            )
        except ConditionFailed:
            continue
        placed += 1
    return placed


def dispatch(now: float, queue: WorkQueue) -> dict[str, int]:
    """Start scheduled campaigns that are due; enqueue invitations, reminders and failed alerts or webhooks
    whose next attempt is due."""
    bind()
    started = campaigns.start_due(now, queue)
    counts = {"campaigns_started": started}
    for pk, kind in ((SEND_PK, "send"), (REMIND_PK, "remind")):
        by_campaign: dict[str, list[str]] = {}
        for key in Invitation.send_due.query(pk, Invitation.send_due_at <= now, limit=DISPATCH_LIMIT):
            try:
                raw = update(
                    Invitation,
                    key.id,
                    [Invitation.send_due_at.set(now + DISPATCH_HOLD)],
                    (Invitation.send_pk == pk) & (Invitation.send_due_at <= now),
                )
            except ConditionFailed:
                continue
            by_campaign.setdefault(raw["campaign_id"]["S"], []).append(key.id)
        messages = [
            {"kind": kind, "campaign_id": cid, "ids": ids[i : i + BATCH]}
            for cid, ids in by_campaign.items()
            for i in range(0, len(ids), BATCH)
        ]
        queue.send(messages)
        counts[kind] = sum(len(ids) for ids in by_campaign.values())
    retries = [d.payload for d in ledger.due(now) if d.payload]
    queue.send(retries)
    counts["redeliveries"] = len(retries)
    return counts
