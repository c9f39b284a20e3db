"""How many of a campaign's recipients a send would reach, counted before it goes (the send page).

The send itself decides: `delivery.send_one` checks the suppression list and survey fatigue at the
moment of each send. This applies the same two rules to the pending invitations now, so a CX lead
sees what would be skipped before pressing Send; a big campaign is judged from its first
AUDIENCE_CHECKED invitations (three BatchGetItem calls per 100), and says so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from chalicelib.campaigns import suppression
from chalicelib.store import bind
from chalicelib.store.models import Contact, Invitation

DAY = 86400
AUDIENCE_CHECKED = 2000


@dataclass(frozen=True)
class Audience:
    """Of the `checked` invitations, those still `pending`, and among them the ones a send now would skip."""

    checked: int
    pending: int
    suppressed: dict[str, int] = field(default_factory=dict)  # reason (bounced, unsubscribed...) to how many
    recently_surveyed: int = 0  # surveyed by any campaign within the fatigue window
    complete: bool = True  # False: the campaign has more invitations than were checked

    @property
    def reached(self) -> int:
        """Pending invitations a send now would deliver."""
        return self.pending - sum(self.suppressed.values()) - self.recently_surveyed


def audience(campaign_id: str, now: float, fatigue_days: int, limit: int = AUDIENCE_CHECKED) -> Audience:
    """The campaign's first `limit` invitations against the suppression list and the fatigue window
    (`fatigue_days`, as `contacts.claim_survey` applies it at `now`, epoch seconds)."""
    bind()
    ids: list[str] = []
    complete = True
    for key in Invitation.by_campaign.query(campaign_id):
        if len(ids) >= limit:
            complete = False
            break
        ids.append(key.id)
    found = Invitation.batch_get(ids, attributes_to_get=["id", "email", "send_state"]) if ids else []
    pending = [(invitation.email, invitation.id) for invitation in found if invitation.send_state == "pending"]
    emails = sorted({email for email, _ in pending})
    blocked = suppression.suppressed(emails) if emails else {}
    others = [email for email in emails if email not in blocked]
    contacts = (
        Contact.batch_get(others, attributes_to_get=["email", "last_surveyed_at", "last_survey_invitation"])
        if others
        else []
    )
    cutoff = now - fatigue_days * DAY
    surveyed = {c.email: c.last_survey_invitation for c in contacts if (c.last_surveyed_at or 0) >= cutoff}
    return Audience(
        checked=len(ids),
        pending=len(pending),
        suppressed=dict(Counter(blocked[email] for email, _ in pending if email in blocked)),
        recently_surveyed=sum(1 for email, ident in pending if email in surveyed and surveyed[email] != ident),
        complete=complete,
    )
