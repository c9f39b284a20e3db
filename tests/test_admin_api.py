"""The minimal admin API: bearer tokens, JSON errors naming the field, create and send a campaign."""

from __future__ import annotations

import json

import pytest

from chalicelib.runtime.jobs import find_job
from tests.conftest import admin_headers, read_outbox
from tests.helpers import NPS_SURVEY, drain


def run_job(name: str):
    return find_job(name).run()


def _post(client, path, body, headers=None):
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.http.post(path, body=raw, headers=headers or admin_headers())


def test_creating_and_sending_a_campaign_delivers_one_invitation_per_recipient(client, outbox):
    body = {
        "name": "Q4 NPS",
        "survey": NPS_SURVEY,
        "segments": ["plan"],
        "recipients": [
            {"email": "Ada@Example.com", "properties": {"plan": "pro", "first_name": "Ada"}},
            {"email": "grace@example.com", "properties": {"plan": "free"}},
            {"email": "ada@example.com", "properties": {"region": "eu"}},
            {"email": "not-an-email"},
            {"email": "alan@example.com", "properties": {"plan": {"nested": 1}}},
        ],
        "send": True,
    }
    response = _post(client, "/api/campaigns", body)
    assert response.status_code == 201
    data = response.json_body
    report = data["recipients"]
    assert (report["rows"], report["accepted"], report["invited"], report["duplicates_merged"]) == (5, 2, 2, 1)
    assert report["rejected_rows"] == [
        {"row": 3, "field": "recipients[3].email", "message": "“not-an-email” is not a valid email address."},
        {
            "row": 4,
            "field": "recipients[4].properties.plan",
            "message": "A property value is text, a number, true/false or null.",
        },
    ]
    assert data["campaign"]["status"] == "sending"
    drain()
    assert sorted(str(m["To"]) for m in read_outbox(outbox)) == ["ada@example.com", "grace@example.com"]
    run_job("apply_counts")
    campaign = client.http.get(f"/api/campaigns/{data['campaign']['id']}", headers=admin_headers()).json_body
    assert campaign["campaign"]["status"] == "sent"
    assert (campaign["stats"]["invited"], campaign["stats"]["sent"]) == (2, 2)


def test_a_campaign_can_be_created_first_and_sent_later(client, outbox):
    body = {"name": "Later", "survey": NPS_SURVEY, "recipients": [{"email": "a@example.com"}]}
    created = _post(client, "/api/campaigns", body).json_body
    drain()
    assert read_outbox(outbox) == []
    campaign_id = created["campaign"]["id"]
    response = _post(client, f"/api/campaigns/{campaign_id}/send", {})
    assert response.status_code == 202 and response.json_body["status"] == "sending"
    drain()
    assert len(read_outbox(outbox)) == 1
    again = _post(client, f"/api/campaigns/{campaign_id}/send", {})
    assert again.status_code == 409
    assert again.json_body["error"]["message"] == "Only a draft campaign can be sent. This campaign is sent."


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}],
)
def test_the_api_needs_a_valid_bearer_token(client, headers):
    response = _post(client, "/api/campaigns", {"name": "x"}, headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401
    assert response.json_body["error"]["field"] == "Authorization"


def test_minted_tokens_work_and_are_stored_hashed(client):
    import time

    from chalicelib.admin.auth import mint_token
    from chalicelib.store.models import ApiToken

    token = mint_token("cx@example.com", time.time())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = _post(client, "/api/campaigns", {"name": "T", "survey": NPS_SURVEY}, headers=headers)
    assert response.status_code == 201
    stored = [t.token_hash for t in ApiToken.scan()]
    assert token not in stored and len(stored[0]) == 64


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ("{not json", 400, None, "not valid JSON"),
        ({"survey": NPS_SURVEY}, 400, "name", "needs a name"),
        ({"name": "x"}, 400, "survey", "object with a list of questions"),
        (
            {"name": "x", "survey": {"questions": [{"id": "q", "type": "nps"}]}},
            400,
            "survey.questions[0].text",
            "needs its text",
        ),
        (
            {"name": "x", "survey": NPS_SURVEY, "timezone": "Mars/Base"},
            400,
            "timezone",
            "Unknown time zone “Mars/Base”",
        ),
        ({"name": "x", "survey": NPS_SURVEY, "timezone": None}, 400, "timezone", "such as Europe/Paris (nothing was"),
        ({"name": "x", "survey": NPS_SURVEY, "timezone": 5}, 400, "timezone", "Paris (a number was given)."),
        ({"name": "x", "survey": NPS_SURVEY, "segments": ["bad name"]}, 400, "segments[0]", "property name"),
        ({"name": "x", "survey": NPS_SURVEY, "recipients": "a@b.c"}, 400, "recipients", "list"),
        ({"name": "x", "survey": NPS_SURVEY, "colour": "red"}, 400, "colour", "Unknown field"),
        ({"name": "x", "survey": NPS_SURVEY, "kind": "recurring"}, 400, "interval_days", "every 7 to 730 days"),
        (
            {"name": "x", "survey": NPS_SURVEY, "options": {"subject": "Hi {{ name"}},
            400,
            "options.subject",
            "Template error",
        ),
        ({"name": "x", "survey": NPS_SURVEY, "options": {"reminders": [7, 3]}}, 400, "options.reminders", "increasing"),
        ({"name": "x", "survey": NPS_SURVEY, "options": {"brand_color": "blue"}}, 400, "options.brand_color", "hex"),
        ({"name": "x", "survey": NPS_SURVEY, "options": {"logo_url": "http://x"}}, 400, "options.logo_url", "https"),
        ({"name": "x", "survey": NPS_SURVEY, "send": True, "at": "2026-12-01 09:00"}, 400, "at", "offset"),
        ({"name": "x", "survey": NPS_SURVEY, "options": {"reply_to": "nope"}}, 400, "options.reply_to", "valid email"),
        ({"name": "x", "survey": NPS_SURVEY, "send": "yes"}, 400, "send", "true or false"),
    ],
)
def test_bad_input_gets_a_json_error_naming_the_field(client, body, status, field, message):
    response = _post(client, "/api/campaigns", body)
    assert response.status_code == status
    error = response.json_body["error"]
    assert message in error["message"]
    assert error.get("field") == field


def test_an_unknown_campaign_is_a_json_404(client):
    response = client.http.get("/api/campaigns/nope", headers=admin_headers())
    assert response.status_code == 404
    assert response.json_body == {"error": {"message": "No campaign 'nope'.", "field": "campaign_id"}}
