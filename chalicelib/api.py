"""Admin API use cases: each takes parsed JSON and returns (status, JSON body)."""

from __future__ import annotations

from typing import Any

from chalicelib import campaigns, contacts, invitations
from chalicelib.config import get_settings
from chalicelib.errors import ValidationError
from chalicelib.store.counts import read as read_counts

MAX_RECIPIENTS_PER_REQUEST = 1000
SEND_INLINE = 50


def create_campaign(body: Any, now: float) -> tuple[int, dict]:
    """Create a campaign with its recipients; with `"send": true`, start sending at once."""
    fields = campaigns.parse_campaign(body)
    rows = body.get("recipients", [])
    if not isinstance(rows, list):
        raise ValidationError("recipients is a list of {email, properties} objects.", "recipients")
    if len(rows) > MAX_RECIPIENTS_PER_REQUEST:
        raise ValidationError(
            f"At most {MAX_RECIPIENTS_PER_REQUEST} recipients per request; add more in further requests.",
            "recipients",
        )
    send = body.get("send", False)
    if not isinstance(send, bool):
        raise ValidationError("send is true or false.", "send")
    batch = contacts.parse_recipients(enumerate(rows))
    campaign = campaigns.create_campaign(fields, now)
    report = add_recipients(campaign, batch, now, send)
    return 201, {"campaign": _campaign_json(campaign.id), "recipients": report}


def add_recipients(campaign: campaigns.CampaignView, batch: contacts.RecipientBatch, now: float, send: bool) -> dict:
    settings = get_settings()
    for recipient in batch.recipients:
        contacts.upsert(recipient, now)
    created, existing = invitations.create_invitations(campaign, batch.recipients, now, settings, due=send)
    report: dict[str, Any] = {
        "accepted": len(batch.recipients),
        "invited": len(created),
        "already_invited": existing,
        "duplicates_merged": batch.duplicates,
        "rejected": [r.to_json() for r in batch.rejected],
    }
    if send:
        campaigns.mark_sent(campaign.id, now)
        outcomes = {}
        for invitation_id in created[:SEND_INLINE]:
            outcome = invitations.send_invitation(invitation_id, now, settings)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        report["sent_now"] = outcomes
        report["queued"] = max(0, len(created) - SEND_INLINE)
    return report


def get_campaign(campaign_id: str) -> tuple[int, dict]:
    return 200, {"campaign": _campaign_json(campaign_id)}


def send_campaign(campaign_id: str, now: float) -> tuple[int, dict]:
    """Make every unsent invitation of the campaign due now; the send job delivers them."""
    campaigns.load_campaign(campaign_id)
    due = invitations.schedule_all(campaign_id, now)
    campaigns.mark_sent(campaign_id, now)
    return 202, {"campaign": _campaign_json(campaign_id), "queued": due}


def _campaign_json(campaign_id: str) -> dict:
    campaign = campaigns.view(campaigns.load_campaign(campaign_id))
    totals: dict[str, int] = {}
    for key, counts in read_counts(campaign_id, "W#").items():
        if key.endswith("#_"):
            for name, value in counts.items():
                if not name.startswith("q."):
                    totals[name] = totals.get(name, 0) + value
    return {**campaign.to_json(), "totals": totals}
