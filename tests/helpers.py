"""Builders shared by tests: a sent campaign, its links, a filled form."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from chalicelib.answers import counting
from chalicelib.campaigns import campaigns
from chalicelib.core.config import get_settings
from chalicelib.insight import stats
from chalicelib.queue import get_queue
from chalicelib.runtime import work
from chalicelib.sending import imports
from chalicelib.store.models import Invitation
from tests.conftest import ROOT, html_links, local_path, read_outbox

NPS_SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
        {"id": "reason", "type": "single_choice", "text": "Why?", "options": ["Price", "Support", "Product"]},
    ]
}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Sent:
    campaign: campaigns.CampaignView
    pages: dict[str, str]  # email -> path of the answer page
    messages: list


def drain(clock=time.time) -> int:
    """Deliver every queued work message to the work handler, as the queue would, with a chosen clock."""
    return get_queue().drain(lambda event, _context: [work.handle(r, clock) for r in event["Records"]])


def launch(outbox, recipients=None, survey=None, segments=("plan",), sent_ago: float = 3600, **extra) -> Sent:
    """A campaign sent `sent_ago` seconds ago (outside the scanner delivery window by default)."""
    recipients = recipients or [{"email": "ada@example.com", "properties": {"plan": "pro"}}]
    body = {"name": "Test", "survey": survey or NPS_SURVEY, "segments": list(segments), **extra}
    now = time.time()
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), now)
    imports.start(campaign, list(enumerate(recipients)), "recipients", now, get_settings(), get_queue())
    campaigns.start_sending(campaign.id, now - sent_ago, None, get_queue())
    drain(lambda: time.time() - sent_ago)
    messages = read_outbox(outbox)
    pages = {}
    for message in messages:
        links = html_links(message)
        pages[str(message["To"])] = local_path(
            next(u for u in links if "/s/" in u and "?a=" not in u and not u.endswith("/t"))  # the web link
        )
    return Sent(campaigns.get_view(campaign.id), pages, messages)


def csrf_of(body: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', body).group(1)


def open_page(client, path: str) -> tuple[int, str]:
    response = client.http.get(path)
    return response.status_code, response.body.decode()


def submit(client, path: str, fields: dict, csrf: str | None = None, headers: dict | None = None):
    if csrf is None:
        csrf = csrf_of(open_page(client, path)[1])
    form = {"csrf": csrf, "evidence": "submit", **fields}
    return client.http.post(path, body=urlencode(form, doseq=True), headers={**FORM_HEADERS, **(headers or {})})


def invitation_of(sent: Sent, email: str) -> Invitation:
    from chalicelib.sending.invitations import invitation_id

    return Invitation.get(invitation_id(sent.campaign.id, email), consistent_read=True)


def totals(campaign_id: str, segment: str = "_") -> dict[str, int]:
    """Counts summed over weeks for one segment key (`_` for all, or e.g. `plan=pro`), once applied."""
    counting.apply_pending()
    return stats.totals(campaign_id, segment)


def sqs_record(message: dict, receipt: str = "receipt-1") -> dict:
    """One SQS record as Lambda's event source delivers it."""
    import json

    return {
        "messageId": receipt,
        "receiptHandle": receipt,
        "body": json.dumps(message),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:closeloop-work",
    }


def sns_event(message: dict) -> dict:
    """An SNS notification as Lambda receives it (SES events are published to SNS)."""
    import json

    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:closeloop-ses-events:1",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "m-1",
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:closeloop-ses-events",
                    "Subject": None,
                    "Message": json.dumps(message),
                    "Timestamp": "2026-11-24T10:00:00.000Z",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def create_campaign(recipients, survey=None, segments=("plan",), **extra) -> campaigns.CampaignView:
    """A draft campaign with its recipients imported (nothing sent yet)."""
    body = {"name": "Test", "survey": survey or NPS_SURVEY, "segments": list(segments), **extra}
    now = time.time()
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), now)
    imports.start(campaign, list(enumerate(recipients)), "recipients", now, get_settings(), get_queue())
    drain()
    return campaign


def people(n: int, prefix: str = "p") -> list[dict]:
    return [{"email": f"{prefix}{i}@example.com", "properties": {"plan": ("pro", "free")[i % 2]}} for i in range(n)]


def invitations_of(campaign_id: str) -> list[Invitation]:
    return [Invitation.get(k.id, consistent_read=True) for k in Invitation.by_campaign.query(campaign_id)]


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    """`python -m chalicelib.cli ...` in a process of its own, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
