"""Fan-out through the work queue: every invitation sent at most once, none lost, at SES's pace."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

import app as app_module
from chalicelib.campaigns import campaigns
from chalicelib.mail import config as mail_config
from chalicelib.mail.ses import SesMailBackend
from chalicelib.queue import get_queue
from chalicelib.queue.local import LocalWorkQueue
from chalicelib.queue.sqs import SqsWorkQueue
from chalicelib.sending import delivery
from tests.conftest import read_outbox
from tests.helpers import create_campaign, drain, invitations_of, people, sqs_record, totals


def _send_message(campaign_id: str) -> dict:
    return {"kind": "send", "campaign_id": campaign_id, "ids": [i.id for i in invitations_of(campaign_id)]}


def _start(campaign_id: str) -> None:
    """Mark the campaign sending without fanning out, so a test can deliver its own batches."""
    campaigns._transition(campaign_id, [campaigns.Campaign.status.set("sending")], campaigns.Campaign.id.exists(), "")


def test_a_campaign_reaches_every_recipient_once_through_fanout(db, outbox):
    campaign = create_campaign(people(120))
    campaigns.start_sending(campaign.id, time.time(), None, get_queue())
    invocations = drain()
    assert invocations == 1 + 3  # one fan-out page, then batches of 50
    assert sorted(str(m["To"]) for m in read_outbox(outbox)) == sorted(p["email"] for p in people(120))
    assert campaigns.get_view(campaign.id).status == "sent"
    assert totals(campaign.id)["sent"] == 120


def test_delivering_the_same_sqs_batch_twice_sends_nothing_twice(db, outbox):
    campaign = create_campaign(people(10))
    _start(campaign.id)
    event = {"Records": [sqs_record(_send_message(campaign.id))]}
    first = app_module.work_queue(event, None)
    second = app_module.work_queue(event, None)
    assert first == ["sent 10"]
    assert second == ["done 10"]
    assert len(read_outbox(outbox)) == 10
    assert len({str(m["To"]) for m in read_outbox(outbox)}) == 10


def test_an_ses_throttling_error_mid_batch_loses_nothing(db, outbox, monkeypatch):
    campaign = create_campaign(people(8))
    _start(campaign.id)
    client = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    for i in range(3):
        stub.add_response("send_email", {"MessageId": f"ok-{i}"})
    stub.add_client_error("send_email", service_error_code="TooManyRequestsException", service_message="slow down")
    for i in range(3, 8):
        stub.add_response("send_email", {"MessageId": f"ok-{i}"})
    stub.activate()
    monkeypatch.setattr(mail_config, "_build", lambda *args: SesMailBackend(client))
    queue = get_queue()
    queue.send([_send_message(campaign.id)])
    [record] = queue.receive()
    with pytest.raises(Exception, match="throttled 1"):
        app_module.work_queue({"Records": [record]}, None)
    states = sorted(i.send_state for i in invitations_of(campaign.id))
    assert states == ["pending"] * 5 + ["sent"] * 3
    # the queue shows the message again after the backoff it asked for, not at once
    assert queue.receive() == []
    later = LocalWorkQueue(queue.root, clock=lambda: time.time() + 3600)
    [again] = later.receive()
    assert app_module.work_queue({"Records": [again]}, None) == ["done 3, sent 5"]
    stub.assert_no_pending_responses()
    assert all(i.send_state == "sent" for i in invitations_of(campaign.id))
    assert len({i.message_id for i in invitations_of(campaign.id)}) == 8


def test_a_crash_between_claim_and_send_is_finished_by_the_redelivery(db, outbox):
    campaign = create_campaign(people(3))
    _start(campaign.id)
    view = campaigns.get_view(campaign.id)
    victim = invitations_of(campaign.id)[0]
    now = time.time()
    # a worker claimed it and died: the lease holds others off until it runs out
    delivery._claim(
        victim.id,
        [
            delivery.Invitation.send_state.set("sending"),
            delivery.Invitation.send_lease_until.set(now + delivery.LEASE_SECONDS),
        ],
        None,
        now,
    )
    assert delivery.send_one(victim.id, view, now, db_settings(), {}) == ("busy", 0)
    assert delivery.send_one(victim.id, view, now + delivery.LEASE_SECONDS + 1, db_settings(), {})[0] == "sent"
    event = {"Records": [sqs_record(_send_message(campaign.id))]}
    assert app_module.work_queue(event, None) == ["done 1, sent 2"]
    assert sorted(str(m["To"]) for m in read_outbox(outbox)) == sorted(p["email"] for p in people(3))


def db_settings():
    from chalicelib.core.config import get_settings

    return get_settings()


def test_a_poison_message_ends_in_the_dead_letter_queue(tmp_path):
    clock = [1000.0]
    queue = LocalWorkQueue(tmp_path / "queue", clock=lambda: clock[0])
    queue.send([{"kind": "no-such-kind"}])
    calls = []

    def handler(event, context):
        calls.append(event)
        raise ValueError("cannot handle this")

    for _ in range(8):
        queue.drain(handler)
        clock[0] += 3600
    assert len(calls) == 5
    assert queue.depth() == 0
    [dead] = list(queue.dead.glob("*.json"))
    assert json.loads(dead.read_text()) == {"kind": "no-such-kind"}


def test_the_sqs_adapter_sends_batches_and_backs_off_on_request(db, outbox, monkeypatch):
    campaign = create_campaign(people(30))
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="closeloop-test-work")["QueueUrl"]
        queue = SqsWorkQueue(sqs, url)
        queue.send([{"kind": "fanout", "campaign_id": campaign.id, "n": i} for i in range(23)])
        received = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                break
            received += batch
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert sorted(json.loads(m["Body"])["n"] for m in received) == list(range(23))
        queue.send([{"kind": "send"}])
        [message] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"]
        queue.retry_later(message["ReceiptHandle"], 300)
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def test_sending_paces_itself_to_the_configured_rate():
    now = [0.0]
    slept = []

    def wait_on_the_fake_clock(seconds):
        slept.append(seconds)
        now[0] += seconds

    pacer = delivery.Pacer(4, clock=lambda: now[0], sleep=wait_on_the_fake_clock)
    for _ in range(9):
        pacer.wait()
    assert now[0] == pytest.approx(2.0)  # 9 sends at 4 a second take 2 seconds
    assert len(slept) == 8
