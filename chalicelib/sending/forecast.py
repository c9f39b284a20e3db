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
from chalicelib.store import bind, one_page
from chalicelib.store.models import Contact, Invitation

PAGE = 100  # one BatchGetItem of invitations, suppressions and contacts each
WAITING = ("pending", "sending")
NOT_MAILED = "answered, not mailed"  # an answer posted through the v1 API has an invitation no send touches


@dataclass(frozen=True)
class Fate:
    """One recipient: `outcome` is "will get it", "sent", "skipped" (will be, or was), "failed" or NOT_MAILED;
    `reason` says why in delivery.py's words (`suppressed:bounced`, `fatigue:surveyed recently`, ...)."""

    email: str
    invitation_id: str
    outcome: str
    reason: str | None
    last_surveyed_at: float | None = None
    waiting: bool = False  # not sent, skipped or failed yet: the send will decide


def forecast_page(
    campaign: CampaignView, cursor: dict | None, limit: int, now: float, settings: Settings
) -> tuple[list[Fate], dict | None]:
    """A page of the campaign's recipients with their fate, and the cursor of the next page (None when none
    follows: one key more than the page is read in the same Query).

    Round trips: 1 Query of the keys-only campaign-invitations index, then 1 BatchGetItem each of the
    invitations, their suppressions and their contacts (`limit` <= 100 keeps each to one request).
    """
    bind()
    keys, after = one_page(Invitation.by_campaign.query(campaign.id, limit=limit + 1, last_evaluated_key=cursor), limit)
    ids = [k.id for k in keys]
    found = {i.id: i for i in Invitation.batch_get(ids)} if ids else {}
    invitations = [found[i] for i in ids if i in found]
    return fates(campaign, invitations, now, settings), after


def fates(campaign: CampaignView, invitations: list[Invitation], now: float, settings: Settings) -> list[Fate]:
    """What will happen to each of these invitations (one BatchGetItem each of suppressions and contacts)."""
    waiting = [i for i in invitations if i.send_state in WAITING]
    emails = sorted({i.email for i in waiting})
    suppressed = suppression.suppressed(emails) if emails else {}
    surveyed = {c.email: c for c in Contact.batch_get(emails)} if emails else {}
    cutoff = now - campaign.fatigue_days(settings.fatigue_days) * 86400
    result = []
    for invitation in invitations:
        contact = surveyed.get(invitation.email)
        last = float(contact.last_surveyed_at) if contact and contact.last_surveyed_at is not None else None
        if invitation.send_state == "sent":
            fate = ("sent", None)
        elif invitation.send_state in ("skipped", "failed"):
            fate = (invitation.send_state, invitation.send_error)
        elif invitation.send_state not in WAITING:  # an answer recorded through the v1 API: never mailed
            fate = (NOT_MAILED, None)
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
        result.append(Fate(invitation.email, invitation.id, fate[0], fate[1], last, invitation.send_state in WAITING))
    return result


SUMMARY_CHECKED = 2000  # a bigger campaign is judged from its first recipients, and the summary says so


@dataclass(frozen=True)
class Summary:
    """Of the `recipients` checked: how many were sent the survey, and of the `pending` (still to send) how many
    will get it and how many a send now would skip, by reason (`suppressed:bounced`, `fatigue:surveyed
    recently`). `complete` is False when the campaign has more recipients than were checked."""

    recipients: int
    sent: int
    pending: int
    will_get_it: int
    to_skip: dict[str, int]
    complete: bool


def summary(campaign: CampaignView, now: float, settings: Settings, limit: int = SUMMARY_CHECKED) -> Summary:
    """The forecast of the campaign's first `limit` recipients in counts, for the send page ("how many will
    get it"). Per 100 recipients: 1 Query page and 3 BatchGetItem requests.
    """
    total = sent = pending = will = 0
    to_skip: dict[str, int] = {}
    cursor = None
    while True:
        page, cursor = forecast_page(campaign, cursor, min(PAGE, limit - total), now, settings)
        for fate in page:
            total += 1
            sent += fate.outcome == "sent"
            pending += fate.waiting
            will += fate.outcome == "will get it"
            if fate.waiting and fate.outcome == "skipped":
                to_skip[fate.reason or fate.outcome] = to_skip.get(fate.reason or fate.outcome, 0) + 1
        if cursor is None or total >= limit:
            return Summary(total, sent, pending, will, to_skip, complete=cursor is None)
