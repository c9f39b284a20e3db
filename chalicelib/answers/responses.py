"""Recording answers: one response per invitation, in one single-item write.

A first answer and an edit are the same write, one round trip: an UpdateItem that sets only
the questions it answers, each a path in the `answers` map (created empty with the invitation),
on condition "not within a scanner window". It returns the invitation as it was, which tells a
first answer (no `answered_at` yet) from an edit. When the condition fails, DynamoDB hands back
the invitation as it was, and that decides the next step without a read: a person's answer
within a scanner window is held until they confirm it. Concurrent edits need no lock: DynamoDB
applies each one whole, and the last one wins. The write touches
the invitation and the keys-only `count-pending` index only; counters, the responses index
and the acknowledgement schedule follow through chalicelib.answers.counting, exactly once per change,
within a minute.

A held answer gets a one-time confirm token: a random nonce kept on the invitation, signed
with the signing secrets. The page that says "please confirm" carries it, and a press of its
button sends it back; with it the answer is recorded whatever the windows say, and the nonce
is gone. Holding again while a nonce is kept reuses it, so a replayed request cannot void the
token a person already has (rules: docs/scanners.md).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core import metrics
from chalicelib.core.config import Settings
from chalicelib.core.counters import category, plain
from chalicelib.core.signing import InvitationRef, new_id, sign, verify
from chalicelib.store import count_pending, table_name
from chalicelib.store.models import Invitation
from chalicelib.store.transact import ConditionFailed, update, update_raw

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 0.01  # the first retry waits up to 10 ms, doubling each time, at most BACKOFF_CAP
BACKOFF_CAP = 0.25
EVIDENCE = ("submit", "gesture")


@dataclass(frozen=True)
class Submission:
    answers: dict[str, Any]
    comment: str | None
    evidence: str
    confirm: str = ""  # the one-time token of a held answer, sent back by a press of the confirm button
    cleared: tuple[str, ...] = ()  # questions the person emptied on a form that showed their stored answers


@dataclass(frozen=True)
class Decision:
    """A CX lead accepting held activity as a person's answer: the listed activity's time (`held_at`,
    epoch seconds), which the write requires unchanged, and the loop history entry it appends
    (text and numbers only: {at, status, note, by})."""

    held_at: float
    entry: dict[str, Any]


@dataclass
class Outcome:
    status: str  # recorded | held | not_found | busy
    first: bool = False
    reason: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    comment: str | None = None
    confirm: str | None = None  # held: the one-time token that confirms this answer
    unsubscribed: bool = False  # the person had unsubscribed when they answered


def scanner_reason(sent_at: float | None, trap_at: float | None, now: float, settings: Settings) -> str | None:
    """Why activity at `now` looks like a security scanner's, or None (rules: docs/scanners.md)."""
    if sent_at is not None and now - sent_at < settings.scanner_delivery_window:
        return "delivery"
    if trap_at is not None and now - trap_at < settings.scanner_trap_window:
        return "trap"
    return None


def confirm_token(invitation_id: str, nonce: str, secrets: tuple[str, ...]) -> str:
    """`<nonce>.<signature>`: a copy of the table alone confirms nothing."""
    return f"{nonce}.{sign('confirm', f'{invitation_id}.{nonce}', secrets)}"


def read_confirm_token(token: str, invitation_id: str, secrets: tuple[str, ...]) -> str | None:
    """The nonce a confirm token names, or None if it is empty, malformed or forged."""
    nonce, _, signature = (token or "").partition(".")
    if not nonce or not signature or len(token) > 100:
        return None
    return nonce if verify("confirm", f"{invitation_id}.{nonce}", signature, secrets) else None


def headline(campaign: CampaignView, answers: dict[str, Any]) -> tuple[int | None, str | None]:
    """The score shown in lists and digests, and its NPS category when the survey has NPS."""
    question = campaign.survey.nps_question
    if question and question.id in answers:
        return answers[question.id], category(answers[question.id])
    first = campaign.survey.first
    value = answers.get(first.id)
    return (value if first.is_scale else None), None


def record(
    ref: InvitationRef, campaign: CampaignView, submission: Submission, now: float, settings: Settings
) -> Outcome:
    """Record a person's answer (evidence already checked); within a scanner window it is held instead,
    unless it carries the held answer's confirm token.

    Concurrent answers to one invitation converge: each failed condition hands back the item as it
    is now, and the next write is decided from it, after a jittered backoff from the second retry on.
    `busy` only if the invitation changed under every one of MAX_ATTEMPTS writes.
    """
    nonce = read_confirm_token(submission.confirm, ref.invitation_id, settings.require_signing_secrets())
    whole = False
    for attempt in range(MAX_ATTEMPTS):
        if attempt > 1:
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_SECONDS * 2 ** (attempt - 1))))
        try:
            return _write(ref, campaign, submission, now, settings, whole, nonce)
        except ConditionFailed as failed:
            old = failed.old
        if old is None:
            return Outcome("not_found")
        invitation = Invitation.from_raw_data(old)
        if invitation.campaign_id != ref.campaign_id:
            return Outcome("not_found")
        reason = scanner_reason(invitation.sent_at, invitation.trap_at, now, settings)
        if reason and not (nonce and invitation.held_token == nonce):
            if invitation.answered_at is not None and invitation.held is None and _unchanged(invitation, submission):
                return Outcome(
                    "recorded",
                    answers=plain(invitation.answers),
                    comment=invitation.comment,
                    unsubscribed=invitation.unsubscribed_at is not None,
                )
            return hold(ref, campaign, submission, reason, now, settings)
        whole = invitation.answers is None
    return Outcome("busy")


def _unchanged(invitation: Invitation, submission: Submission) -> bool:
    """A repeat of what is recorded, nothing held (a double press, a replayed request): nothing to hold."""
    answers = plain(invitation.answers)
    same_comment = submission.comment is None or (submission.comment or None) == invitation.comment
    if any(qid in answers for qid in submission.cleared):
        return False
    return same_comment and all(answers.get(qid) == value for qid, value in submission.answers.items())


def _write(
    ref: InvitationRef,
    campaign: CampaignView,
    submission: Submission,
    now: float,
    settings: Settings,
    whole: bool,
    nonce: str | None,
) -> Outcome:
    # the old item is read raw: three of its attributes are needed, and building the model costs 0.3 ms
    old = update_raw(answer_write(ref, campaign, submission, now, settings, whole, nonce)) or {}
    unsubscribed = Invitation.unsubscribed_at.attr_name in old
    if Invitation.answered_at.attr_name not in old:
        metrics.emit(metrics.ANSWERS_RECORDED, settings=settings)
        return Outcome(
            "recorded", first=True, answers=submission.answers, comment=submission.comment, unsubscribed=unsubscribed
        )
    stored = old.get(Invitation.answers.attr_name, {}).get("M")
    answers = {**(Invitation.answers.deserialize(stored) if stored else {}), **submission.answers}
    for qid in submission.cleared:
        answers.pop(qid, None)
    old_comment = old.get(Invitation.comment.attr_name, {}).get("S")
    comment = old_comment if submission.comment is None else submission.comment or None
    return Outcome("recorded", answers=answers, comment=comment, unsubscribed=unsubscribed)


def answer_write(
    ref: InvitationRef,
    campaign: CampaignView,
    submission: Submission,
    now: float,
    settings: Settings,
    whole: bool = False,
    nonce: str | None = None,
    decision: Decision | None = None,
) -> dict:
    """The UpdateItem of an answer, built by hand: this one write is the customer's latency budget,
    and PynamoDB's expression builder costs twenty times as long. Names come from the model; a test
    checks that PynamoDB reads back what its own actions would have written.

    A first answer and an edit are one write: it sets the questions answered, each a path in the
    `answers` map (fields left empty keep earlier ones, except the `cleared` ones, removed),
    `answered_at` if not set yet, and returns
    the item as it was (ALL_OLD): no `answered_at` there means a first answer. It clears a held
    answer: the person's own later answer replaces it. Condition: the campaign's invitation, its
    `answers` map there, and outside every scanner window, or confirming the held answer (`nonce`
    from its verified confirm token). `whole` is for an invitation made before the map was created
    with it: the write sets the whole map, on condition it is still absent.
    A CX lead's `decision` (chalicelib.answers.held) replaces the windows by "the held activity is
    still the one listed" and appends its entry to the loop history in the same write.
    """
    names: dict[str, str] = {}

    def name(attribute: Any) -> str:
        names[f"#{attribute.attr_name}"] = attribute.attr_name
        return f"#{attribute.attr_name}"

    values: dict[str, dict] = {
        ":evidence": {"S": submission.evidence},
        ":now": {"N": repr(now)},
        ":one": {"N": "1"},
        ":shard": {"S": count_pending.shard(ref.invitation_id)},
        ":campaign": {"S": campaign.id},
    }
    sets = [
        f"{name(Invitation.evidence)} = :evidence",
        f"{name(Invitation.updated_at)} = :now",
        f"{name(Invitation.count_pk)} = :shard",
    ]
    removes = [name(Invitation.held), name(Invitation.held_token), name(Invitation.held_campaign)]
    removes.append(name(Invitation.held_at))
    answered = name(Invitation.answered_at)
    sets.append(f"{answered} = if_not_exists({answered}, :now)")
    # PynamoDB's own serialization of the raw map: the values its actions would write (no boto3 on the answer path)
    answers = Invitation.answers.serialize(submission.answers)
    if whole:
        values[":answers"] = {"M": answers}
        sets.append(f"{name(Invitation.answers)} = :answers")
    else:
        for n, qid in enumerate(submission.answers):
            names[f"#q{n}"] = qid
            values[f":q{n}"] = answers[qid]
            sets.append(f"{name(Invitation.answers)}.#q{n} = :q{n}")
        for n, qid in enumerate(submission.cleared):
            names[f"#c{n}"] = qid
            removes.append(f"{name(Invitation.answers)}.#c{n}")
    score, category = headline(campaign, submission.answers)
    question = campaign.survey.nps_question or campaign.survey.first
    scored = question.id in submission.answers or question.id in submission.cleared
    for attribute, value, given in (
        (Invitation.comment, submission.comment or None, submission.comment is not None),
        (Invitation.score, score, scored),
        (Invitation.category, category, scored),
    ):
        if not given:
            continue
        if value is None:
            removes.append(name(attribute))
        else:
            sets.append(f"{name(attribute)} = :{attribute.attr_name}")
            values[f":{attribute.attr_name}"] = {"N": str(value)} if attribute is Invitation.score else {"S": value}
    if decision is not None:
        history = name(Invitation.loop_history)
        entry = {k: {"N": repr(v)} if isinstance(v, float | int) else {"S": str(v)} for k, v in decision.entry.items()}
        values[":entry"] = {"L": [{"M": entry}]}
        values[":none"] = {"L": []}
        sets.append(f"{history} = list_append(if_not_exists({history}, :none), :entry)")
    expression = f"SET {', '.join(sets)} ADD {name(Invitation.answer_version)} :one, {name(Invitation.rev)} :one"
    expression += f" REMOVE {', '.join(removes)}"
    if decision is not None:
        values[":held_at"] = {"N": repr(decision.held_at)}
        outside = f"{name(Invitation.held_at)} = :held_at"
    else:
        values[":delivery"] = {"N": repr(now - settings.scanner_delivery_window)}
        values[":trap"] = {"N": repr(now - settings.scanner_trap_window)}
        sent_at, trap_at = name(Invitation.sent_at), name(Invitation.trap_at)
        outside = (
            f"(attribute_not_exists({sent_at}) OR {sent_at} <= :delivery)"
            f" AND (attribute_not_exists({trap_at}) OR {trap_at} <= :trap)"
        )
        if nonce:
            values[":held"] = {"S": nonce}
            outside = f"(({outside}) OR {name(Invitation.held_token)} = :held)"
    state = (
        f"attribute_not_exists({name(Invitation.answers)})"
        if whole
        else f"attribute_exists({name(Invitation.answers)})"
    )
    return {
        "TableName": table_name(Invitation, settings),
        "Key": {"id": {"S": ref.invitation_id}},
        "UpdateExpression": expression,
        "ConditionExpression": f"{name(Invitation.campaign_id)} = :campaign AND {state} AND {outside}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_OLD",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def record_filtered(
    ref: InvitationRef, campaign: CampaignView, submission: Submission, reason: str, now: float
) -> bool:
    """A submission without a person's evidence (a script's `form.submit()`): kept out of every score,
    kept on the invitation as `filtered_answers` (nothing is lost), counted as filtered. It never
    touches a held answer, so a scanner cannot replace a person's.

    Returns False when the invitation does not exist.
    """
    actions = [
        Invitation.filtered.add(1),
        Invitation.last_filtered_at.set(now),
        Invitation.filtered_answers.set({"answers": submission.answers, "reason": reason}),
        Invitation.held_campaign.set(campaign.id),
        Invitation.held_at.set(now),
        *count_pending.changed(ref.invitation_id),
    ]
    try:
        update(Invitation, ref.invitation_id, actions, Invitation.campaign_id == campaign.id)
    except ConditionFailed:
        return False
    metrics.emit(metrics.SCANNER_CLICKS_FILTERED)
    return True


def hold(
    ref: InvitationRef, campaign: CampaignView, submission: Submission, reason: str, now: float, settings: Settings
) -> Outcome:
    """A person's answer within a scanner window: kept on the invitation with its reason, out of every
    score, until a press of the confirm button sends back the one-time token returned here.

    The invitation keeps `held` = {answers, comment, reason, evidence, at} (docs/data-model.md), the
    latest replacing an earlier one, and `held_token`, the nonce of the confirm token, kept while
    unconfirmed. `filtered` counts the presses; the counters count the invitation once.
    """
    held: dict[str, Any] = {"answers": submission.answers, "reason": reason, "evidence": submission.evidence, "at": now}
    if submission.comment:
        held["comment"] = submission.comment
    actions = [
        Invitation.filtered.add(1),
        Invitation.last_filtered_at.set(now),
        Invitation.held.set(held),
        Invitation.held_token.set(Invitation.held_token | new_id()),
        Invitation.held_campaign.set(campaign.id),
        Invitation.held_at.set(now),
        *count_pending.changed(ref.invitation_id),
    ]
    try:
        new = update(Invitation, ref.invitation_id, actions, Invitation.campaign_id == campaign.id)
    except ConditionFailed:
        return Outcome("not_found")
    metrics.emit(metrics.SCANNER_CLICKS_FILTERED)
    nonce = Invitation.from_raw_data(new or {}).held_token or ""
    token = confirm_token(ref.invitation_id, nonce, settings.require_signing_secrets())
    return Outcome("held", reason=reason, answers=submission.answers, comment=submission.comment, confirm=token)


def record_trap(ref: InvitationRef, campaign: CampaignView, now: float) -> None:
    """A hidden link no person sees was fetched: mark the invitation, count a scanner click."""
    actions = [Invitation.trap_at.set(now), Invitation.trap_hits.add(1), *count_pending.changed(ref.invitation_id)]
    try:
        update(Invitation, ref.invitation_id, actions, Invitation.campaign_id == campaign.id)
    except ConditionFailed:
        return
    metrics.emit(metrics.SCANNER_CLICKS_FILTERED)
