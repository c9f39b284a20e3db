"""Retention: a campaign's `retention_days` removes what people wrote and what their rows said, keeping counts.

Once a response is older than the campaign's `retention_days` (counted from its first answer), the daily
`apply_retention` schedule removes from it: the comment, the text of open (text) answers, a held answer's
comment, the submission a scanner kept apart, and every property that is not one of the campaign's
segments. Scores, choices, dates, the loop status and the segment properties stay, so every number,
trend, segment and digest is unchanged.

Counts stay exactly as they were without moving a counter: the removed comment's themes are kept on the
invitation (`comment_themes`), and a response counts as commented with those themes
(chalicelib.core.counters.answer_counts), so what the invitation contributes, and what
`rebuild-counters` recomputes, is what it counted before. The write is conditional on the invitation's
`rev`: a change landing meanwhile leaves it to the next run. A person who edits such a response later
(their link is valid for CLOSELOOP_INVITATION_TTL_DAYS) and writes a new comment has it counted as any
comment, and removed at the next run; an edit that clears the comment leaves the removed one counted.

Reads are a Query of the campaign-responses index per campaign with retention (responses answered
before the cutoff and not yet anonymised, filtered in DynamoDB), never a Scan.
"""

from __future__ import annotations

from chalicelib.campaigns.campaigns import CampaignView, view
from chalicelib.core.counters import plain
from chalicelib.core.themes import detect
from chalicelib.store import bind
from chalicelib.store.models import Campaign, Invitation
from chalicelib.store.transact import ConditionFailed, update

DAY = 86400
LIMIT = 5000  # responses anonymised per run; the rest wait for the next (daily) run


def apply_retention(now: float, limit: int = LIMIT) -> dict[str, int]:
    """Anonymise the responses past their campaign's retention; returns {"campaigns", "responses", "moved"}:
    campaigns with retention, responses anonymised, and responses that changed meanwhile (left to the next run)."""
    bind()
    outcome = {"campaigns": 0, "responses": 0, "moved": 0}
    for campaign in Campaign.all_campaigns.query("campaign"):
        days = (campaign.options or {}).get("retention_days")
        if not days:
            continue
        outcome["campaigns"] += 1
        found = view(campaign)
        due = Invitation.responses.query(
            campaign.id,
            Invitation.answered_at <= now - days * DAY,
            # not yet anonymised, or edited since (a new comment on an old response goes at the next run)
            filter_condition=Invitation.retained_at.does_not_exist() | (Invitation.updated_at > Invitation.retained_at),
        )
        for invitation in due:
            if outcome["responses"] >= limit:
                return outcome
            outcome["responses" if anonymise(invitation, found, now) else "moved"] += 1
    return outcome


def anonymise(invitation: Invitation, campaign: CampaignView, now: float) -> bool:
    """Remove the invitation's comment, text answers and non-segment properties, keeping what it counts for;
    False when it changed since it was read (nothing written)."""
    actions = [Invitation.retained_at.set(now), Invitation.filtered_answers.remove()]
    if invitation.comment:
        actions += [
            Invitation.comment.remove(),
            Invitation.comment_themes.set(sorted(detect(invitation.comment, campaign.themes))),
        ]
    answers = plain(invitation.answers)
    for qid, value in answers.items():
        question = campaign.survey.question(qid)
        if question is not None and question.type == "text" and value:
            answers[qid] = ""  # answered still, so it counts as before; what was written is gone
    actions.append(Invitation.answers.set(answers))
    properties = plain(invitation.properties)
    actions.append(Invitation.properties.set({k: v for k, v in properties.items() if k in campaign.segments}))
    held = plain(invitation.held)
    if "comment" in held:
        actions.append(Invitation.held.set({k: v for k, v in held.items() if k != "comment"}))
    try:
        update(Invitation, invitation.id, actions, Invitation.rev == invitation.rev)
    except ConditionFailed:
        return False
    return True
