"""Unhappy customers reach the CX team within a minute; webhooks are signed; every event goes out once."""

from __future__ import annotations

import json
import re
import time

import pytest

from chalicelib.answers.counting import apply_pending
from chalicelib.loop import webhooks
from chalicelib.queue import get_queue
from chalicelib.sending.delivery import dispatch
from tests.conftest import admin_headers, read_outbox
from tests.helpers import drain, invitation_of, launch, submit
from tests.receiver import Receiver

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def _campaign(outbox, receiver, **options):
    base = {
        "alert_emails": ["cx@acme.example"],
        "slack_webhook_url": f"{receiver.url}/slack",
        "webhooks": [{"url": f"{receiver.url}/hook", "secret": SECRET}],
        "themes": {"pricing": ["price", "expensive"]},
    }
    people = [
        {"email": "upset@example.com", "properties": {"plan": "enterprise", "region": "eu"}},
        {"email": "fan@example.com", "properties": {"plan": "free"}},
    ]
    return launch(outbox, people, options={**base, **options})


def _alerts(outbox):
    return [m for m in read_outbox(outbox) if str(m["To"]) == "cx@acme.example"]


def test_a_detractor_alerts_the_team_by_email_and_slack_once(client, outbox, receiver):
    sent = _campaign(outbox, receiver)
    submit(client, sent.pages["upset@example.com"], {"q_nps": "2", "comment": "Too <expensive> & slow"})
    submit(client, sent.pages["fan@example.com"], {"q_nps": "10"})
    apply_pending()  # the minute's applier run
    drain()
    [alert] = _alerts(outbox)
    assert alert["Subject"] == "Detractor: 2 out of 10 from upset@example.com"
    assert alert["Reply-To"] == "upset@example.com"
    text = alert.get_body(("plain",)).get_content()
    assert "Too <expensive> & slow" in text and "Plan: enterprise" in text and "Themes:    pricing" in text
    page = f"http://127.0.0.1:8000/dashboard/responses/{invitation_of(sent, 'upset@example.com').id}"
    assert f"Open the response: {page}" in text
    assert "&lt;expensive&gt; &amp; slow" in alert.get_body(("html",)).get_content()
    assert re.search(
        rf'<a href="{re.escape(page)}"[^>]*>Open the response</a>', alert.get_body(("html",)).get_content()
    )
    [slack] = receiver.on("/slack")
    assert "Too &lt;expensive&gt; &amp; slow" in slack["json"]["text"]
    assert f"<{page}|Open the response>" in slack["json"]["text"]
    assert slack["json"]["blocks"][0]["text"]["type"] == "mrkdwn"
    # the applier runs again, the queue redelivers the event: nothing is sent twice
    apply_pending()
    from chalicelib.core.config import get_settings
    from chalicelib.loop import alerts

    invitation = invitation_of(sent, "upset@example.com")
    again = alerts.deliver_event(
        {
            "kind": "event",
            "campaign_id": sent.campaign.id,
            "invitation_id": invitation.id,
            "version": 1,
            "type": "response.created",
            "alert": True,
        },
        time.time(),
        get_settings(),
    )
    assert again == {"already done": 3}
    assert len(_alerts(outbox)) == 1 and len(receiver.on("/slack")) == 1
    assert invitation.case_campaign == sent.campaign.id
    assert invitation.case_due_at == pytest.approx(invitation.answered_at + 48 * 3600)


def test_webhooks_are_signed_and_follow_every_version_of_the_answer(client, outbox, receiver):
    sent = _campaign(outbox, receiver)
    page = sent.pages["fan@example.com"]
    submit(client, page, {"q_nps": "9"})
    apply_pending()
    drain()
    submit(client, page, {"q_nps": "6", "comment": "changed my mind"})
    apply_pending()
    drain()
    hooks = receiver.on("/hook")
    assert [h["json"]["type"] for h in hooks] == ["response.created", "response.updated"]
    for hook in hooks:
        assert webhooks.verify(SECRET, hook["headers"], hook["body"])
        assert abs(int(hook["headers"]["webhook-timestamp"]) - time.time()) < 60
    assert hooks[1]["json"]["data"]["score"] == 6 and hooks[1]["json"]["data"]["version"] == 2
    assert webhooks.verify(SECRET, {**hooks[0]["headers"], "webhook-id": "forged"}, hooks[0]["body"]) is False
    assert len(_alerts(outbox)) == 1  # a promoter turned detractor is alerted once, on the version that matched


def test_a_failing_webhook_is_retried_with_backoff_under_the_same_id(client, outbox, receiver):
    sent = _campaign(outbox, receiver, alert_emails=["cx@acme.example"])
    receiver.statuses = [503, 500]
    submit(client, sent.pages["fan@example.com"], {"q_nps": "9"})
    apply_pending()
    drain()
    assert len(receiver.on("/hook")) == 1
    for hours in (1, 7, 14):
        later = time.time() + hours * 3600
        dispatch(later, get_queue())
        drain(lambda moment=later: moment)
    attempts = receiver.on("/hook")
    assert len(attempts) == 3  # 503, 500, then delivered; not again once delivered
    assert len({a["headers"]["webhook-id"] for a in attempts}) == 1
    response = client.http.get(f"/api/responses/{invitation_of(sent, 'fan@example.com').id}", headers=admin_headers())
    [delivery] = [d for d in response.json_body["response"]["deliveries"] if d["key"].startswith("webhook#")]
    assert (delivery["state"], delivery["attempts"]) == ("done", 3)


def test_a_webhook_answering_410_is_not_retried(client, outbox, receiver):
    sent = _campaign(outbox, receiver)
    receiver.statuses = [410]
    submit(client, sent.pages["fan@example.com"], {"q_nps": "9"})
    apply_pending()
    drain()
    dispatch(time.time() + 86400, get_queue())
    drain()
    assert len(receiver.on("/hook")) == 1


@pytest.mark.parametrize(
    ("rules", "score", "comment", "alerted"),
    [
        ([{"theme": "pricing"}], 9, "the price is right", True),
        ([{"property": "plan", "equals": "enterprise"}, {"max_score": 3}], 8, None, True),
        ([{"max_score": 3}], 4, None, False),
        (None, 7, None, False),
    ],
)
def test_alert_rules_choose_who_needs_a_call(client, outbox, receiver, rules, score, comment, alerted):
    options = {"alert_rules": rules} if rules else {}
    sent = _campaign(outbox, receiver, **options)
    submit(client, sent.pages["upset@example.com"], {"q_nps": str(score), **({"comment": comment} if comment else {})})
    apply_pending()
    drain()
    assert bool(_alerts(outbox)) is alerted
    assert (invitation_of(sent, "upset@example.com").case_campaign is not None) is alerted


def test_webhook_secrets_are_shown_once_and_urls_must_be_https(client, receiver):
    from tests.helpers import NPS_SURVEY

    body = {"name": "x", "survey": NPS_SURVEY, "options": {"webhooks": [{"url": "https://hooks.example/in"}]}}
    created = client.http.post("/api/campaigns", body=json.dumps(body), headers=admin_headers()).json_body
    secret = created["campaign"]["options"]["webhooks"][0]["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    shown = client.http.get(f"/api/campaigns/{created['campaign']['id']}", headers=admin_headers()).json_body
    assert shown["campaign"]["options"]["webhooks"][0]["secret"] == secret[:10] + "…"
    plain = {"name": "x", "survey": NPS_SURVEY, "options": {"webhooks": [{"url": "http://hooks.example/in"}]}}
    refused = client.http.post("/api/campaigns", body=json.dumps(plain), headers=admin_headers())
    assert refused.status_code == 400 and refused.json_body["error"]["field"] == "options.webhooks[0].url"
