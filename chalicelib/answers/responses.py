"""Recording answers: one response per invitation, in one single-item write.

The first answer is written optimistically in one round trip: an UpdateItem whose condition
says "not answered yet, not within a scanner window". When the condition fails, DynamoDB
hands back the invitation as it was, and that decides the next step without a read: a
scanner's activity is filtered, an edit is written under an optimistic lock on
`answer_version`. The write touches the invitation and the keys-only `count-pending` index
only; counters, the responses index and the acknowledgement schedule follow through
chalicelib.answers.counting, exactly once per change, within a minute.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core import metrics, nps
from chalicelib.core.config import Settings
from chalicelib.core.counters import plain
from chalicelib.core.signing import InvitationRef
from chalicelib.store import count_pending, table_name
from chalicelib.store.models import Invitation
from chalicelib.store.transact import ConditionFailed, update, update_raw

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
    except ConditionFailed as failed:
        old = failed.old
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
            return _edit(invitation, campaign, submission, now)
        except ConditionFailed as failed:
            old = failed.old
    raise RuntimeError(f"invitation {ref.invitation_id} kept changing under {MAX_ATTEMPTS} attempts")


def _answer_actions(
    invitation_id: str, campaign: CampaignView, answers: dict, comment: str | None, evidence: str, now: float
) -> list:
    score, category = headline(campaign, answers)
    return [
        Invitation.answers.set(answers),
        Invitation.comment.set(comment) if comment else Invitation.comment.remove(),
        Invitation.score.set(score) if score is not None else Invitation.score.remove(),
        Invitation.category.set(category) if category else Invitation.category.remove(),
        Invitation.evidence.set(evidence),
        Invitation.updated_at.set(now),
        Invitation.answer_version.add(1),
        *count_pending.changed(invitation_id),
    ]


def _first_answer(
    ref: InvitationRef, campaign: CampaignView, submission: Submission, now: float, settings: Settings
) -> Outcome:
    update_raw(first_answer_write(ref, campaign, submission, now, settings))
    metrics.emit(metrics.ANSWERS_RECORDED, settings=settings)
    return Outcome("recorded", first=True, answers=submission.answers, comment=submission.comment)


def first_answer_write(
    ref: InvitationRef, campaign: CampaignView, submission: Submission, now: float, settings: Settings
) -> dict:
    """The UpdateItem of a first answer, built by hand: this one write is the customer's latency budget,
    and PynamoDB's expression builder costs twenty times as long. Names come from the model; a test
    checks that PynamoDB reads back what its own actions would have written."""
    score, category = headline(campaign, submission.answers)
    names = {f"#{a.attr_name}": a.attr_name for a in _FIRST_ANSWER_ATTRIBUTES}
    values: dict[str, dict] = {
        ":answers": _serializer().serialize(submission.answers),
        ":evidence": {"S": submission.evidence},
        ":now": {"N": repr(now)},
        ":one": {"N": "1"},
        ":shard": {"S": count_pending.shard(ref.invitation_id)},
        ":campaign": {"S": campaign.id},
        ":delivery": {"N": repr(now - settings.scanner_delivery_window)},
        ":trap": {"N": repr(now - settings.scanner_trap_window)},
    }
    sets = [
        "#answers = :answers",
        "#evidence = :evidence",
        "#updated_at = :now",
        "#answered_at = :now",
        "#count_pk = :shard",
    ]
    removes = []
    for attr, value in (("comment", submission.comment), ("score", score), ("category", category)):
        if value is None:
            removes.append(f"#{attr}")
        else:
            sets.append(f"#{attr} = :{attr}")
            values[f":{attr}"] = {"N": str(value)} if attr == "score" else {"S": value}
    expression = f"SET {', '.join(sets)} ADD #answer_version :one, #rev :one"
    if removes:
        expression += f" REMOVE {', '.join(removes)}"
    return {
        "TableName": table_name(Invitation, settings),
        "Key": {"id": {"S": ref.invitation_id}},
        "UpdateExpression": expression,
        "ConditionExpression": "#campaign_id = :campaign AND attribute_not_exists(#answered_at)"
        " AND (attribute_not_exists(#sent_at) OR #sent_at <= :delivery)"
        " AND (attribute_not_exists(#trap_at) OR #trap_at <= :trap)",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


_FIRST_ANSWER_ATTRIBUTES = (
    Invitation.answers,
    Invitation.comment,
    Invitation.score,
    Invitation.category,
    Invitation.evidence,
    Invitation.updated_at,
    Invitation.answered_at,
    Invitation.answer_version,
    Invitation.rev,
    Invitation.count_pk,
    Invitation.campaign_id,
    Invitation.sent_at,
    Invitation.trap_at,
)


@functools.cache
def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _edit(invitation: Invitation, campaign: CampaignView, submission: Submission, now: float) -> Outcome:
    """Fields given replace earlier ones; fields left empty keep them."""
    answers = {**plain(invitation.answers), **submission.answers}
    comment = submission.comment if submission.comment is not None else invitation.comment
    actions = _answer_actions(invitation.id, campaign, answers, comment, submission.evidence, now)
    update(Invitation, invitation.id, actions, Invitation.answer_version == invitation.answer_version)
    return Outcome("recorded", first=False, answers=answers, comment=comment)


def record_filtered(
    ref: InvitationRef, campaign: CampaignView, submission: Submission, reason: str, now: float
) -> bool:
    """Kept out of every score, kept on the invitation (nothing is lost), counted as filtered.

    Returns False when the invitation does not exist.
    """
    actions = [
        Invitation.filtered.add(1),
        Invitation.last_filtered_at.set(now),
        Invitation.filtered_answers.set({"answers": submission.answers, "reason": reason}),
        *count_pending.changed(ref.invitation_id),
    ]
    try:
        update(Invitation, ref.invitation_id, actions, Invitation.campaign_id == campaign.id)
    except ConditionFailed:
        return False
    metrics.emit(metrics.SCANNER_CLICKS_FILTERED)
    return True


def record_trap(ref: InvitationRef, campaign: CampaignView, now: float) -> None:
    """A hidden link no person sees was fetched: mark the invitation, count a scanner click."""
    actions = [Invitation.trap_at.set(now), Invitation.trap_hits.add(1), *count_pending.changed(ref.invitation_id)]
    try:
        update(Invitation, ref.invitation_id, actions, Invitation.campaign_id == campaign.id)
    except ConditionFailed:
        return
    metrics.emit(metrics.SCANNER_CLICKS_FILTERED)
