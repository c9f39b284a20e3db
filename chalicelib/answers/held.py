"""Held answers: the activity the scanner rules kept out of the scores, for a CX lead to decide.

Two kinds wait on an invitation (docs/scanners.md): a person's answer caught by a scanner
window (`held`, reason `trap` or `delivery`), and a submission without a person's evidence
(`filtered_answers`, reason `no-evidence`). Either puts the invitation in the sparse
`campaign-held` index (`held_campaign`, `held_at`) until the person's own answer replaces it or
a CX lead decides:

* **accept**: the activity becomes the person's answer through the same write a confirmed
  answer makes (`responses.answer_write`), so the counting applier counts it exactly once, and
  acknowledges and alerts like any other answer. The write's condition is "the activity is still
  the one listed" (`held_at` unchanged, inside DynamoDB), so a second accept, or an accept after
  the person confirmed it themselves, changes nothing and counts nothing.
* **dismiss**: the activity stays out of the scores for good (a held answer's confirm token
  stops working; the person can still answer outside the windows).

Each decision appends who, when and what to the invitation's loop history in the same write.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from chalicelib.answers.responses import Decision, Submission, answer_write
from chalicelib.campaigns.campaigns import CampaignView, get_campaign
from chalicelib.core import metrics
from chalicelib.core.config import Settings
from chalicelib.core.counters import plain
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.signing import InvitationRef
from chalicelib.store import bind, count_pending, one_page
from chalicelib.store.models import Invitation
from chalicelib.store.transact import ConditionFailed, update, update_raw

ACCEPTED, DISMISSED = "accepted", "dismissed"
EVIDENCE = "accepted"
"""The `evidence` of an accepted answer: a CX lead judged it a person's, not a press on the page."""

REASONS = {
    "delivery": "answered within seconds of the invitation's delivery, when scanners open links",
    "trap": "answered right after a scanner fetched the hidden link in the email",
    "no-evidence": "submitted without a press of Submit, as a script does",
}
"""Each scanner rule's reason (responses.scanner_reason, survey_pages) in words a CX lead can judge."""


@dataclass(frozen=True)
class HeldAnswer:
    """One invitation's activity waiting for a decision.

    `kind` is "held" (a person's answer caught by a window) or "filtered" (no evidence);
    `at` the latest press (epoch seconds); `presses` every press held back on this invitation;
    `answered` whether the invitation has an answer already (accepting then edits it).
    """

    invitation_id: str
    campaign_id: str
    email: str
    kind: str
    reason: str
    at: float
    answers: dict[str, Any]
    comment: str | None
    presses: int
    answered: bool
    properties: dict[str, Any]

    @property
    def reason_text(self) -> str:
        return REASONS.get(self.reason, self.reason)

    @property
    def can_accept(self) -> bool:
        """False for a submission without evidence on an answered invitation: it cannot replace the person's
        own answer (accept refuses it), so it can only be dismissed."""
        return not (self.kind == "filtered" and self.answered)

    @property
    def actions(self) -> list[str]:
        """The decisions `accept` and `dismiss` can make on it: ["accept", "dismiss"] or ["dismiss"]."""
        return ["accept", "dismiss"] if self.can_accept else ["dismiss"]

    @property
    def comment_apart(self) -> str | None:
        """The comment when `answers` does not hold it already: a survey's text question is its comment box,
        so its answer is both, and a page shows it once."""
        return self.comment if self.comment and self.comment not in self.answers.values() else None

    def to_json(self) -> dict[str, Any]:
        """The admin API's shape: every field, the reason in words as `reason_text`, and the possible `actions`."""
        return {**asdict(self), "reason_text": self.reason_text, "actions": self.actions}


HELD_JSON: dict[str, Any] = {
    "type": "object",
    "description": "scanner activity waiting for a decision (HeldAnswer.to_json)",
    "required": ["invitation_id", "campaign_id", "email", "kind", "reason", "reason_text", "at", "actions"],
    "properties": {
        "invitation_id": {"type": "string"},
        "campaign_id": {"type": "string"},
        "email": {"type": "string"},
        "kind": {"enum": ["held", "filtered"]},
        "reason": {"type": "string", "enum": list(REASONS)},
        "reason_text": {"type": "string"},
        "at": {"type": "number", "description": "the latest press, epoch seconds"},
        "answers": {"type": ["object", "null"]},
        "comment": {"type": ["string", "null"]},
        "presses": {"type": "integer"},
        "answered": {"type": "boolean"},
        "properties": {"type": "object"},
        "actions": {
            "type": "array",
            "items": {"enum": ["accept", "dismiss"]},
            "description": "the decisions possible: a submission without evidence on an answered invitation "
            "can only be dismissed",
        },
    },
}
"""What the admin API returns for one held answer: HeldAnswer.to_json's shape."""


def held_of(invitation: Invitation) -> HeldAnswer | None:
    """The activity an invitation holds for a decision, or None (nothing listed)."""
    if invitation.held_at is None:
        return None
    kept = plain(invitation.held) or plain(invitation.filtered_answers)
    return HeldAnswer(
        invitation_id=invitation.id,
        campaign_id=invitation.campaign_id,
        email=invitation.email,
        kind="held" if invitation.held is not None else "filtered",
        reason=str(kept.get("reason", "")),
        at=float(invitation.held_at),
        answers=plain(kept.get("answers")),
        comment=kept.get("comment"),
        presses=int(invitation.filtered or 0),
        answered=invitation.answered_at is not None,
        properties=plain(invitation.properties),
    )


def list_held(campaign_id: str, limit: int, cursor: dict | None = None) -> tuple[list[HeldAnswer], dict | None]:
    """A campaign's held activity, newest first: one page of the sparse `campaign-held` index.

    Returns (at most `limit` entries, the key to read the next page from, or None when none is left).
    """
    bind()
    invitations, after = one_page(
        Invitation.held_answers.query(
            campaign_id, scan_index_forward=False, limit=limit + 1, last_evaluated_key=cursor
        ),
        limit,
    )
    return [entry for invitation in invitations if (entry := held_of(invitation)) is not None], after


def list_every_held(limit: int, cursor: dict | None = None) -> tuple[list[HeldAnswer], dict | None]:
    """Every campaign's held activity, one page of a Scan of the sparse `campaign-held` index.

    The index holds only what waits for a decision, so one request reads a page however many
    campaigns there are; its order is the index's (a campaign's entries together, not newest first).
    Returns (at most `limit` entries, the key to read the next page from, or None when none is left):
    one item more than shown is read, so a full last page offers no empty next one.
    """
    bind()
    invitations, after = one_page(Invitation.held_answers.scan(page_size=limit + 1, last_evaluated_key=cursor), limit)
    return [entry for invitation in invitations if (entry := held_of(invitation)) is not None], after


def _load(invitation_id: str) -> tuple[Invitation, HeldAnswer, CampaignView]:
    bind()
    try:
        invitation = Invitation.get(invitation_id, consistent_read=True)
    except Invitation.DoesNotExist:
        raise NotFound(f"No invitation {invitation_id!r}.", "invitation_id") from None
    entry = held_of(invitation)
    campaign = get_campaign(invitation.campaign_id)
    if entry is None or campaign is None:
        raise _decided(invitation_id)
    return invitation, entry, campaign


def _decided(invitation_id: str) -> Conflict:
    return Conflict(
        "Nothing is held on this invitation any more, or it changed: it was accepted, dismissed, replaced by "
        "the person's own answer, or pressed again. Reload the list.",
        "invitation_id",
    )


def history_entry(status: str, note: str, by: str, now: float) -> dict[str, Any]:
    """A loop history entry, the shape chalicelib.loop.followups writes: {at, status, note, by}."""
    return {"at": now, "status": status, "note": note[:2000], "by": by[:200]}


def accept(invitation_id: str, by: str, now: float, settings: Settings) -> HeldAnswer:
    """Record the held activity as the person's answer, counted exactly once; returns what was accepted.

    `by` names the CX lead for the loop history. A first answer gets `answered_at` = `now`, so its
    acknowledgement and any case follow from the decision. Raises NotFound for an unknown
    invitation, and Conflict when nothing is held any more (decided already, or the person's own
    answer replaced it) or when a submission without evidence would replace a person's answer.
    """
    invitation, entry, campaign = _load(invitation_id)
    if not entry.can_accept:
        raise Conflict(
            "This invitation has the person's own answer; a submission without evidence cannot replace it. "
            "Dismiss it instead.",
            "invitation_id",
        )
    note = f"Accepted the held answer as the person's ({entry.reason_text})."
    decision = Decision(entry.at, history_entry(ACCEPTED, note, by, now))
    ref = InvitationRef(invitation.campaign_id, invitation.id, int(invitation.expires_at))
    submission = Submission(answers=entry.answers, comment=entry.comment, evidence=EVIDENCE)
    whole = invitation.answers is None  # an invitation made before the `answers` map was created with it
    try:
        old = update_raw(answer_write(ref, campaign, submission, now, settings, whole, decision=decision)) or {}
    except ConditionFailed:
        raise _decided(invitation_id) from None
    if Invitation.from_raw_data(old).answered_at is None:
        metrics.emit(metrics.ANSWERS_RECORDED, settings=settings)
    return entry


def dismiss(invitation_id: str, by: str, now: float) -> HeldAnswer:
    """Keep the held activity out of the scores for good; returns what was dismissed.

    The held answer and its confirm token go (a submission without evidence stays in
    `filtered_answers`: nothing is lost); the counters stop counting it as awaiting confirmation.
    Raises NotFound for an unknown invitation, Conflict when nothing is held any more.
    """
    _, entry, _ = _load(invitation_id)
    note = f"Dismissed the held activity as a scanner's ({entry.reason_text})."
    actions = [
        Invitation.held.remove(),
        Invitation.held_token.remove(),
        Invitation.held_campaign.remove(),
        Invitation.held_at.remove(),
        Invitation.loop_history.set((Invitation.loop_history | []).append([history_entry(DISMISSED, note, by, now)])),
        *count_pending.changed(invitation_id),
    ]
    try:
        update(Invitation, invitation_id, actions, Invitation.held_at == entry.at)
    except ConditionFailed:
        raise _decided(invitation_id) from None
    return entry
