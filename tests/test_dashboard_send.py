"""The campaign preview, the send page (now, at a time in the campaign's zone, pause, resume, cancel) and
the sending progress and delivery problems on the campaign page, through chalice's test Client.

Campaigns, imports, sends, failures and bounces go through the real use cases (tests/helpers.py), and
the pages are compared with what the admin API answers for the same request.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.core.config import get_settings
from chalicelib.dashboard.send_pages import PREVIEW_BANNER, local_time, parse_properties
from chalicelib.delighted import keys
from chalicelib.queue import get_queue
from chalicelib.store.models import Invitation
from tests.conftest import admin_headers
from tests.dashboard_support import FORM_HEADERS, csrf_of, session_headers
from tests.helpers import create_campaign, drain, invitation_of, invitations_of, launch, totals
from tests.test_delighted_api import call

ADA = {"email": "ada@example.com", "properties": {"plan": "pro", "first_name": "Ada"}}
GRACE = {"email": "grace@example.com", "properties": {"plan": "free", "first_name": "Grace"}}
GREETING = {"subject": "Hi {{ first_name | default('there') }}, a quick question", "company": "Acme"}


def get(client, path: str, headers: dict):
    response = client.http.get(path, headers=headers)
    return response.status_code, response.body.decode(), response.headers


def post(client, path: str, fields: dict, headers: dict):
    return client.http.post(path, body=urlencode(fields), headers={**headers, **FORM_HEADERS})


def draft(**options):
    return create_campaign([ADA, GRACE], options={**GREETING, **options}, timezone="Europe/Paris")


def text_of(html: str, ident: str) -> str:
    found = re.search(rf'id="{ident}"[^>]*>(.*?)</', html, re.S)
    assert found, f"no #{ident}"
    return unescape(found.group(1)).strip()


def attribute(html: str, ident: str, name: str) -> str:
    tag = re.search(rf'<[^>]*id="{ident}"[^>]*>', html).group(0)
    return unescape(re.search(rf'{name}="([^"]*)"', tag).group(1))


def stored_counts(campaign_id: str) -> tuple[int, int]:
    """Invitations of the campaign, and those with an answer: what a preview must never change."""
    found = invitations_of(campaign_id)
    return len(found), sum(1 for i in found if i.answered_at is not None or i.unsubscribed_at is not None)


# --- pure helpers ------------------------------------------------------------------------------------


def test_sample_properties_are_name_value_lines():
    assert parse_properties("first_name = Ada\n\nplan=pro=max\n") == {"first_name": "Ada", "plan": "pro=max"}
    assert parse_properties("  \n") is None
    with pytest.raises(Exception, match="Line 2 is not name=value") as refused:
        parse_properties("a=1\nno equals sign")
    assert refused.value.field == "properties"


def test_a_local_time_is_read_in_the_campaigns_zone():
    assert local_time("2026-12-01T09:00", "Europe/Paris") == "2026-12-01T09:00:00+01:00"
    assert local_time("2026-07-01T09:00", "America/New_York") == "2026-07-01T09:00:00-04:00"
    assert local_time("tomorrow", "Europe/Paris") == "tomorrow"


# --- preview ------------------------------------------------------------------------------------------


def test_the_preview_shows_the_apis_email_for_a_recipient_and_writes_nothing(client):
    campaign = draft(reply_to="cx@acme.example")
    headers = session_headers()
    before = stored_counts(campaign.id)
    base = f"/dashboard/campaigns/{campaign.id}/preview"
    status, html, _ = get(client, f"{base}?{urlencode({'email': ADA['email']})}", headers)
    assert status == 200
    api = client.http.post(
        f"/api/campaigns/{campaign.id}/preview", body=json.dumps({"email": ADA["email"]}), headers=admin_headers()
    )
    expected = json.loads(api.body)
    assert text_of(html, "preview-subject") == expected["subject"] == "Hi Ada, a quick question"
    assert text_of(html, "preview-from") == expected["from"]
    assert text_of(html, "preview-reply-to") == "cx@acme.example"
    assert 'sandbox="allow-same-origin allow-forms"' in html
    text = text_of(html, "preview-text")
    assert f"{base}/survey?a=9" in text and "/s/preview" not in text

    src = attribute(html, "preview-email", "src")
    status, email, email_headers = get(client, src, headers)
    assert status == 200
    csp = email_headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in csp and "frame-ancestors 'self'" in csp and "script-src" not in csp
    assert "default-src 'none'" in csp and email_headers["X-Frame-Options"] == "SAMEORIGIN"
    links = re.findall(r'href="([^"]+)"', email)
    assert [u for u in links if "?a=" in u] == [f"{base}/survey?a={n}" for n in range(11)]
    assert f"{base}/unsubscribe" in links
    assert all(u.startswith(base) for u in links), links
    assert "<title>Hi Ada, a quick question</title>" in email

    # the score link shows the real survey page with that score chosen, posting to the preview
    status, survey, survey_headers = get(client, f"{base}/survey?a=9", headers)
    assert status == 200 and "frame-ancestors 'self'" in survey_headers["Content-Security-Policy"]
    assert re.search(r'value="9" checked', survey) and f'action="{base}/survey"' in survey
    assert "survey.js" not in survey
    assert survey.count(PREVIEW_BANNER) == 1 and PREVIEW_BANNER in email
    form = {"csrf": csrf_of(survey), "q_nps": "9", "q_reason": "Support", "comment": "Fine", "evidence": "submit"}
    thanks = post(client, f"{base}/survey", form, headers)
    assert thanks.status_code == 200 and "Thank you!" in thanks.body.decode() and "Support" in thanks.body.decode()
    wrong = post(client, f"{base}/survey", {**form, "q_nps": "11"}, headers)
    assert wrong.status_code == 400 and 'class="error"' in wrong.body.decode()

    status, unsubscribe, _ = get(client, f"{base}/unsubscribe", headers)
    assert status == 200 and f'action="{base}/unsubscribe"' in unsubscribe
    done = post(client, f"{base}/unsubscribe", {"csrf": csrf_of(unsubscribe), "List-Unsubscribe": "One-Click"}, headers)
    assert done.status_code == 200 and "You are unsubscribed" in done.body.decode()
    assert all(PREVIEW_BANNER in page for page in (thanks.body.decode(), unsubscribe, done.body.decode()))

    assert stored_counts(campaign.id) == before
    assert all(i.send_state == "pending" and i.score is None for i in invitations_of(campaign.id))
    assert suppression.reason_for(ADA["email"]) is None


def test_the_preview_uses_sample_properties_and_keeps_what_was_typed_on_error(client):
    campaign = draft()
    headers = session_headers()
    base = f"/dashboard/campaigns/{campaign.id}/preview"
    _, html, _ = get(client, base, headers)
    token = csrf_of(html)
    typed = {
        "csrf": token,
        "email": "someone@example.com",
        "properties": "first_name=Linus\r\nplan=free",
        "width": "1280",
    }
    response = post(client, base, typed, headers)
    html = response.body.decode()
    assert response.status_code == 200 and text_of(html, "preview-subject") == "Hi Linus, a quick question"
    assert "first_name=Linus\r\nplan=free</textarea>" in html and 'class="w1280"' in html
    status, email, _ = get(client, attribute(html, "preview-email", "src"), headers)
    assert status == 200 and "<title>Hi Linus, a quick question</title>" in email

    response = post(client, base, {**typed, "email": "not an address", "properties": "a=1"}, headers)
    html = response.body.decode()
    api = client.http.post(
        f"/api/campaigns/{campaign.id}/preview", body=json.dumps({"email": "not an address"}), headers=admin_headers()
    )
    assert response.status_code == 400 and api.status_code == 400
    assert text_of(html, "f-email-error") == json.loads(api.body)["error"]["message"]
    assert 'value="not an address"' in html and "a=1</textarea>" in html
    assert 'aria-invalid="true"' in html

    response = post(client, base, {**typed, "properties": "oops"}, headers)
    assert response.status_code == 400
    assert "Line 1 is not name=value" in text_of(response.body.decode(), "f-properties-error")


def test_a_template_that_fails_is_shown_at_the_top(client):
    campaign = draft()
    # options stored before they were checked, as api.preview's own guard anticipates
    campaigns.update_draft(campaign.id, {"options": {**GREETING, "subject": "{{ 1 / 0 }}"}}, time.time())
    status, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/preview", session_headers())
    assert status == 400 and 'class="notice bad"' in html and "options.subject" in html


def test_the_preview_lists_recipients_and_defaults_to_one(client):
    campaign = draft()
    status, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/preview?width=1280", session_headers("viewer"))
    assert status == 200
    assert '<option value="ada@example.com">' in html and '<option value="grace@example.com">' in html
    assert 'value="ada@example.com"' in html and 'class="w1280"' in html
    assert text_of(html, "preview-subject") == "Hi Ada, a quick question"


# --- send ---------------------------------------------------------------------------------------------


def send_form(client, campaign_id: str, headers: dict, **fields):
    path = f"/dashboard/campaigns/{campaign_id}/send"
    _, html, _ = get(client, path, headers)
    return post(client, path, {"csrf": csrf_of(html), **fields}, headers)


def test_send_now_starts_sending_and_the_invitations_go(client, outbox):
    campaign = draft()
    headers = session_headers()
    status, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/send", headers)
    assert status == 200 and text_of(html, "send-recipients") == "2"
    assert 'type="datetime-local"' in html and "Europe/Paris" in html
    response = send_form(client, campaign.id, headers, when="now")
    assert response.status_code == 303 and response.headers["Location"].endswith("/send?done=sending")
    assert campaigns.get_view(campaign.id).status == "sending"
    drain()
    assert {i.send_state for i in invitations_of(campaign.id)} == {"sent"}


def test_the_send_page_counts_who_a_send_now_would_skip_as_the_send_does(client, outbox):
    campaign = create_campaign([ADA, GRACE, {"email": "alan@example.com"}], options=GREETING)
    now = time.time()
    suppression.suppress(GRACE["email"], "bounced", now, source="ses")
    contacts.claim_survey(ADA["email"], "another-campaigns-invitation", now - 86400, get_settings().fatigue_days)
    headers = session_headers()
    _, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/send", headers)
    paragraph = re.search(r'<p id="send-reach">(.*?)</p>', html, re.S).group(1)
    reach = " ".join(unescape(re.sub(r"<[^>]+>", "", paragraph)).split())
    assert reach.startswith("1 of the 3 still to send would get it")
    skips = [unescape(item) for item in re.findall(r"<li>(.*?)</li>", html[html.index('id="send-skips"') :])]
    assert sorted(skips[:2]) == [
        "Suppressed: bounced: 1 skipped",
        "Surveyed within the last 30 days (fatigue window): 1 skipped",
    ]
    assert "within the last 30 days (the fatigue window) are skipped" in text_of(html, "send-rules")
    send_form(client, campaign.id, headers, when="now")
    drain()
    states = {i.email: (i.send_state, i.send_error) for i in invitations_of(campaign.id)}
    assert states[GRACE["email"]] == ("skipped", "suppressed:bounced")
    assert states[ADA["email"]][0] == "skipped" and states["alan@example.com"] == ("sent", None)


def test_schedule_in_the_future_in_the_campaigns_zone(client):
    campaign = draft()
    headers = session_headers()
    zone = ZoneInfo("Europe/Paris")
    later = (datetime.now(zone) + timedelta(days=2)).replace(second=0, microsecond=0)
    response = send_form(client, campaign.id, headers, when="at", at=later.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 303 and response.headers["Location"].endswith("done=scheduled")
    stored = campaigns.get_view(campaign.id)
    assert (stored.status, stored.send_at) == ("scheduled", later.timestamp())
    _, html, _ = get(client, response.headers["Location"], headers)
    assert later.strftime("%Y-%m-%d %H:%M") in text_of(html, "send-scheduled")


def test_a_past_time_is_refused_with_the_apis_message_and_kept(client):
    campaign = draft()
    headers = session_headers()
    typed = (datetime.now(ZoneInfo("Europe/Paris")) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = send_form(client, campaign.id, headers, when="at", at=typed)
    html = response.body.decode()
    assert response.status_code == 400
    api = client.http.post(
        f"/api/campaigns/{campaign.id}/send",
        body=json.dumps({"at": local_time(typed, "Europe/Paris")}),
        headers=admin_headers(),
    )
    message = json.loads(api.body)["error"]["message"]
    assert api.status_code == 400 and "is in the past" in message
    assert text_of(html, "f-at-error") == message
    assert f'value="{typed}"' in html
    assert campaigns.get_view(campaign.id).status == "draft"
    bad = send_form(client, campaign.id, headers, when="at", at="soon")
    assert bad.status_code == 400 and text_of(bad.body.decode(), "f-at-error") == "'soon' is not an ISO 8601 time."
    assert "leave out at" not in message and message.endswith("Give a later time, or send now.")


def api_send_error(client, campaign_id: str, body: dict) -> dict:
    response = client.http.post(f"/api/campaigns/{campaign_id}/send", body=json.dumps(body), headers=admin_headers())
    assert response.status_code in (400, 409), response.body
    return response.json_body["error"]


def test_an_empty_or_far_future_time_gets_the_apis_message_on_the_page(client):
    campaign = draft()
    headers = session_headers()
    empty = send_form(client, campaign.id, headers, when="at", at="")
    assert empty.status_code == 400
    message = api_send_error(client, campaign.id, {"at": ""})["message"]
    assert (
        text_of(empty.body.decode(), "f-at-error") == message == "Give a date and time, e.g. 2026-12-01T09:00:00+01:00."
    )
    far = send_form(client, campaign.id, headers, when="at", at="9999-12-31T23:59")
    assert far.status_code == 400
    message = api_send_error(client, campaign.id, {"at": local_time("9999-12-31T23:59", "Europe/Paris")})["message"]
    assert text_of(far.body.decode(), "f-at-error") == message
    assert message.endswith("is more than 365 days ahead: give a time within the next 365 days.")
    assert campaigns.get_view(campaign.id).status == "draft"


def test_a_send_time_stored_outside_the_calendar_still_shows_the_page_and_can_be_unscheduled(client):
    campaign = draft()
    # stored before such times were refused: 9999-12-31T23:59:59-12:00 is in year 10000 in Paris
    campaigns.start_sending(campaign.id, time.time(), 253402387199.0, get_queue())
    headers = session_headers()
    status, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/send", headers)
    assert status == 200 and "a time that cannot be shown" in text_of(html, "send-scheduled")
    response = post(client, f"/dashboard/campaigns/{campaign.id}/unschedule", {"csrf": csrf_of(html)}, headers)
    assert response.status_code == 303 and response.headers["Location"].endswith("done=unschedule")
    assert (campaigns.get_view(campaign.id).status, campaigns.get_view(campaign.id).send_at) == ("draft", None)
    _, html, _ = get(client, response.headers["Location"], headers)
    assert "Unscheduled: it is a draft again" in html and 'id="send-now"' in html


def test_a_scheduled_campaign_says_it_has_not_gone_out_and_only_an_admin_unschedules_it(client):
    campaign = draft()
    headers = session_headers()
    at = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    send_form(client, campaign.id, headers, when="at", at=at)
    viewer = session_headers("viewer")
    _, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/send", viewer)
    assert "Nothing has gone out yet" in text_of(html, "send-scheduled")
    assert re.search(r'id="send-unschedule"[^>]*disabled', html)
    refused = post(client, f"/dashboard/campaigns/{campaign.id}/unschedule", {"csrf": csrf_of(html)}, viewer)
    assert refused.status_code == 403 and campaigns.get_view(campaign.id).status == "scheduled"
    _, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/send", headers)
    assert not re.search(r'id="send-unschedule"[^>]*disabled', html)
    assert (
        post(client, f"/dashboard/campaigns/{campaign.id}/unschedule", {"csrf": csrf_of(html)}, headers).status_code
        == 303
    )
    again = post(client, f"/dashboard/campaigns/{campaign.id}/unschedule", {"csrf": csrf_of(html)}, headers)
    assert again.status_code == 409 and "Only a scheduled campaign can be unscheduled." in again.body.decode()


def test_a_local_time_the_clocks_skip_is_refused_next_to_the_field(client):
    with pytest.raises(Exception, match="does not exist") as refused:
        local_time("2027-03-28T02:30", "Europe/Paris")
    assert refused.value.field == "at"
    assert local_time("2027-10-31T02:30", "Europe/Paris") == "2027-10-31T02:30:00+02:00"  # repeated: the first
    campaign = draft()
    response = send_form(client, campaign.id, session_headers(), when="at", at="2027-03-28T02:30")
    assert response.status_code == 400
    assert text_of(response.body.decode(), "f-at-error") == (
        "2027-03-28 02:30 does not exist in Europe/Paris (clocks go forward); choose another time."
    )
    assert 'value="2027-03-28T02:30"' in response.body.decode()
    assert campaigns.get_view(campaign.id).status == "draft"


def test_a_campaign_without_recipients_is_refused_with_the_apis_message(client):
    campaign = create_campaign([], timezone="Europe/Paris")
    headers = session_headers()
    response = send_form(client, campaign.id, headers, when="now")
    html = response.body.decode()
    assert response.status_code == 409
    message = api_send_error(client, campaign.id, {})["message"]
    assert message.startswith("This campaign has no recipients yet: add some on the Recipients tab")
    assert unescape(re.search(r'class="notice bad" role="alert"><p>(.*?)</p>', html).group(1)) == message
    assert campaigns.get_view(campaign.id).status == "draft"


def test_the_send_page_says_when_an_import_is_still_adding_recipients(client):
    campaign = create_campaign([ADA], timezone="Europe/Paris")
    rows = "email\n" + "".join(f"r{i}@example.com\n" for i in range(1200))
    imported = client.http.post(
        f"/api/campaigns/{campaign.id}/recipients", body=rows, headers={**admin_headers(), "Content-Type": "text/csv"}
    )
    assert imported.json_body["import"]["status"] == "running"
    progress = client.http.get(
        f"/api/campaigns/{campaign.id}/imports/{imported.json_body['import']['id']}", headers=admin_headers()
    ).json_body["import"]
    waiting = progress["accepted"] - (progress["invited"] or 0) - (progress["already_invited"] or 0)
    headers = session_headers()
    _, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/send", headers)
    assert text_of(html, "send-importing") == (
        f"An import is still running: {waiting:,} more recipients are being added; a send now waits for it to "
        "finish (the campaign shows as scheduled until then) and then goes to every recipient, those included."
    )
    assert "already added and still to send" in html
    assert send_form(client, campaign.id, headers, when="now").headers["Location"].endswith("done=scheduled")
    drain()
    _, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/send", headers)
    assert 'id="send-importing"' not in html


def test_without_a_fatigue_window_the_page_says_there_is_none(client):
    campaign = draft(fatigue_days=0)
    _, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/send", session_headers())
    rules = text_of(html, "send-rules")
    assert "There is no fatigue window" in rules and "0 days" not in html


def test_pause_resume_and_cancel_with_confirmation(client):
    campaign = draft()
    headers = session_headers()
    zone = ZoneInfo("Europe/Paris")
    at = (datetime.now(zone) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    send_form(client, campaign.id, headers, when="at", at=at)
    base = f"/dashboard/campaigns/{campaign.id}"
    _, html, _ = get(client, f"{base}/send", headers)
    token = csrf_of(html)
    assert post(client, f"{base}/pause", {"csrf": token}, headers).status_code == 303
    assert campaigns.get_view(campaign.id).status == "paused"
    again = post(client, f"{base}/pause", {"csrf": token}, headers)
    assert again.status_code == 409 and "This campaign is paused" in again.body.decode()
    assert post(client, f"{base}/resume", {"csrf": token}, headers).status_code == 303
    assert campaigns.get_view(campaign.id).status == "scheduled"
    unconfirmed = post(client, f"{base}/cancel", {"csrf": token}, headers)
    assert unconfirmed.status_code == 400 and "Tick the box" in text_of(unconfirmed.body.decode(), "f-confirm-error")
    assert campaigns.get_view(campaign.id).status == "scheduled"
    done = post(client, f"{base}/cancel", {"csrf": token, "confirm": "yes"}, headers)
    assert done.status_code == 303 and campaigns.get_view(campaign.id).status == "cancelled"
    _, html, _ = get(client, done.headers["Location"], headers)
    assert "Cancelled" in html and 'id="send-now"' not in html


def test_a_viewer_sees_the_send_page_read_only_and_every_change_is_refused(client):
    campaign = draft()
    viewer = session_headers("viewer")
    base = f"/dashboard/campaigns/{campaign.id}"
    status, html, _ = get(client, f"{base}/send", viewer)
    assert status == 200 and "Your role is viewer" in html
    assert re.search(r'id="send-now" disabled', html) and re.search(r'id="f-at"[^>]*disabled', html)
    token = csrf_of(html)
    for action, fields in (
        ("send", {"when": "now"}),
        ("pause", {}),
        ("resume", {}),
        ("cancel", {"confirm": "yes"}),
        ("resend-failed", {}),
    ):
        refused = post(client, f"{base}/{action}", {"csrf": token, **fields}, viewer)
        assert refused.status_code == 403, action
    assert campaigns.get_view(campaign.id).status == "draft"


def test_a_change_without_the_forms_token_is_refused(client):
    campaign = draft()
    response = post(client, f"/dashboard/campaigns/{campaign.id}/send", {"when": "now"}, session_headers())
    assert response.status_code == 403 and campaigns.get_view(campaign.id).status == "draft"


# --- progress and delivery problems on the campaign page ---------------------------------------------


def bounce(invitation: Invitation, kind: str = "Bounce") -> None:
    """The SES event, as the ses_events handler passes it on."""
    event = {
        "eventType": kind,
        "mail": {"tags": {"invitation": [invitation.id], "campaign": [invitation.campaign_id]}},
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": invitation.email}]},
        "complaint": {"complainedRecipients": [{"emailAddress": invitation.email}]},
    }
    suppression.ses_notification(event, time.time())


def test_the_campaign_page_shows_progress_and_delivery_problems(client, outbox):
    people = [ADA, GRACE, {"email": "alan@example.com", "properties": {"plan": "pro"}}]
    sent = launch(
        outbox,
        recipients=[*people, {"email": "edsger@example.com", "properties": {"plan": "pro"}}],
        options={"subject": "Hi {{ first_name.upper() }}"},
    )
    # the template fails for those without a first name: failed, with the reason
    campaign_id = sent.campaign.id
    bounce(invitation_of(sent, ADA["email"]))
    bounce(invitation_of(sent, GRACE["email"]), "Complaint")
    totals(campaign_id)
    headers = session_headers()
    status, html, _ = get(client, f"/dashboard/campaigns/{campaign_id}", headers)
    assert status == 200
    assert text_of(html, "progress-sent") == "2" and text_of(html, "progress-failed") == "2"
    assert text_of(html, "problem-bounced") == "1" and text_of(html, "problem-complained") == "1"
    problems = html[html.index('id="problems-table"') :]
    assert "alan@example.com" in problems and "template" in problems and "edsger@example.com" in problems
    token = csrf_of(html[html.index('id="resend-failed"') - 400 :])
    resent = post(client, f"/dashboard/campaigns/{campaign_id}/resend-failed", {"csrf": token}, headers)
    assert resent.status_code == 303 and "resent=2" in resent.headers["Location"]
    assert {invitation_of(sent, "alan@example.com").send_state} == {"pending"}
    _, viewer_html, _ = get(client, f"/dashboard/campaigns/{campaign_id}", session_headers("viewer"))
    assert 'id="resend-failed"' not in viewer_html


def test_the_campaign_page_shows_a_progress_bar_while_sending(client, outbox):
    campaign = draft()
    campaigns.start_sending(campaign.id, time.time(), None, get_queue())
    totals(campaign.id)
    _, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}", session_headers())
    assert re.search(r'<progress id="send-progress" max="2" value="0"', html)
    assert "Refresh" in html


def test_the_overview_names_skips_and_failures_in_the_recipients_tabs_words(client, outbox):
    campaign = create_campaign(
        [ADA, GRACE, {"email": "alan@example.com"}], options={"subject": "Hi {{ plan.upper() }}"}
    )
    suppression.suppress(GRACE["email"], "complained", time.time(), source="ses")
    campaigns.start_sending(campaign.id, time.time(), None, get_queue())
    drain()
    totals(campaign.id)
    _, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}", session_headers())
    problems = unescape(html[html.index('id="problems"') :])
    assert "Suppressed (on the suppression list): 1" in problems and "Suppressed: complained" in problems
    assert "suppressed:complained" not in problems
    assert "A subject or intro template fails for this contact: 1" in problems
    assert "A subject or intro template fails for this contact: options.subject" in problems
    assert "template:" not in problems


def test_the_live_survey_page_has_no_preview_banner(client, outbox):
    sent = launch(outbox)
    status, html, _ = get(client, sent.pages[ADA["email"]], {})
    assert status == 200 and "Preview: nothing you do here is recorded." not in html


def test_an_answer_posted_through_the_v1_api_is_never_counted_as_still_to_send(client, outbox):
    campaign = create_campaign([{"email": "alan@example.com"}], options=GREETING)
    key, _ = keys.mint_key("shop", campaign.id, time.time())
    _, person, _ = call(client, "POST", "/v1/people.json", key, {"email": "api@example.com", "send": False})
    assert call(client, "POST", "/v1/survey_responses.json", key, {"person": person["id"], "score": 9})[0] == 200
    headers = session_headers()

    _, html, _ = get(client, f"/dashboard/campaigns/{campaign.id}/send", headers)
    reach = " ".join(
        unescape(re.sub(r"<[^>]+>", "", re.search(r'<p id="send-reach">(.*?)</p>', html, re.S)[1])).split()
    )
    assert reach.startswith("1 of the 1 still to send would get it"), reach
    _, listed, _ = get(client, f"/dashboard/campaigns/{campaign.id}/recipients", headers)
    assert "<td>Answered through the API, not mailed</td>" in listed
