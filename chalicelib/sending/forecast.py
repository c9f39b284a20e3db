"""Before sending: who of a campaign's recipients will get the survey, and who will be skipped and why.

The same rules as delivery.py applies at send time, read without changing anything: suppressed
addresses (unsubscribed, bounced, complained), survey fatigue (surveyed by another invitation within
the campaign's `fatigue_days`, else the setting), and invitations already skipped or failed.
A forecast, not a promise: an address can be suppressed or surveyed between now and its send.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.campaigns import suppression
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core.config import Settings
from chalicelib.store import bind
from chalicelib.store.models import Contact, Invitation

PAGE = 100  # one BatchGetItem of invitations, suppressions and contacts each


@dataclass(frozen=True)
class Fate:
    """One recipient: `outcome` is "will get it", "sent", "skipped" (will be, or was) or "failed";
    `reason` says why in delivery.py's words (`suppressed:bounced`, `fatigue:surveyed recently`, ...)."""

    email: str
    invitation_id: str
    outcome: str
    reason: str | None
    last_surveyed_at: float | None = None


def fatigue_days(campaign: CampaignView, settings: Settings) -> int:
    """The campaign's own fatigue window in days (option `fatigue_days`), else the stage's."""
    own = campaign.options.get("fatigue_days")
    return settings.fatigue_days if own is None else int(own)


def forecast_page(
    campaign: CampaignView, cursor: dict | None, limit: int, now: float, settings: Settings
) -> tuple[list[Fate], dict | None]:
    """A page of the campaign's recipients with their fate, and the cursor of the next page (None: last).

    Round trips: 1 Query of the keys-only campaign-invitations index, then 1 BatchGetItem each of the
    invitations, their suppressions and their contacts (`limit` <= 100 keeps each to one request).
    """
    bind()
    keys = Invitation.by_campaign.query(campaign.id, limit=limit, last_evaluated_key=cursor)
    ids = [k.id for k in keys]
    found = {i.id: i for i in Invitation.batch_get(ids)} if ids else {}
    invitations = [found[i] for i in ids if i in found]
    return fates(campaign, invitations, now, settings), keys.last_evaluated_key


def fates(campaign: CampaignView, invitations: list[Invitation], now: float, settings: Settings) -> list[Fate]:
    """What will happen to each of these invitations (one BatchGetItem each of suppressions and contacts)."""
    waiting = [i for i in invitations if i.send_state in ("pending", "sending")]
    emails = sorted({i.email for i in waiting})
    suppressed = suppression.suppressed(emails) if emails else {}
    surveyed = {c.email: c for c in Contact.batch_get(emails)} if emails else {}
    cutoff = now - fatigue_days(campaign, settings) * 86400
    result = []
    for invitation in invitations:
        contact = surveyed.get(invitation.email)
        last = float(contact.last_surveyed_at) if contact and contact.last_surveyed_at is not None else None
        if invitation.send_state == "sent":
            fate = ("sent", None)
        elif invitation.send_state in ("skipped", "failed"):
            fate = (invitation.send_state, invitation.send_error)
        elif invitation.email in suppressed:
            fate = ("skipped", f"suppressed:{suppressed[invitation.email]}")
        elif (
            last is not None
            and last >= cutoff
            and contact is not None
            and contact.last_survey_invitation != invitation.id
        ):
            fate = ("skipped", "fatigue:surveyed recently")
        else:
            fate = ("will get it", None)
        result.append(Fate(invitation.email, invitation.id, fate[0], fate[1], last))
    return result


@dataclass(frozen=True)
class Summary:
    """How many recipients in all, how many will get the survey, and the others by reason."""

    recipients: int
    will_get_it: int
    sent: int
    skipped: dict[str, int]


def summary(campaign: CampaignView, now: float, settings: Settings) -> Summary:
    """The whole campaign's forecast in counts, for the send page ("how many will get it").

    Reads every invitation: per 100 recipients, 1 Query page and 3 BatchGetItem requests.
    """
    total = will = sent = 0
    skipped: dict[str, int] = {}
    cursor = None
    while True:
        page, cursor = forecast_page(campaign, cursor, PAGE, now, settings)
        for fate in page:
            total += 1
            if fate.outcome == "will get it":
                will += 1
            elif fate.outcome == "sent":
                sent += 1
            else:
                key = fate.reason or fate.outcome
                skipped[key] = skipped.get(key, 0) + 1
        if cursor is None:
            return Summary(total, will, sent, skipped)
