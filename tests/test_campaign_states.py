"""draft -> scheduled -> sending -> sent, with pause, resume and cancel; edits only while draft."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from chalicelib.campaigns import campaigns
from chalicelib.queue import get_queue
from chalicelib.sending.delivery import dispatch
from tests.conftest import admin_headers, read_outbox
from tests.helpers import NPS_SURVEY, create_campaign, drain, invitation_of, launch, people, submit


def _post(client, path, body=None):
    return client.http.post(path, body=json.dumps(body or {}), headers=admin_headers())


def _status(client, campaign_id):
    return client.http.get(f"/api/campaigns/{campaign_id}", headers=admin_headers()).json_body["campaign"]["status"]


def test_a_send_at_a_given_time_waits_for_it(client, outbox):
    campaign = create_campaign(people(4))
    at = time.time() + 3600
    response = _post(client, f"/api/campaigns/{campaign.id}/send", {"at": datetime.fromtimestamp(at, UTC).isoformat()})
    assert response.status_code == 202 and response.json_body["status"] == "scheduled"
    assert dispatch(time.time(), get_queue())["campaigns_started"] == 0
    drain()
    assert read_outbox(outbox) == []
    assert dispatch(at + 1, get_queue())["campaigns_started"] == 1
    drain()
    assert len(read_outbox(outbox)) == 4
    assert _status(client, campaign.id) == "sent"


def test_pause_stops_sending_and_resume_finishes_without_duplicates(client, outbox):
    campaign = create_campaign(people(120))
    queue = get_queue()
    campaigns.start_sending(campaign.id, time.time(), None, queue)
    [fanout] = queue.receive()
    from chalicelib.runtime import work

    work.handle(fanout)
    queue.delete(fanout["receiptHandle"])
    [first_batch, *rest] = queue.receive(limit=10)
    work.handle(first_batch)  # 50 go out, then the CX lead pauses
    queue.delete(first_batch["receiptHandle"])
    assert _post(client, f"/api/campaigns/{campaign.id}/pause").json_body["campaign"]["status"] == "paused"
    for record in rest:
        queue.retry_later(record["receiptHandle"], 0)
    drain()
    assert len(read_outbox(outbox)) == 50
    assert _post(client, f"/api/campaigns/{campaign.id}/resume").json_body["campaign"]["status"] == "sending"
    drain()
    recipients = [str(m["To"]) for m in read_outbox(outbox)]
    assert len(recipients) == 120 == len(set(recipients))
    assert _status(client, campaign.id) == "sent"


def test_cancel_sends_nothing_more(client, outbox):
    campaign = create_campaign(people(5))
    assert _post(client, f"/api/campaigns/{campaign.id}/cancel").json_body["campaign"]["status"] == "cancelled"
    response = _post(client, f"/api/campaigns/{campaign.id}/send")
    assert response.status_code == 409
    assert response.json_body["error"] == {
        "message": "Only a draft campaign can be sent. This campaign is cancelled.",
        "field": "status",
    }
    drain()
    assert read_outbox(outbox) == []


def test_a_sent_one_off_cannot_be_cancelled_through_a_pause_and_a_cancelled_campaign_still_takes_answers(
    client, outbox
):
    sent = launch(outbox)
    base = f"/api/campaigns/{sent.campaign.id}"
    assert _post(client, f"{base}/pause").json_body["campaign"]["status"] == "paused"
    refused = _post(client, f"{base}/cancel")
    assert refused.status_code == 409 and "paused or not" in refused.json_body["error"]["message"]

    assert _post(client, f"{base}/resume").json_body["campaign"]["status"] == "sending"  # going through it again
    assert _post(client, f"{base}/cancel").json_body["campaign"]["status"] == "cancelled"

    thanks = submit(client, sent.pages["ada@example.com"], {"q_nps": "4"})
    assert thanks.status_code == 200 and "Thank you!" in thanks.body.decode()
    assert invitation_of(sent, "ada@example.com").score == 4


def test_invalid_transitions_are_refused_with_the_current_state(client, outbox):
    campaign = create_campaign(people(1))
    assert _post(client, f"/api/campaigns/{campaign.id}/pause").status_code == 409
    assert _post(client, f"/api/campaigns/{campaign.id}/resume").status_code == 409
    _post(client, f"/api/campaigns/{campaign.id}/send")
    drain()
    response = _post(client, f"/api/campaigns/{campaign.id}/cancel")
    assert response.status_code == 409
    assert "This campaign is sent." in response.json_body["error"]["message"]


def test_only_a_draft_can_be_edited(client, outbox):
    campaign = create_campaign(people(1))
    patch = client.http.patch(
        f"/api/campaigns/{campaign.id}",
        body=json.dumps({"name": "Renamed", "options": {"company": "Acme"}}),
        headers=admin_headers(),
    )
    assert patch.status_code == 200
    assert patch.json_body["campaign"]["name"] == "Renamed"
    assert patch.json_body["campaign"]["options"] == {"company": "Acme"}
    _post(client, f"/api/campaigns/{campaign.id}/send")
    refused = client.http.patch(
        f"/api/campaigns/{campaign.id}", body=json.dumps({"survey": NPS_SURVEY}), headers=admin_headers()
    )
    assert refused.status_code == 409
    assert refused.json_body["error"]["field"] == "status"


def test_sending_waits_for_a_running_import(client, outbox):
    campaign = create_campaign([])
    rows = "email,plan\n" + "".join(f"r{i}@example.com,pro\n" for i in range(1200))
    imported = client.http.post(
        f"/api/campaigns/{campaign.id}/recipients", body=rows, headers={**admin_headers(), "Content-Type": "text/csv"}
    )
    assert imported.status_code == 202 and imported.json_body["import"]["status"] == "running"
    sent = _post(client, f"/api/campaigns/{campaign.id}/send")
    assert sent.json_body["status"] == "scheduled"  # not before every row is in
    assert dispatch(time.time(), get_queue())["campaigns_started"] == 0
    drain()  # the import chunks run
    progress = client.http.get(
        f"/api/campaigns/{campaign.id}/imports/{imported.json_body['import']['id']}", headers=admin_headers()
    ).json_body["import"]
    assert (progress["status"], progress["invited"], progress["chunks"]) == ("done", 1200, {"done": 3, "total": 3})
    assert dispatch(time.time(), get_queue())["campaigns_started"] == 1
    drain()
    assert len(read_outbox(outbox)) == 1200


def test_campaigns_are_listed_newest_first_with_a_cursor(client):
    ids = [create_campaign([]).id for _ in range(3)]
    first = client.http.get("/api/campaigns?limit=2", headers=admin_headers()).json_body
    assert [c["id"] for c in first["campaigns"]] == ids[::-1][:2]
    second = client.http.get(f"/api/campaigns?limit=2&cursor={first['next_cursor']}", headers=admin_headers())
    assert [c["id"] for c in second.json_body["campaigns"]] == ids[:1]
    bad = client.http.get("/api/campaigns?cursor=%%%", headers=admin_headers())
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "cursor"


def test_an_action_that_takes_no_input_refuses_a_body_it_cannot_read(client, outbox):
    campaign = create_campaign(people(2))
    for action, body in (
        ("cancel", "{not json"),
        ("pause", "[1]"),
        ("resume", '{"now": true}'),
        ("resend-failed", "junk"),
    ):
        response = client.http.post(f"/api/campaigns/{campaign.id}/{action}", body=body, headers=admin_headers())
        assert response.status_code == 400, action
        assert response.json_body["error"]["message"]
    assert _status(client, campaign.id) == "draft"  # nothing was cancelled
    for body in ("", "{}", " {} "):  # no body, or an empty object: the action runs (a second cancel is a 409)
        response = client.http.post(f"/api/campaigns/{campaign.id}/cancel", body=body, headers=admin_headers())
        assert response.status_code == (200 if body == "" else 409)


def test_a_send_time_more_than_a_year_ahead_is_refused_and_the_campaign_stays_a_draft(client):
    campaign = create_campaign(people(1))
    response = _post(client, f"/api/campaigns/{campaign.id}/send", {"at": "9999-12-31T23:59:59-12:00"})
    assert response.status_code == 400
    assert response.json_body["error"] == {
        "message": "9999-12-31T23:59:59-12:00 is more than 365 days ahead: give a time within the next 365 days.",
        "field": "at",
    }
    assert _status(client, campaign.id) == "draft"
    within = datetime.fromtimestamp(time.time() + 364 * 86400, UTC).isoformat()
    assert _post(client, f"/api/campaigns/{campaign.id}/send", {"at": within}).json_body["status"] == "scheduled"


def test_an_absurdly_early_send_time_is_refused_plainly(client):
    campaign = create_campaign(people(1), timezone="Pacific/Kiritimati")
    for given in ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-10:00"):
        response = _post(client, f"/api/campaigns/{campaign.id}/send", {"at": given})
        assert response.status_code == 400
        assert response.json_body["error"] == {
            "message": f"{given} is in the past. Give a later time, or send now.",
            "field": "at",
        }
    assert _status(client, campaign.id) == "draft"


def test_an_empty_send_time_says_what_to_give(client):
    campaign = create_campaign(people(1))
    response = _post(client, f"/api/campaigns/{campaign.id}/send", {"at": ""})
    assert response.status_code == 400
    assert response.json_body["error"] == {
        "message": "Give a date and time, e.g. 2026-12-01T09:00:00+01:00.",
        "field": "at",
    }


def test_a_scheduled_campaign_can_be_unscheduled_corrected_and_sent(client, outbox):
    campaign = create_campaign(people(2))
    at = datetime.fromtimestamp(time.time() + 3600, UTC).isoformat()
    assert _post(client, f"/api/campaigns/{campaign.id}/send", {"at": at}).json_body["status"] == "scheduled"
    locked = client.http.patch(
        f"/api/campaigns/{campaign.id}", body=json.dumps({"name": "Fixed"}), headers=admin_headers()
    )
    assert locked.status_code == 409 and locked.json_body["error"]["message"].endswith(
        "Unschedule it to make it a draft again, with every field open."
    )
    response = _post(client, f"/api/campaigns/{campaign.id}/unschedule")
    assert response.status_code == 200
    assert (response.json_body["campaign"]["status"], response.json_body["campaign"]["send_at"]) == ("draft", None)
    assert dispatch(time.time() + 7200, get_queue())["campaigns_started"] == 0  # nothing left scheduled
    renamed = client.http.patch(
        f"/api/campaigns/{campaign.id}", body=json.dumps({"name": "Fixed"}), headers=admin_headers()
    )
    assert renamed.status_code == 200
    again = _post(client, f"/api/campaigns/{campaign.id}/unschedule")
    assert again.status_code == 409
    assert again.json_body["error"] == {
        "message": "Only a scheduled campaign can be unscheduled. This campaign is draft.",
        "field": "status",
    }
    assert _post(client, f"/api/campaigns/{campaign.id}/send").json_body["status"] == "sending"
    drain()
    assert len(read_outbox(outbox)) == 2


def test_a_one_off_campaign_without_recipients_is_not_sent(client, outbox):
    campaign = create_campaign([])
    response = _post(client, f"/api/campaigns/{campaign.id}/send")
    assert response.status_code == 409
    assert response.json_body["error"] == {
        "message": "This campaign has no recipients yet: add some on the Recipients tab "
        f"(or POST /api/campaigns/{campaign.id}/recipients).",
        "field": "recipients",
    }
    assert _status(client, campaign.id) == "draft"
    created = _post(client, "/api/campaigns", {"name": "Empty", "survey": NPS_SURVEY, "send": True})
    assert created.status_code == 400 and created.json_body["error"]["field"] == "recipients"
    assert [c["name"] for c in client.http.get("/api/campaigns", headers=admin_headers()).json_body["campaigns"]] == [
        "Test"
    ]
