"""Reminders go to non-responders only; recurring surveys ask again every N days on a weekday morning."""

from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.campaigns import campaigns
from chalicelib.queue import get_queue
from chalicelib.sending.delivery import dispatch
from chalicelib.store.models import Invitation, Member
from tests.conftest import admin_headers, read_outbox
from tests.helpers import NPS_SURVEY, create_campaign, drain, invitation_of, launch, submit, totals

DAY = 86400


def _later(days: float) -> float:
    moment = time.time() + days * DAY
    dispatch(moment, get_queue())
    drain(lambda: moment)
    return moment


def test_reminders_go_to_non_responders_only_after_their_delays(client, outbox):
    people = [
        {"email": e, "properties": {"plan": "pro"}}
        for e in ("quiet@example.com", "answered@example.com", "gone@example.com")
    ]
    sent = launch(outbox, people, options={"reminders": [3, 7]})
    submit(client, sent.pages["answered@example.com"], {"q_nps": "9"})
    unsubscribe = read_outbox(outbox)[[str(m["To"]) for m in sent.messages].index("gone@example.com")]
    client.http.post(
        unsubscribe["List-Unsubscribe"].strip("<>").replace("http://127.0.0.1:8000", ""),
        body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    totals(sent.campaign.id)  # the applier has seen the answer
    _later(2)
    assert len(read_outbox(outbox)) == 3  # nothing before the first delay
    _later(3.1)
    reminders = read_outbox(outbox)[3:]
    assert [(str(m["To"]), str(m["Subject"])) for m in reminders] == [
        ("quiet@example.com", "Reminder: A quick question")
    ]
    assert "A gentle reminder" in reminders[0].get_body(("plain",)).get_content()
    _later(3.2)
    assert len(read_outbox(outbox)) == 4  # no duplicate of the first reminder
    _later(7.1)
    _later(30)
    assert [str(m["To"]) for m in read_outbox(outbox)[3:]] == ["quiet@example.com"] * 2  # two reminders, no third
    assert totals(sent.campaign.id)["reminders"] == 2
    assert invitation_of(sent, "quiet@example.com").send_pk is None


def test_a_reminder_stops_once_the_person_answers(client, outbox):
    sent = launch(outbox, options={"reminders": [3]})
    submit(client, sent.pages["ada@example.com"], {"q_nps": "4"})  # not yet seen by the applier
    _later(3.1)
    assert len(read_outbox(outbox)) == 1
    assert invitation_of(sent, "ada@example.com").reminders_sent == 0


def test_a_recurring_survey_asks_again_on_a_weekday_morning_in_the_contacts_time_zone(client, outbox):
    recipients = [
        {"email": "ny@example.com", "properties": {"timezone": "America/New_York"}},
        {"email": "nowhere@example.com"},
    ]
    campaign = create_campaign(recipients, kind="recurring", interval_days=90, timezone="Europe/Paris")
    response = client.http.post(f"/api/campaigns/{campaign.id}/send", body="{}", headers=admin_headers())
    assert response.status_code == 202
    drain()
    first = {i.email: i for i in (Invitation.get(k.id) for k in Invitation.by_campaign.query(campaign.id))}
    for email, zone in (("ny@example.com", "America/New_York"), ("nowhere@example.com", "Europe/Paris")):
        due = datetime.fromtimestamp(Invitation.get(first[email].id).send_due_at, ZoneInfo(zone))
        assert due.weekday() < 5 and 9 <= due.hour < 11, (email, due)
    moment = _later(8)  # every first round is due within a week
    assert sorted(str(m["To"]) for m in read_outbox(outbox)) == ["nowhere@example.com", "ny@example.com"]
    rounds = [i for i in Invitation.by_email.query("ny@example.com")]
    nxt = max((Invitation.get(k.id) for k in rounds), key=lambda i: i.round)
    assert nxt.round == 1 and nxt.send_state == "pending"
    due = datetime.fromtimestamp(nxt.send_due_at, ZoneInfo("America/New_York"))
    assert 89 <= (nxt.send_due_at - moment) / DAY <= 93
    assert due.weekday() < 5 and 9 <= due.hour < 11
    assert campaigns.get_view(campaign.id).status == "sent"


def test_removing_a_member_stops_the_next_rounds(client, outbox, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_FATIGUE_DAYS", "0")
    campaign = create_campaign(
        [{"email": "a@example.com"}, {"email": "b@example.com"}], kind="recurring", interval_days=30
    )
    client.http.post(f"/api/campaigns/{campaign.id}/send", body="{}", headers=admin_headers())
    drain()
    _later(8)
    assert len(read_outbox(outbox)) == 2
    assert "skipped_removed" not in totals(campaign.id)  # the next rounds counted as pending so far
    removed = client.http.delete(f"/api/campaigns/{campaign.id}/members/a%40example.com", headers=admin_headers())
    assert removed.status_code == 200
    assert removed.json_body == {"removed": "a@example.com", "unsent_rounds_cancelled": 1}
    assert totals(campaign.id).get("skipped_removed") == 1  # counted, as a skip at send time is
    _later(45)
    assert [str(m["To"]) for m in read_outbox(outbox)[2:]] == ["b@example.com"]
    again = client.http.delete(f"/api/campaigns/{campaign.id}/members/nobody@example.com", headers=admin_headers())
    assert again.status_code == 404
    assert json.loads(again.body)["error"]["field"] == "email"


def test_recipients_imported_into_a_recurring_campaign_become_members_inline_and_in_chunks(client, outbox):
    """Small imports add members in the API's own request; large ones in queue chunks; re-imports restore them."""
    response = client.http.post(
        "/api/campaigns",
        body=json.dumps({"name": "Q", "survey": NPS_SURVEY, "kind": "recurring", "interval_days": 90}),
        headers=admin_headers(),
    )
    campaign_id = response.json_body["campaign"]["id"]
    small = {"recipients": [{"email": "ada@example.com"}]}
    path = f"/api/campaigns/{campaign_id}/recipients"
    assert client.http.post(path, body=json.dumps(small), headers=admin_headers()).status_code == 201
    many = {"recipients": [{"email": f"p{i}@example.com"} for i in range(501)]}
    for _ in range(2):  # the second import finds every member already there
        assert client.http.post(path, body=json.dumps(many), headers=admin_headers()).status_code == 202
        drain()
    members = {m.email for m in Member.query(campaign_id)}
    assert len(members) == 502 and "ada@example.com" in members and "p500@example.com" in members
