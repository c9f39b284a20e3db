"""The demo campaign `make run` seeds, so a newcomer has real invitations to click."""

from __future__ import annotations

from chalicelib import api, campaigns, contacts
from chalicelib.errors import NotFound

DEMO_ID = "demo"
DEMO = {
    "name": "Closeloop demo",
    "segments": ["plan", "region"],
    "timezone": "Europe/Paris",
    "options": {"company": "Closeloop Demo", "subject": "How are we doing? One quick question"},
    "survey": {
        "questions": [
            {"id": "nps", "type": "nps", "text": "How likely are you to recommend Closeloop Demo to a friend?"},
            {
                "id": "focus",
                "type": "single_choice",
                "text": "What matters most to you?",
                "options": ["Price", "Support", "Features", "Reliability"],
            },
            {"id": "support", "type": "csat", "text": "How satisfied are you with our support?"},
        ]
    },
}
RECIPIENTS = [
    {"email": "ada@example.com", "properties": {"first_name": "Ada", "plan": "pro", "region": "eu"}},
    {"email": "grace@example.com", "properties": {"first_name": "Grace", "plan": "free", "region": "us"}},
    {"email": "alan@example.com", "properties": {"first_name": "Alan", "plan": "pro", "region": "us"}},
    {"email": "katherine@example.com", "properties": {"first_name": "Katherine", "plan": "enterprise", "region": "eu"}},
]


def seed(now: float, send: bool = True) -> dict | None:
    """The recipients report of a new demo campaign, or None if it already exists."""
    try:
        campaigns.load_campaign(DEMO_ID)
        return None
    except NotFound:
        pass
    campaign = campaigns.create_campaign(campaigns.parse_campaign(DEMO), now, DEMO_ID)
    batch = contacts.parse_recipients(enumerate(RECIPIENTS))
    return api.add_recipients(campaign, batch, now, send)
