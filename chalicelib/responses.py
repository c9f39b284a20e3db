"""Recording answers: one response per invitation, its counters moved in the same transaction.

The first answer is written optimistically in one round trip: a transaction whose
condition says "not answered yet, not within a scanner window". When the condition fails,
DynamoDB hands back the invitation as it was, and that decides the next step without a
read: a scanner's activity is filtered, an edit applies the difference between the old and
the new contribution under an optimistic lock on `answer_version`. Because every write
moves the counters by exactly (new - old) of the item it atomically replaced, concurrent
submits leave counters equal to the contribution of the final answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib import counters, metrics, nps
from chalicelib.campaigns import CampaignView
from chalicelib.config import Settings
from chalicelib.signing import InvitationRef
from chalicelib.store.counts import add_op
from chalicelib.store.models import Invitation
from chalicelib.store.transact import TransactionConflict, update_op, write

ACK_PK = "ack"
MAX_ATTEMPTS = 8
EVIDENCE = ("submit", "gesture")


@dataclass(frozen=True)
class Submission:
    answers: dict[str, Any]
    comment: str | None
    evidence: str


@dataclass
class Outcome:
    status: str  # recorded | filtered | not_found
    first: bool = False
    reason: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    comment: str | None = None


def scanner_reason(sent_at: float | None, trap_at: float | None, now: float, settings: Settings) -> str | None:
    """Why activity at `now` looks like a security scanner's, or None (rules: docs/scanners.md)."""
    if sent_at is not None and now - sent_at < settings.scanner_delivery_window:
        return "delivery"
    if trap_at is not None and now - trap_at < settings.scanner_trap_window:
        return "trap"
    return None


def headline(campaign: CampaignView, answers: dict[str, Any]) -> tuple[int | None, str | None]:
    """The score shown in lists and digests, and its NPS category when the survey has NPS."""
    question = campaign.survey.nps_question
    if question and question.id in answers:
        return answers[question.id], nps.category(answers[question.id])
    first = campaign.survey.first
    value = answers.get(first.id)
    return (value if first.is_scale else None), None


def record(
    ref: InvitationRef, campaign: CampaignView, submission: Submission, now: float, settings: Settings
) -> Outcome:
    """Record a person's answer (evidence already checked); scanners' activity is counted apart."""
    try:
        return _first_answer(ref, campaign, submission, now, settings)
    except TransactionConflict as conflict:
        old = conflict.old_items[0]
    for _ in range(MAX_ATTEMPTS):
        if old is None:
            return Outcome("not_found")
        invitation = Invitation.from_raw_data(old)
        if invitation.campaign_id != ref.campaign_id:
            return Outcome("not_found")
        reason = scanner_reason(invitation.sent_at, invitation.trap_at, now, settings)
        try:
            if reason:
                if not record_filtered(ref, campaign, submission, reason, now):
                    return Outcome("not_found")
                return Outcome("filtered", reason=reason, answers=submission.answers, comment=submission.comment)
            if invitation.answered_at is None:
                return _first_answer(ref, campaign, submission, now, settings)
            return _edit(invitation, campaign, submission, now, settings)
        except TransactionConflict as conflict:
            old = conflict.old_items[0]
    raise RuntimeError(f"invitation {ref.invitation_id} kept changing under {MAX_ATTEMPTS} attempts")


def _answer_actions(campaign: CampaignView, answers: dict, comment: str | None, evidence: str, now: float) -> list:
    score, category = headline(campaign, answers)
    return [
        Invitation.answers.set(answers),
        Invitation.comment.set(comment) if comment else Invitation.comment.remove(),
        Invitation.score.set(score) if score is not None else Invitation.score.remove(),
        Invitation.category.set(category) if category else Invitation.category.remove(),
        Invitation.evidence.set(evidence),
        Invitation.updated_at.set(now),
        Invitation.answer_version.add(1),
        Invitation.counted.set(counters.contribution(campaign.survey, answers, comment)),
    ]


def _first_answer(
    ref: InvitationRef, campaign: CampaignView, submission: Submission, now: float, settings: Settings
) -> Outcome:
    period = counters.week_period(now, campaign.timezone)
    keys = counters.counter_keys(period, campaign.segments, ref.segment_codes)
    actions = [
        *_answer_actions(campaign, submission.answers, submission.comment, submission.evidence, now),
        Invitation.answered_at.set(now),
        Invitation.responded_campaign.set(campaign.id),
        Invitation.counter_keys.set(keys),
        Invitation.ack_pk.set(ACK_PK),
        Invitation.ack_due_at.set(now + settings.ack_delay),
        Invitation.ack_state.set("due"),
        Invitation.loop_status.set("new"),
    ]
    condition = (
        (Invitation.campaign_id == campaign.id)
        & Invitation.answered_at.does_not_exist()
        & (Invitation.sent_at.does_not_exist() | (Invitation.sent_at <= now - settings.scanner_delivery_window))
        & (Invitation.trap_at.does_not_exist() | (Invitation.trap_at <= now - settings.scanner_trap_window))
    )
    contribution = counters.contribution(campaign.survey, submission.answers, submission.comment)
    write(
        [
            update_op(Invitation, ref.invitation_id, actions, condition),
            *(add_op(campaign.id, key, contribution) for key in keys),
        ]
    )
    metrics.emit(metrics.ANSWERS_RECORDED, settings=settings)
    return Outcome("recorded", first=True, answers=submission.answers, comment=submission.comment)


def _edit(
    invitation: Invitation, campaign: CampaignView, submission: Submission, now: float, settings: Settings
) -> Outcome:
    """Fields given replace earlier ones; fields left empty keep them."""
    answers = {**_plain(invitation.answers), **submission.answers}
    comment = submission.comment if submission.comment is not None else invitation.comment
    new = counters.contribution(campaign.survey, answers, comment)
    change = counters.delta(_plain(invitation.counted), new)
    actions = _answer_actions(campaign, answers, comment, submission.evidence, now)
    if invitation.ack_pk:
        actions.append(Invitation.ack_due_at.set(now + settings.ack_delay))
    condition = Invitation.answer_version == invitation.answer_version
    write(
        [
            update_op(Invitation, invitation.id, actions, condition),
            *(add_op(campaign.id, key, change) for key in (invitation.counter_keys or []) if change),
        ]
    )
    return Outcome("recorded", first=False, answers=answers, comment=comment)


def record_filtered(
    ref: InvitationRef, campaign: CampaignView, submission: Submission, reason: str, now: float
) -> bool:
    """Kept out of every score, kept on the invitation (nothing is lost), counted as filtered.

    Returns False when the invitation does not exist.
    """
    keys = counters.counter_keys(counters.week_period(now, campaign.timezone), campaign.segments, ref.segment_codes)
    try:
        write(
            [
                update_op(
                    Invitation,
                    ref.invitation_id,
                    [
                        Invitation.filtered.add(1),
                        Invitation.last_filtered_at.set(now),
                        Invitation.filtered_answers.set({"answers": submission.answers, "reason": reason}),
                    ],
                    Invitation.campaign_id == campaign.id,
                ),
                *(add_op(campaign.id, key, {"filtered": 1}) for key in keys),
            ]
        )
    except TransactionConflict:
        return False
    metrics.emit(metrics.SCANNER_CLICKS_FILTERED)
    return True


def record_trap(ref: InvitationRef, campaign: CampaignView, now: float) -> None:
    """A hidden link no person sees was fetched: mark the invitation, count a scanner click."""
    keys = counters.counter_keys(counters.week_period(now, campaign.timezone), campaign.segments, ref.segment_codes)
    try:
        write(
            [
                update_op(
                    Invitation,
                    ref.invitation_id,
                    [Invitation.trap_at.set(now), Invitation.trap_hits.add(1)],
                    Invitation.campaign_id == campaign.id,
                ),
                *(add_op(campaign.id, key, {"trap_hits": 1}) for key in keys),
            ]
        )
    except TransactionConflict:
        return
    metrics.emit(metrics.SCANNER_CLICKS_FILTERED)


def _plain(value: Any) -> dict:
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)
