"""The demo campaign `make run` seeds, so a newcomer has real invitations to click."""

from __future__ import annotations

from chalicelib.campaigns import campaigns
from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotFound
from chalicelib.insight import digest_recipients
from chalicelib.queue import get_queue
from chalicelib.sending import imports

DEMO_ID = "demo"
DEMO = {
    "name": "Closeloop demo",
    "segments": ["plan", "region"],
    "timezone": "Europe/Paris",
    "options": {
        "company": "Closeloop Demo",
        "subject": "{{ first_name | default('Hello') }}, how are we doing?",
        "intro": "Hi {{ first_name | default('there') }}, we read every answer and reply to each one.",
        "reminders": [3],
        "reply_to": "cx@closeloop-demo.example",
        "follow_up_name": "Sam from Customer Care",
        "review_url": "https://example.com/reviews/closeloop-demo",
        "themes": {
            "pricing": ["price", "pricing", "expensive", "cost", "invoice"],
            "support": ["support", "help", "answer", "ticket"],
            "onboarding": ["onboarding", "setup", "getting started"],
            "bugs": ["bug", "crash", "error", "broken"],
        },
    },
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
    """The import report of a new demo campaign (sending through the work queue), or None if it exists."""
    try:
        campaigns.load_campaign(DEMO_ID)
        return None
    except NotFound:
        pass
    campaign = campaigns.create_campaign(campaigns.parse_campaign(DEMO), now, DEMO_ID)
    report = imports.start(campaign, list(enumerate(RECIPIENTS)), "recipients", now, get_settings(), get_queue())
    digest_recipients.set_recipients(DEMO_ID, {"recipients": [DEMO["options"]["reply_to"]]}, now)
    if send:
        report["campaign_status"] = campaigns.start_sending(DEMO_ID, now, None, get_queue())
    return report
