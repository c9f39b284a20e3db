"""Every queue message kind, topic event and schedule works as the first thing a fresh Lambda process does.

Each handler here runs in a new Python process that imports app.py and calls the function as Lambda
would, with a Lambda-shaped event. Its proxy points nowhere and only the local DynamoDB is exempt,
so any call to amazonaws.com (an unbound model) fails the handler.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from chalicelib.campaigns import campaigns, suppression
from chalicelib.core.config import get_settings
from chalicelib.insight import digest_recipients
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from chalicelib.sending.invitations import invitation_id
from chalicelib.store.models import Campaign, ImportJob, Invitation
from tests.conftest import ROOT, html_links, local_path, read_outbox
from tests.helpers import (
    NPS_SURVEY,
    create_campaign,
    drain,
    invitations_of,
    launch,
    people,
    sns_event,
    sqs_record,
    submit,
)
from tests.receiver import Receiver

LAMBDA = """
import json, sys
import app
handler, event = sys.argv[1], json.load(sys.stdin)
print(json.dumps(getattr(app, handler)(event, None), default=str))
"""
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}


def fresh(handler: str, event: dict) -> object:
    """Run `app.<handler>(event, None)` in a new process with the test's settings; returns its result."""
    done = subprocess.run(
        [sys.executable, "-c", LAMBDA, handler],
        input=json.dumps(event),
        cwd=ROOT,
        env={**os.environ, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "amazonaws.com" not in done.stdout + done.stderr
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def fresh_message(kind: str) -> str:
    """Hand the first queued message of `kind` to a fresh `work_queue`, as SQS would; the rest stay queued."""
    queue = get_queue()
    records = queue.receive(limit=1000)
    chosen = next(r for r in records if json.loads(r["body"])["kind"] == kind)
    for record in records:
        if record is not chosen:
            queue.retry_later(record["receiptHandle"], 0)
    [result] = fresh("work_queue", {"Records": [sqs_record(json.loads(chosen["body"]), chosen["receiptHandle"])]})
    queue.delete(chosen["receiptHandle"])
    return result


def queued_kinds() -> list[str]:
    queue = get_queue()
    records = queue.receive(limit=1000)
    for record in records:
        queue.retry_later(record["receiptHandle"], 0)
    return sorted(json.loads(r["body"])["kind"] for r in records)


def answer_page(message) -> str:
    return local_path(next(u for u in html_links(message) if "/s/" in u and "?" not in u and not u.endswith("/t")))


def zone_at_eight() -> str:
    """A fixed-offset zone where it is 08:xx now, when digests go out."""
    offset = (8 - datetime.now(UTC).hour + 12) % 24 - 12
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def scheduled(handler: str) -> object:
    return fresh(
        handler,
        {
            "version": "0",
            "id": "event-1",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{handler}"],
            "detail": {},
        },
    )


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def test_an_import_chunk_is_written_by_a_fresh_worker(db):
    campaign = campaigns.create_campaign(campaigns.parse_campaign({"name": "Big", "survey": NPS_SURVEY}), time.time())
    report = imports.start(
        campaign, list(enumerate(people(501))), "recipients", time.time(), get_settings(), get_queue()
    )
    assert queued_kinds() == ["import", "import"]
    assert fresh_message("import") in ("500 invited, 0 already invited", "1 invited, 0 already invited")
    job = ImportJob.get(report["id"], consistent_read=True)
    assert job.chunks_done == 1 and job.status == "running"


def test_fan_out_send_answer_event_and_reminder_each_in_a_fresh_worker(client, outbox, receiver, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_SCANNER_DELIVERY_WINDOW", "0")  # an answer right after sending counts
    campaign = create_campaign(
        people(2),
        options={
            "alert_emails": ["cx@acme.example"],
            "webhooks": [{"url": f"{receiver.url}/hook", "secret": "whsec_" + "a" * 32}],
            "reminders": [3],
        },
    )
    campaigns.start_sending(campaign.id, time.time(), None, get_queue())
    assert fresh_message("fanout") == "2 invitations in 1 messages"
    assert fresh_message("send") == "sent 2"
    assert sorted(str(m["To"]) for m in read_outbox(outbox)) == ["p0@example.com", "p1@example.com"]

    page = next(m for m in read_outbox(outbox) if str(m["To"]) == "p0@example.com")
    submit(client, answer_page(page), {"q_nps": "2"})
    assert scheduled("apply_counts")["applied"] >= 1
    assert fresh_message("event") == "delivered 2"  # the alert email and the webhook
    assert [c["json"]["type"] for c in receiver.on("/hook")] == ["response.created"]
    assert str(read_outbox(outbox)[-1]["To"]) == "cx@acme.example"

    remind = {"kind": "remind", "campaign_id": campaign.id, "ids": [invitation_id(campaign.id, "p1@example.com")]}
    [result] = fresh("work_queue", {"Records": [sqs_record(remind)]})
    assert result == "reminded 1"
    assert str(read_outbox(outbox)[-1]["Subject"]).startswith("Reminder:")


def test_a_recurring_campaign_places_its_first_rounds_in_a_fresh_worker(db):
    campaign = create_campaign(people(2), kind="recurring", interval_days=30)
    campaigns.start_sending(campaign.id, time.time(), None, get_queue())
    assert fresh_message("fanout") == "2 invitations in 1 messages"
    assert fresh_message("place") == "placed 2"
    assert all(i.send_due_at for i in invitations_of(campaign.id))


def test_ses_bounces_and_complaints_are_stored_by_a_fresh_topic_handler(db):
    for kind, email in (("Bounce", "p0@example.com"), ("Complaint", "p1@example.com")):
        event = {"eventType": kind, "mail": {"messageId": "ses-1", "destination": [email], "tags": {}}}
        if kind == "Bounce":
            event["bounce"] = {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": email}],
            }
        else:
            event["complaint"] = {"complainedRecipients": [{"emailAddress": email}]}
        fresh("ses_events", sns_event(event))
    assert [suppression.reason_for(e) for e in ("p0@example.com", "p1@example.com")] == ["bounced", "complained"]


def test_each_schedule_runs_in_a_fresh_process(client, outbox, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_ACK_DELAY", "0")
    monkeypatch.setenv("CLOSELOOP_SCANNER_DELIVERY_WINDOW", "0")
    answered = create_campaign(people(1), timezone=zone_at_eight())
    later = create_campaign(people(1, "later"))
    digest_recipients.set_recipients(
        answered.id, {"recipients": [{"email": "boss@acme.example", "frequency": "daily"}]}, time.time()
    )
    campaigns.start_sending(answered.id, time.time(), None, get_queue())
    campaigns.start_sending(later.id, time.time(), time.time() + 3600, get_queue())
    Campaign.get(later.id).update(actions=[Campaign.send_at.set(time.time() - 60)])  # now due
    drain()
    [invitation] = read_outbox(outbox)
    submit(client, answer_page(invitation), {"q_nps": "9"})
    # it went out two days ago, so yesterday's daily digest covers a day after its first send
    Campaign.get(answered.id).update(actions=[Campaign.sent_at.set(time.time() - 2 * 86400)])

    assert scheduled("dispatch_due")["campaigns_started"] == 1
    assert "fanout" in queued_kinds()
    assert scheduled("apply_counts")["applied"] >= 1
    assert scheduled("acknowledge") == {"sent": 1}
    assert scheduled("send_digests") == {"sent": 1}
    Campaign.get(answered.id).update(actions=[Campaign.options.set({"retention_days": 30})])
    assert scheduled("apply_retention") == {"campaigns": 1, "responses": 0, "moved": 0}  # a minute-old answer stays
    assert [str(m["To"]) for m in read_outbox(outbox)] == ["p0@example.com", "p0@example.com", "boss@acme.example"]


FIRST_ANSWER = r"""
import json, re, sys
import app

path, origin = sys.argv[1], sys.argv[2]
token = path.rsplit("/", 1)[1]


def event(method, query, headers, body):
    return {
        "resource": "/s/{token}", "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"token": token}, "stageVariables": None, "body": body, "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/s/{token}", "httpMethod": method, "path": "/api" + path,
                           "stage": "api", "requestId": "r", "identity": {"sourceIp": "203.0.113.9"}},
    }


page = app.app(event("GET", {"a": "9"}, {"Accept": "text/html"}, None), None)
csrf = re.search(r'name="csrf" value="([^"]+)"', page["body"]).group(1)
form = f"q_nps=9&csrf={csrf}&evidence=submit"
headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin}
thanks = app.app(event("POST", None, headers, form), None)
print(json.dumps([page["statusCode"], thanks["statusCode"], thanks["body"], "boto3" in sys.modules]))
"""


def test_a_first_answer_through_a_fresh_lambda_records_it_without_loading_boto3(db, outbox):
    """The cold path of a customer's first click (page, then submit) never pays for boto3's imports:
    the answer is written with the models' botocore client and PynamoDB's own serialization."""
    sent = launch(outbox)
    email, page = next(iter(sent.pages.items()))
    done = subprocess.run(
        [sys.executable, "-c", FIRST_ANSWER, page, get_settings().base_url],
        cwd=ROOT,
        env={k: v for k, v in {**os.environ, **OFFLINE}.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    shown, recorded, body, boto3_loaded = json.loads(done.stdout)
    assert (shown, recorded) == (200, 200)
    assert "Thank you!" in body
    assert not boto3_loaded
    answered = Invitation.get(invitation_id(sent.campaign.id, email))
    assert answered.score == 9 and answered.answered_at is not None
