"""Delighted's v1 API, through the app's routes: shapes, auth, errors, paging, and what reaches a person."""

from __future__ import annotations

import base64
import json
import re
import time
from urllib.parse import urlsplit

import pytest

from chalicelib.answers import counting
from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.core.config import get_settings
from chalicelib.core.signing import new_id
from chalicelib.delighted import history, history_import, keys
from chalicelib.insight import digest
from chalicelib.queue import get_queue
from chalicelib.store.models import Contact, Invitation
from tests.conftest import ADMIN_TOKEN, admin_headers, read_outbox
from tests.dashboard_support import session_headers
from tests.helpers import NPS_SURVEY, cli, drain, invitations_of, launch

SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
        {"id": "why", "type": "text", "text": "Why?"},
        {"id": "reason", "type": "single_choice", "text": "What matters most?", "options": ["Price", "Support"]},
    ]
}


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def call(client, method: str, path: str, key: str, body: dict | None = None, **headers: str):
    sent = {**basic(key), **headers}
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    response = client.http.request(method, path, headers=sent, body=json.dumps(body).encode() if body else b"")
    return response.status_code, json.loads(response.body) if response.body else None, response.headers


@pytest.fixture
def sending(db, outbox):
    """A campaign that is sending (one person already surveyed long ago) and a v1 key bound to it."""
    sent = launch(outbox, survey=SURVEY, segments=("plan",))
    key, _ = keys.mint_key("shop app", sent.campaign.id, time.time())
    return sent.campaign, key


def test_a_request_without_a_valid_key_gets_delighteds_401(client, sending):
    _, key = sending
    for headers in ({}, basic("not-a-key"), {"Authorization": f"Bearer {ADMIN_TOKEN}"}, basic(ADMIN_TOKEN)):
        response = client.http.get("/v1/people.json", headers=headers)
        assert response.status_code == 401
        body = json.loads(response.body)
        assert body["status"] == 401 and body["message"]
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert keys.revoke_key(key)
    assert call(client, "GET", "/v1/metrics.json", key)[0] == 401


def test_a_v1_key_opens_no_admin_route(client, sending):
    _, key = sending
    response = client.http.get("/api/campaigns", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401


def test_posting_a_person_updates_the_contact_and_mails_a_survey_once(client, sending, outbox):
    campaign, key = sending
    before = len(read_outbox(outbox))
    status, person, _ = call(
        client,
        "POST",
        "/v1/people.json",
        key,
        {"email": "Bo@Example.com", "name": "Bo Li", "properties": {"plan": "pro", "Customer Id": 42}},
    )
    assert status == 200
    assert person["email"] == "bo@example.com" and person["name"] == "Bo Li"
    assert person["properties"] == {"plan": "pro", "customer_id": 42}
    assert abs(person["survey_scheduled_at"] - time.time()) < 60
    drain()
    mails = read_outbox(outbox)[before:]
    assert [str(m["To"]) for m in mails] == ["bo@example.com"]
    # within the fatigue window a second request is accepted but nobody is asked twice
    assert call(client, "POST", "/v1/people", key, {"email": "bo@example.com"})[0] == 200
    drain()
    assert len(read_outbox(outbox)) == before + 1
    skipped = [i for i in invitations_of(campaign.id) if i.email == "bo@example.com" and i.send_state == "skipped"]
    assert [i.send_error for i in skipped] == ["fatigue:surveyed recently"]


def test_send_false_and_delay_and_an_unsubscribed_person(client, sending, outbox):
    campaign, key = sending
    status, person, _ = call(client, "POST", "/v1/people.json", key, {"email": "cy@example.com", "send": False})
    assert status == 200 and person["survey_scheduled_at"] is None
    assert not [i for i in invitations_of(campaign.id) if i.email == "cy@example.com"]
    status, person, _ = call(client, "POST", "/v1/people.json", key, {"email": "di@example.com", "delay": 3600})
    assert person["survey_scheduled_at"] >= time.time() + 3500
    assert call(client, "POST", "/v1/unsubscribes.json", key, {"person_email": "eve@example.com"})[1] == {"ok": True}
    call(client, "POST", "/v1/people.json", key, {"email": "eve@example.com"})
    before = len(read_outbox(outbox))
    drain()
    assert len(read_outbox(outbox)) == before
    eve = [i for i in invitations_of(campaign.id) if i.email == "eve@example.com"]
    assert [i.send_error for i in eve] == ["suppressed:unsubscribed"]
    status, body, _ = call(client, "DELETE", "/v1/people/di%40example.com/survey_requests/pending", key, {})
    assert (status, body) == (200, {"ok": True})
    again = call(client, "DELETE", "/v1/people/di%40example.com/survey_requests/pending.json", key, {})
    assert again[:2] == (200, {"ok": True})  # with .json as every v1 route
    di = [i for i in invitations_of(campaign.id) if i.email == "di@example.com"]
    assert [i.send_state for i in di] == ["skipped"]


def test_a_campaign_property_sends_from_another_campaign(client, sending, outbox):
    _, key = sending
    other = campaigns.create_campaign(campaigns.parse_campaign({"name": "Support", "survey": NPS_SURVEY}), time.time())
    asked = {"email": "fa@example.com", "properties": {"campaign": other.id}}
    status, body, _ = call(client, "POST", "/v1/people.json", key, asked)
    assert status == 422 and "is a draft: send it" in body["errors"][0]["message"]  # it would never go out
    campaigns.start_sending(other.id, time.time(), None, get_queue())
    status, _, _ = call(client, "POST", "/v1/people.json", key, asked)
    assert status == 200
    assert [i.email for i in invitations_of(other.id)] == ["fa@example.com"]
    status, body, _ = call(
        client, "POST", "/v1/people.json", key, {"email": "fa@example.com", "properties": {"campaign": "nope"}}
    )
    assert status == 422 and body["errors"] == [{"field": "properties.campaign", "message": "No campaign 'nope'."}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": "not an address"}, "email"),
        ({"email": "a@example.com", "delay": -1}, "delay"),
        ({"email": "a@example.com", "delay": "soon"}, "delay"),
        ({"email": "a@example.com", "send": "maybe"}, "send"),
        ({"email": "a@example.com", "properties": ["x"]}, "properties"),
        ({"email": "a@example.com", "properties": {"x": {"y": 1}}}, "properties.x"),
        ({"phone_number": "+14155551212"}, "phone_number"),
        ({"email": "a@example.com", "channel": "sms"}, "channel"),
    ],
)
def test_bad_people_get_delighteds_422_naming_the_field(client, sending, body, field):
    _, key = sending
    status, answer, _ = call(client, "POST", "/v1/people.json", key, body)
    assert status == 422
    assert answer["status"] == 422 and answer["errors"][0]["field"] == field


def test_garbage_never_gets_a_5xx(client, sending):
    _, key = sending
    for method, path, body, content_type in [
        ("POST", "/v1/people.json", b"{not json", "application/json"),
        ("POST", "/v1/people.json", b"[1, 2]", "application/json"),
        ("POST", "/v1/people.json", b"email=x", "text/plain"),
        ("GET", "/v1/people.json?per_page=1000", b"", None),
        ("GET", "/v1/people.json?page_info=forged", b"", None),
        ("GET", "/v1/survey_responses.json?order=sideways", b"", None),
        ("GET", "/v1/survey_responses.json?since=yesterday", b"", None),
        ("GET", "/v1/survey_responses.json?expand[]=everything", b"", None),
        ("GET", "/v1/survey_responses/nope.json", b"", None),
        ("PUT", "/v1/survey_responses/nope.json", b"{}", "application/json"),
        ("GET", "/v1/metrics.json?trend=missing", b"", None),
        ("GET", "/v1/metrics.json?since=2000000000&until=1000", b"", None),
        ("GET", "/v1/people.json?since=2000000000&until=1000", b"", None),
        ("GET", "/v1/survey_responses.json?since=2000000000&until=1000", b"", None),
        ("GET", "/v1/autopilot/sms.json", b"", None),
        ("GET", "/v1/autopilot/fax.json", b"", None),
        ("DELETE", "/v1/people/not-an-address/survey_requests/pending", b"", None),
        ("POST", "/v1/survey_responses.json", b'{"person": "nobody", "score": 3}', "application/json"),
    ]:
        headers = {**basic(key), **({"Content-Type": content_type} if content_type else {})}
        response = client.http.request(method, path, headers=headers, body=body)
        assert 400 <= response.status_code < 500, (method, path, response.status_code, response.body)
        assert json.loads(response.body)["status"] == response.status_code


def test_people_come_in_pages_with_a_link_to_the_next(client, sending):
    _, key = sending
    for n in range(5):
        call(client, "POST", "/v1/people.json", key, {"email": f"pp{n}@example.com", "send": False})
    seen, path = [], "/v1/people.json?per_page=2"
    while path:
        status, page, headers = call(client, "GET", path, key)
        assert status == 200 and len(page) <= 2
        seen += [p["email"] for p in page]
        link = headers.get("Link") or headers.get("link")
        path = None
        if link:
            url = link.split(";")[0].strip("<>")
            assert link.endswith('rel="next"')
            path = urlsplit(url).path + "?" + urlsplit(url).query
    assert seen == ["ada@example.com"] + [f"pp{n}@example.com" for n in range(5)]  # oldest first, each once
    status, one, _ = call(client, "GET", "/v1/people.json?email=PP3@example.com", key)
    assert [p["email"] for p in one] == ["pp3@example.com"]


def test_survey_responses_posted_listed_updated_and_counted(client, sending, outbox):
    _, key = sending
    people = {}
    for n, score in enumerate([10, 9, 7, 3]):
        _, person, _ = call(
            client, "POST", "/v1/people.json", key, {"email": f"r{n}@example.com", "properties": {"plan": "pro"}}
        )
        people[n] = person
        status, response, _ = call(
            client, "POST", "/v1/survey_responses.json", key, {"person": person["id"], "score": score, "comment": "ok"}
        )
        assert status == 200
        assert response["person"] == person["id"] and response["score"] == score
        assert response["survey_type"] == "nps" and response["comment"] == "ok"
    counting.apply_pending()
    status, listed, _ = call(client, "GET", "/v1/survey_responses.json?per_page=3&expand[]=person&expand[]=notes", key)
    assert status == 200 and len(listed) == 3
    assert listed[0]["person"]["email"] == "r0@example.com" and listed[0]["notes"] == []
    status, second, _ = call(client, "GET", "/v1/survey_responses.json?per_page=3&page=2", key)
    assert [r["score"] for r in second] == [3]
    status, newest, _ = call(client, "GET", "/v1/survey_responses.json?order=desc&per_page=1", key)
    assert newest[0]["score"] == 3
    status, mine, _ = call(client, "GET", f"/v1/survey_responses.json?person_id={people[1]['id']}", key)
    assert [r["score"] for r in mine] == [9]
    target = listed[2]["id"]
    status, updated, _ = call(
        client,
        "PUT",
        f"/v1/survey_responses/{target}.json",
        key,
        {"person_properties": {"order": "A-1"}, "notes": ["Called back"], "tags": ["vip"], "score": 8},
    )
    assert status == 200
    assert updated["person_properties"] == {"plan": "pro", "order": "A-1"}
    assert [n["text"] for n in updated["notes"]] == ["Called back"] and updated["tags"] == ["vip"]
    assert updated["score"] == 8
    status, refused, _ = call(
        client, "PUT", f"/v1/survey_responses/{target}.json", key, {"person_properties": {"plan": "free"}}
    )
    assert status == 422 and refused["errors"][0]["field"] == "person_properties.plan"
    counting.apply_pending()
    status, metrics, _ = call(client, "GET", "/v1/metrics.json", key)
    assert metrics == {
        "nps": 25,
        "promoter_count": 2,
        "promoter_percent": 50.0,
        "passive_count": 1,
        "passive_percent": 25.0,
        "detractor_count": 1,
        "detractor_percent": 25.0,
        "response_count": 4,
    }
    assert not [m for m in read_outbox(outbox) if "Thank" in str(m["Subject"])]  # nobody acknowledged by mail
    status, none, _ = call(client, "GET", f"/v1/metrics.json?since={int(time.time()) + 3600}", key)
    assert none["response_count"] == 0 and none["nps"] == 0


def test_a_score_for_a_campaign_without_a_scale_question_gets_a_422_and_nothing_is_stored(client, db, outbox):
    choice_first = {"questions": [{"id": "pick", "type": "single_choice", "text": "Which?", "options": ["A", "B"]}]}
    sent = launch(outbox, survey=choice_first)
    key, _ = keys.mint_key("choices", sent.campaign.id, time.time())
    _, person, _ = call(client, "POST", "/v1/people.json", key, {"email": "pick@example.com", "send": False})

    status, body, _ = call(client, "POST", "/v1/survey_responses.json", key, {"person": person["id"], "score": 5})

    assert status == 422 and "not a scale" in body["message"]
    assert not [i for i in invitations_of(sent.campaign.id) if i.answered_at]


def test_a_response_posted_with_its_created_at_is_history_counted_then_and_alerting_nobody(client, sending):
    campaign, key = sending
    _, person, _ = call(client, "POST", "/v1/people.json", key, {"email": "old@example.com", "send": False})
    body = {"person": person["id"], "score": 0, "comment": "back in 2023", "created_at": 1_700_000_000}

    _, now_person, _ = call(client, "POST", "/v1/people.json", key, {"email": "new@example.com", "send": False})
    today = {"person": now_person["id"], "score": 0}

    status, response, _ = call(client, "POST", "/v1/survey_responses.json", key, body)
    live = call(client, "POST", "/v1/survey_responses.json", key, today)[1]
    counting.apply_pending()

    assert status == 200 and response["created_at"] == 1_700_000_000
    stored = Invitation.get(response["id"])
    assert stored.answered_at == 1_700_000_000 and stored.alerted_at is None and stored.case_campaign is None
    assert Invitation.get(live["id"]).alerted_at is not None  # today's detractor raises its alert
    assert campaigns.get_view(campaign.id).sent_at <= 1_700_000_000  # its weeks are in the trends
    for bad in ("tomorrow", 4_000_000_000, -5, True):
        status, error, _ = call(client, "POST", "/v1/survey_responses.json", key, {**body, "created_at": bad})
        assert status == 422 and error["errors"][0]["field"] == "created_at", (bad, error)


def test_bounces_and_unsubscribes_are_listed_with_the_person(client, sending):
    _, key = sending
    call(client, "POST", "/v1/people.json", key, {"email": "gil@example.com", "name": "Gil", "send": False})
    suppression.suppress("gil@example.com", "bounced", 1_700_000_000, "ses")
    call(client, "POST", "/v1/unsubscribes.json", key, {"person_email": "hal@example.com"})
    bounces = call(client, "GET", "/v1/bounces.json", key)[1]
    gil = Contact.get("gil@example.com")
    assert bounces == [{"person_id": gil.id, "email": "gil@example.com", "name": "Gil", "bounced_at": 1_700_000_000}]
    unsubscribes = call(client, "GET", "/v1/unsubscribes.json", key)[1]
    assert [(u["email"], u["person_id"]) for u in unsubscribes] == [("hal@example.com", None)]


def test_autopilot_is_a_recurring_campaign_and_its_members(client, db):
    body = {"name": "Quarterly", "survey": NPS_SURVEY, "kind": "recurring", "interval_days": 90}
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), time.time())
    key, _ = keys.mint_key("crm", campaign.id, time.time())
    status, config, _ = call(client, "GET", "/v1/autopilot/email.json", key)
    assert status == 200 and config["platform_id"] == "email" and config["frequency"] == 90 * 86400
    status, added, _ = call(
        client, "POST", "/v1/autopilot/email/memberships.json", key, {"person_email": "ivy@example.com"}
    )
    assert status == 200 and added["person"]["email"] == "ivy@example.com"
    status, refused, _ = call(
        client, "POST", "/v1/autopilot/email/memberships.json", key, {"person_email": "m@example.com", "person_name": 5}
    )
    assert status == 422 and refused["errors"][0] == {
        "field": "person_name",
        "message": "person_name is text, not a number.",
    }
    status, members, _ = call(client, "GET", "/v1/autopilot/email/memberships.json", key)
    assert [m["person"]["email"] for m in members] == ["ivy@example.com"]
    assert members[0]["next_survey_request"]["id"] == invitations_of(campaign.id)[0].id
    status, removed, _ = call(
        client, "DELETE", "/v1/autopilot/email/memberships.json", key, {"person_email": "ivy@example.com"}
    )
    assert status == 200 and removed["person"]["email"] == "ivy@example.com"
    assert call(client, "GET", "/v1/autopilot/email/memberships.json", key)[1] == []
    assert Invitation.get(invitations_of(campaign.id)[0].id).send_state == "skipped"


def test_a_key_past_its_window_gets_429_with_retry_after(client, sending, monkeypatch):
    _, key = sending
    monkeypatch.setenv("CLOSELOOP_V1_RATE_LIMIT", "2")
    monkeypatch.setenv("CLOSELOOP_V1_RATE_WINDOW", "3600")
    statuses = [call(client, "GET", "/v1/metrics.json", key) for _ in range(3)]
    assert [s[0] for s in statuses] == [200, 200, 429]
    _, body, headers = statuses[2]
    assert body["status"] == 429 and 1 <= int(headers["Retry-After"]) <= 3601


def test_mint_and_revoke_from_the_command_line(db, sending):
    campaign, _ = sending
    minted = cli("mint-api-key", "--name", "billing", "--campaign", campaign.id, env=db)
    assert minted.returncode == 0, minted.stderr
    key = minted.stdout.strip()
    assert keys.authenticate(basic(key)).campaign_id == campaign.id
    digest = minted.stderr.strip().split()[-1]
    assert cli("revoke-api-key", digest, env=db).returncode == 0
    assert cli("revoke-api-key", digest, env=db).returncode == 1
    assert cli("mint-api-key", "--name", "x", "--campaign", "nope", env=db).returncode == 1


def test_a_form_body_as_the_php_sdk_and_curl_send_it(client, sending):
    _, key = sending
    form = "email=jo%40example.com&name=Jo&send=false&properties[Plan%20Name]=pro&properties[city]=Oslo"
    headers = {**basic(key), "Content-Type": "application/x-www-form-urlencoded"}
    response = client.http.post("/v1/people.json", headers=headers, body=form.encode())
    assert response.status_code == 200
    person = json.loads(response.body)
    assert person["name"] == "Jo" and person["properties"] == {"plan_name": "pro", "city": "Oslo"}
    assert person["survey_scheduled_at"] is None


def test_deleting_a_person_by_id_or_email_removes_them_and_never_mails_them_again(client, sending, outbox):
    campaign, key = sending
    kim = call(client, "POST", "/v1/people.json", key, {"email": "kim@example.com", "properties": {"plan": "pro"}})[1]
    call(client, "POST", "/v1/survey_responses.json", key, {"person": kim["id"], "score": 2, "comment": "Slow"})
    call(client, "POST", "/v1/people.json", key, {"email": "lou@example.com", "send": False})
    counting.apply_pending()
    assert call(client, "GET", "/v1/metrics.json", key)[1]["response_count"] == 1
    status, body, _ = call(client, "DELETE", f"/v1/people/{kim['id']}", key)
    assert (status, body) == (202, {"ok": True})
    status, body, _ = call(client, "DELETE", "/v1/people/email%3Alou%40example.com", key)
    assert (status, body) == (202, {"ok": True})
    assert call(client, "GET", "/v1/people.json?email=kim@example.com", key)[1] == []
    assert not [i for i in invitations_of(campaign.id) if i.email == "kim@example.com"]
    counting.apply_pending()
    assert call(client, "GET", "/v1/metrics.json", key)[1]["response_count"] == 0
    assert call(client, "DELETE", f"/v1/people/{kim['id']}", key)[0] == 404
    assert call(client, "DELETE", "/v1/people/phone_number:+14155551212", key)[0] == 422
    before = len(read_outbox(outbox))
    call(client, "POST", "/v1/people.json", key, {"email": "kim@example.com"})
    drain()
    assert len(read_outbox(outbox)) == before
    assert [i.send_error for i in invitations_of(campaign.id) if i.email == "kim@example.com"] == ["suppressed:deleted"]


def _written_before_the_list(email: str, created_at: float) -> None:
    """A contact as every write but a new contact's left it until the v1 API listed them all: no `list_pk`."""
    Contact(email, id=new_id(), properties={}, created_at=created_at, updated_at=created_at).save()


def _listed(client, key: str) -> list[str]:
    status, people, headers = call(client, "GET", "/v1/people.json?per_page=100", key)
    assert status == 200 and "Link" not in headers
    return [person["email"] for person in people]


def test_every_write_of_a_contact_lists_it_at_its_own_created_at(client, sending):
    campaign, key = sending
    _written_before_the_list("old@example.com", 1_600_000_000)
    body = {"recipients": [{"email": "old@example.com", "properties": {"plan": "pro"}}, {"email": "new@example.com"}]}
    response = client.http.post(
        f"/api/campaigns/{campaign.id}/recipients", body=json.dumps(body), headers=admin_headers()
    )
    assert response.status_code == 201
    people = "email,name,created_at\ndee@example.com,Dee,2022-04-15T05:20:00Z\n"
    history_import.import_files(campaign.id, [history_import.Upload("people.csv", people)], time.time(), "test")
    assert contacts.claim_survey("cal@example.com", "an-invitation", time.time() + 1, 30)

    assert _listed(client, key) == [
        "old@example.com",
        "dee@example.com",
        "ada@example.com",
        "new@example.com",
        "cal@example.com",
    ]
    assert Contact.get("old@example.com").created_at == 1_600_000_000  # listed where it always was


def test_the_backfill_lists_older_contacts_once_resumes_and_brings_back_no_one_deleted(client, db, sending):
    _, key = sending
    for n in range(3):
        _written_before_the_list(f"leg{n}@example.com", 1_600_000_000 + n)
    _written_before_the_list("gone@example.com", 1_600_000_100)
    assert call(client, "DELETE", "/v1/people/email:gone@example.com", key)[0] == 202
    assert _listed(client, key) == ["ada@example.com"]

    class Interrupted(Exception):
        pass

    lines: list[str] = []

    def stop_after_one_page(line: str) -> None:
        lines.append(line)
        raise Interrupted

    with pytest.raises(Interrupted):
        contacts.backfill_list(stop_after_one_page, page=1)
    assert lines[0].startswith("scanned 1 contacts") and "--after " in lines[0]
    resumed = cli("backfill-contact-list", "--after", lines[0].split("--after ")[1].rstrip(")"), env=db)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip().endswith("added to the people list")

    assert _listed(client, key) == ["leg0@example.com", "leg1@example.com", "leg2@example.com", "ada@example.com"]
    again = cli("backfill-contact-list", env=db)
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == "0 contacts added to the people list"


def _error_shape(status: int, body: dict, field: str | None) -> None:
    """Every v1 error's one shape: {status, message, errors: [{field, message}]}."""
    assert body == {
        "status": status,
        "message": body["message"],
        "errors": [{"field": field, "message": body["message"]}],
    }
    assert body["message"]


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("content_type", "body", "told"),
    [
        (FORM, b"email=big%40example.com&properties[note]=" + b"x" * 130_000, "bytes"),
        ("application/json", json.dumps({"email": "big@example.com", "name": "x" * 130_000}).encode(), "bytes"),
        (FORM, b"email=many%40example.com&" + b"&".join(b"tags[]=t" for _ in range(1_000)), "fields"),
        ("application/json", json.dumps({"email": "many@example.com", "tags": ["t"] * 1_000}).encode(), "fields"),
    ],
)
def test_a_body_too_large_gets_413_whether_json_or_a_form(client, sending, content_type, body, told):
    _, key = sending
    response = client.http.post("/v1/people.json", headers={**basic(key), "Content-Type": content_type}, body=body)
    assert response.status_code == 413
    answer = json.loads(response.body)
    _error_shape(413, answer, "body")
    assert "at most 1,000" in answer["message"] if told == "fields" else "at most 122,880 bytes" in answer["message"]
    assert call(client, "GET", "/v1/people.json?email=big@example.com", key)[1] == []


def test_a_form_field_sent_two_ways_gets_422_naming_it(client, sending):
    _, key = sending
    headers = {**basic(key), "Content-Type": FORM}
    for form in (b"email=x%40example.com&tags[x]=a&tags[]=b", b"email=x%40example.com&tags[]=b&tags[x]=a"):
        response = client.http.post("/v1/people.json", headers=headers, body=form)
        assert response.status_code == 422, response.body
        assert json.loads(response.body)["errors"][0]["field"] == "tags"


def test_every_v1_error_has_the_errors_array_and_a_429_says_the_limit_and_when(client, sending, monkeypatch):
    _, key = sending
    response = client.http.request("PATCH", "/v1/people.json", headers=basic(key), body=b"")
    assert response.status_code == 405 and response.headers["Allow"] == "POST, GET"
    _error_shape(405, json.loads(response.body), None)
    assert json.loads(response.body)["message"] == "/v1/people.json takes POST, GET, not PATCH."
    response = client.http.post("/v1/people.json", headers={**basic(key), "Content-Type": "text/plain"}, body=b"x")
    assert response.status_code == 415
    _error_shape(415, json.loads(response.body), "Content-Type")
    _error_shape(401, call(client, "GET", "/v1/people.json", "not-a-key")[1], "Authorization")
    _error_shape(404, call(client, "GET", "/v1/survey_responses/nope.json", key)[1], "id")

    monkeypatch.setenv("CLOSELOOP_V1_RATE_LIMIT", "1")
    monkeypatch.setenv("CLOSELOOP_V1_RATE_WINDOW", "3600")
    call(client, "GET", "/v1/metrics.json", key)
    status, body, headers = call(client, "GET", "/v1/metrics.json", key)
    assert status == 429
    _error_shape(429, body, None)
    wait = int(headers["Retry-After"])
    assert body["message"] == (
        "An API key may make 1 calls in each window of 3,600 seconds, and this key has made them: "
        f"try again in {wait:,} seconds (the Retry-After header)."
    )


def test_an_unknown_v1_path_gets_a_v1_404_and_real_routes_are_not_shadowed(client, sending):
    _, key = sending
    for method in ("GET", "POST", "DELETE"):
        response = client.http.request(method, "/v1/nope.json", headers=basic(key), body=b"")
        assert response.status_code == 404, (method, response.body)
        _error_shape(404, json.loads(response.body), None)
        assert json.loads(response.body)["message"] == "The v1 API has no route /v1/nope.json."
    response = client.http.post("/v1/nope", headers={"Content-Type": FORM}, body=b"a=1")  # no key, a form: still 404
    assert response.status_code == 404
    root = client.http.get("/v1", headers=basic(key))
    assert root.status_code == 404 and json.loads(root.body)["message"] == "The v1 API has no route /v1."
    assert call(client, "GET", "/v1/people", key)[0] == 200
    assert call(client, "GET", "/v1/metrics.json", key)[0] == 200
    assert call(client, "GET", "/v1/autopilot/email.json", key)[0] == 404  # its own 404: a one-off campaign


def test_odd_people_input_is_named_as_sent(client, sending):
    """The messages name what was sent, in the field it was sent in: not "an address is required" for a number,
    not `name.name`, not a 404 for an empty `email:`."""
    _, key = sending
    for body, field, message in (
        ({"email": 5}, "email", "email is text, not a number."),
        ({"email": ["a@example.com"]}, "email", "email is text, not a list or an object."),
        ({"email": "a@example.com", "name": {"a": 1}}, "name", "name is text, not a list or an object."),
        ({"email": "a@example.com", "name": "x" * 501}, "name", None),
    ):
        status, answer, _ = call(client, "POST", "/v1/people.json", key, body)
        assert status == 422 and answer["errors"][0]["field"] == field, (body, answer)
        assert message is None or answer["message"] == message, answer
    status, answer, _ = call(client, "DELETE", "/v1/people/email:", key)
    assert status == 422 and answer["errors"][0]["field"] == "email", answer
    status, answer, _ = call(client, "DELETE", "/v1/people/zz%40example.com", key)
    assert status == 404 and "use email:zz@example.com" in answer["message"], answer
    form = {"Content-Type": "application/x-www-form-urlencoded", **basic(key)}
    deep = client.http.post("/v1/people.json", headers=form, body=b"email=f2%40example.com&properties[plan][]=a")
    answer = json.loads(deep.body)
    assert deep.status_code == 422 and answer["errors"][0]["field"] == "properties", answer
    assert answer["message"] == (
        "properties[plan][] nests deeper than the v1 API reads a form: send properties[name]=value, or a JSON body."
    )


def _imported(campaign, additional: list | None = None) -> Invitation:
    """A response imported from Delighted, answered 120 days ago (10, "Great support"), its loop resolved."""
    answered = int(time.time() - 120 * 86400)
    row = {
        "id": "d77",
        "person": {"id": "p77", "email": "ida@example.com", "name": "Ida"},
        "survey_type": "nps",
        "score": 10,
        "comment": "Great support",
        "created_at": answered,
        "updated_at": answered,
        "person_properties": {"plan": "pro"},
        "additional_answers": additional or [],
    }
    upload = history_import.Upload("responses.json", json.dumps([row]))
    history_import.import_files(campaign.id, [upload], time.time(), "test")
    counting.apply_pending()
    return Invitation.get(history.history_id(campaign.id, "d77"))


def test_an_edit_to_a_detractor_reopens_a_resolved_imported_response_due_from_the_edit(client, sending):
    campaign, key = sending
    imported = _imported(campaign)
    assert imported.loop_status == "resolved" and imported.case_campaign is None
    edited = time.time()

    changed = {"score": 0, "comment": "Changed my mind"}
    assert call(client, "PUT", f"/v1/survey_responses/{imported.id}.json", key, changed)[0] == 200
    counting.apply_pending()

    # the API and the response page say what the queue says: the case is open again, due 48 hours after the edit
    loop = client.http.get(f"/api/responses/{imported.id}", headers=admin_headers()).json_body["response"]["loop"]
    assert loop["status"] == "acknowledged"
    assert loop["case_due_at"] == pytest.approx(edited + 48 * 3600, abs=120)
    assert loop["history"][-1]["note"].startswith("Reopened: the answer changed after the case was resolved")
    page = client.http.get(f"/dashboard/responses/{imported.id}", headers=session_headers()).body.decode()
    assert '<span class="badge">acknowledged</span>' in page
    queue = client.http.get("/dashboard", headers=session_headers("viewer")).body.decode()
    overdue, waiting = queue.split('id="overdue-heading"')[1].split('id="waiting-heading"')
    assert "ida@example.com" not in overdue and "ida@example.com" in waiting
    assert re.search(r"4[78] h \d+ min left", waiting.split("ida@example.com")[1])
    # two days later the digest lists it as waiting since the edit, not since the answer 120 days ago
    later = time.time() + 49 * 3600
    view = campaigns.get_view(campaign.id)
    built = digest.preview(view, digest.latest_period("weekly", later, view.timezone), later)
    text = digest.render_message(built, "cx@acme.example", get_settings()).get_body(("plain",)).get_content()
    assert "ida@example.com (0/10), waiting 49 hours" in text


def test_a_comment_set_through_v1_is_the_text_questions_answer_too(client, sending):
    campaign, key = sending
    imported = _imported(campaign)
    assert imported.answers["why"] == "Great support"

    status, updated, _ = call(client, "PUT", f"/v1/survey_responses/{imported.id}", key, {"comment": "Changed my mind"})

    assert status == 200 and updated["comment"] == "Changed my mind"
    assert Invitation.get(imported.id).answers["why"] == "Changed my mind"
    why = [a["value"] for a in updated["additional_answers"] if a["question"]["id"] == "why"]
    assert why in ([], [{"free_response": "Changed my mind"}])
    page = client.http.get(f"/dashboard/responses/{imported.id}", headers=session_headers()).body.decode()
    assert "Great support" not in page
    # a response posted with a comment answers the text question as well
    _, person, _ = call(client, "POST", "/v1/people.json", key, {"email": "jo@example.com", "send": False})
    posted = call(client, "POST", "/v1/survey_responses", key, {"person": person["id"], "score": 9, "comment": "Fast"})
    assert Invitation.get(posted[1]["id"]).answers["why"] == "Fast"
    # and emptying the comment empties the answer
    assert call(client, "PUT", f"/v1/survey_responses/{imported.id}", key, {"comment": ""})[0] == 200
    stored = Invitation.get(imported.id)
    assert stored.comment is None and "why" not in stored.answers


@pytest.mark.parametrize(("survey", "limit"), [(NPS_SURVEY, 5000), (SURVEY, 2000)])
def test_a_v1_comment_is_held_to_the_survey_forms_limit(client, db, outbox, survey, limit):
    sent = launch(outbox, survey=survey)
    key, _ = keys.mint_key("limits", sent.campaign.id, time.time())
    _, person, _ = call(client, "POST", "/v1/people.json", key, {"email": "long@example.com", "send": False})
    answer = {"person": person["id"], "score": 9}

    status, refused, _ = call(client, "POST", "/v1/survey_responses", key, {**answer, "comment": "x" * 20_000})
    assert status == 422 and refused["errors"][0]["field"] == "comment"
    assert f"at most {limit:,} characters" in refused["message"] and "20,000" in refused["message"]
    status, response, _ = call(client, "POST", "/v1/survey_responses", key, {**answer, "comment": "x" * limit})
    assert status == 200 and len(response["comment"]) == limit
    path = f"/v1/survey_responses/{response['id']}"
    status, refused, _ = call(client, "PUT", path, key, {"comment": "y" * (limit + 1)})
    assert status == 422 and refused["errors"][0]["field"] == "comment"
    assert Invitation.get(response["id"]).comment == "x" * limit


def test_answers_imported_to_questions_the_campaign_does_not_ask_are_additional_answers(client, sending):
    campaign, key = sending
    other = {
        "id": "a2",
        "value": {"free_response": "more colours"},
        "question": {"id": "q_9", "type": "free_response", "text": "Anything else?"},
    }
    asked = {"id": "a1", "value": {"select_one": {"text": "Support"}}, "question": {"text": "What matters most?"}}
    imported = _imported(campaign, [asked, other])

    listed = call(client, "GET", "/v1/survey_responses.json", key)[1]
    mine = next(r for r in listed if r["id"] == imported.id)
    assert mine["additional_answers"][-1] == other
    assert {"id": "reason", "type": "single_choice", "text": "What matters most?"} in [
        a["question"] for a in mine["additional_answers"]
    ]
    assert call(client, "GET", f"/v1/survey_responses/{imported.id}.json", key)[1]["additional_answers"][-1] == other


def test_answers_posted_through_v1_are_not_still_to_send(client, sending):
    campaign, key = sending
    for n in range(3):
        _, person, _ = call(client, "POST", "/v1/people.json", key, {"email": f"api{n}@example.com", "send": False})
        call(client, "POST", "/v1/survey_responses", key, {"person": person["id"], "score": 8})
    counting.apply_pending()

    for path, pending, not_mailed in (
        (f"/dashboard/campaigns/{campaign.id}/send", "send-pending", "send-not-mailed"),
        (f"/dashboard/campaigns/{campaign.id}", "progress-pending", "progress-not-mailed"),
    ):
        page = client.http.get(path, headers=session_headers()).body.decode()
        assert f'id="{pending}">0<' in page, path
        assert f'id="{not_mailed}">3<' in page, path
