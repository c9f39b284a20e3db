"""The loop-working pages of the dashboard (issue 17): the loop queue, responses, one response and its
actions, the export; every "Open the response" link our emails carry leads here."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from chalicelib.answers.counting import apply_pending
from chalicelib.core import counters
from chalicelib.core.config import get_settings
from chalicelib.dashboard import loop_pages
from chalicelib.insight import reports
from chalicelib.loop import casework, followups
from chalicelib.store.counts import add
from chalicelib.store.models import Invitation
from chalicelib.store.transact import update
from tests.conftest import admin_headers, html_links, local_path, read_outbox
from tests.dashboard_support import FORM_HEADERS, csrf_of, session_headers
from tests.helpers import drain, invitation_of, launch, submit

HOUR = 3600
PEOPLE = [
    ("upset@example.com", "pro", "2", "Too expensive for what it does"),
    ("angry@example.com", "free", "0", "Support never answered"),
    ("meh@example.com", "pro", "7", "Fine, a bit pricey"),
    ("fan@example.com", "free", "10", "Love it"),
    ("quiet@example.com", "pro", "9", ""),
]


@pytest.fixture
def answered(client, outbox, monkeypatch):
    """A campaign whose five customers answered (two detractors), counted, acknowledged and alerted."""
    monkeypatch.setenv("CLOSELOOP_ACK_DELAY", "0")
    recipients = [{"email": email, "properties": {"plan": plan}} for email, plan, _, _ in PEOPLE]
    options = {
        "reply_to": "care@acme.example",
        "alert_emails": ["cx@acme.example"],
        "themes": {"pricing": ["price", "expensive", "pricey"], "support": ["support"]},
    }
    sent = launch(outbox, recipients, options=options)
    for email, _, score, comment in PEOPLE:
        submit(client, sent.pages[email], {"q_nps": score, "comment": comment})
    apply_pending()
    followups.acknowledge_due(time.time() + 1, get_settings())
    drain()
    return sent


def post(client, path, fields, headers):
    return client.http.post(path, body=urlencode(fields), headers={**FORM_HEADERS, **headers})


def html(response) -> str:
    return response.body.decode()


def make_overdue(invitation_id: str, hours: float) -> None:
    """The case's target passed `hours` ago: as if two days had gone by since the answer."""
    update(Invitation, invitation_id, [Invitation.case_due_at.set(time.time() - hours * HOUR)])


def test_the_loop_queue_lists_waiting_detractors_most_overdue_first(client, answered):
    upset, angry = invitation_of(answered, "upset@example.com"), invitation_of(answered, "angry@example.com")
    make_overdue(upset.id, 1)
    make_overdue(angry.id, 5)
    body = html(client.http.get("/dashboard", headers=session_headers("viewer")))
    overdue = body.split('id="overdue-heading"')[1].split('id="waiting-heading"')[0]
    assert overdue.index("angry@example.com") < overdue.index("upset@example.com")  # most overdue first
    assert "5 h 0 min overdue" in overdue and "Support never answered" in overdue and "plan: free" in overdue
    assert f'href="/dashboard/responses/{angry.id}"' in overdue
    assert "meh@example.com" not in overdue  # a passive is no case
    acknowledged = body.split('id="acknowledged-heading"')[1].split('id="falling-heading"')[0]
    assert all(email in acknowledged for email, *_ in PEOPLE)
    assert "We read your feedback" in acknowledged


def test_a_case_within_its_target_waits_with_the_time_left(client, answered):
    body = html(client.http.get("/dashboard", headers=session_headers()))
    assert "No case is past its target time." in body
    waiting = body.split('id="waiting-heading"')[1].split('id="acknowledged-heading"')[0]
    assert "upset@example.com" in waiting and "angry@example.com" in waiting
    assert "47 h" in waiting and " left" in waiting  # contact within 48 hours by default


def test_a_significant_drop_in_the_response_rate_is_listed_and_noise_is_not(client, answered, tmp_path):
    today = reports.local_date(time.time(), answered.campaign.timezone)
    last, before = (reports.week_of(reports.monday_of(today) - timedelta(weeks=n)) for n in (1, 2))
    add(answered.campaign.id, [counters.counter_key(before, "_")], {"sent": 200, "responses": 100})
    add(answered.campaign.id, [counters.counter_key(last, "_")], {"sent": 200, "responses": 40})
    body = html(client.http.get("/dashboard", headers=session_headers()))
    falling = body.split('id="falling-heading"')[1]
    assert "two-proportion z test" in falling
    assert f"50% in week {before[2:]}, 20% in week {last[2:]}" in falling
    # the same drop on 20 invitations a week is within the noise
    other = launch(tmp_path / "unread", [{"email": "x@example.com"}])  # its mail is not read here
    add(other.campaign.id, [counters.counter_key(before, "_")], {"sent": 20, "responses": 10})
    add(other.campaign.id, [counters.counter_key(last, "_")], {"sent": 20, "responses": 6})
    falling = html(client.http.get("/dashboard", headers=session_headers())).split('id="falling-heading"')[1]
    assert falling.count("<li>") == 1


def rows_of(body: str) -> list[str]:
    table = body.split('id="responses-caption"')[1].split("</tbody>")[0]
    return [row.split('">')[1].split("<")[0] for row in table.split('href="/dashboard/responses/')[1:]]


def test_responses_are_filtered_by_every_field(client, answered):
    headers = session_headers("viewer")
    base = f"/dashboard/responses?campaign={answered.campaign.id}"

    def emails(**filters):
        response = client.http.get(f"{base}&{urlencode(filters)}", headers=headers)
        assert response.status_code == 200, html(response)
        return set(rows_of(html(response)))

    assert emails() == {email for email, *_ in PEOPLE}
    assert emails(category="detractor") == {"upset@example.com", "angry@example.com"}
    assert emails(property="plan", value="pro") == {"upset@example.com", "meh@example.com", "quiet@example.com"}
    assert emails(theme="pricing") == {"upset@example.com", "meh@example.com"}
    assert emails(q="SUPPORT never") == {"angry@example.com"}
    assert emails(loop_status="acknowledged", category="promoter") == {"fan@example.com", "quiet@example.com"}
    today = date.today()
    assert emails(since=(today - timedelta(days=1)).isoformat(), until=(today + timedelta(days=1)).isoformat())
    assert emails(until=(today - timedelta(days=2)).isoformat()) == set()


def test_a_bad_filter_is_shown_next_to_its_field_keeping_what_was_typed(client, answered):
    base = f"/dashboard/responses?campaign={answered.campaign.id}"
    bad_day = client.http.get(f"{base}&since=yesterday&q=price", headers=session_headers())
    body = html(bad_day)
    assert bad_day.status_code == 400
    assert 'type="text" id="f-since" name="since" value="yesterday" aria-invalid="true"' in body
    assert 'id="f-since-error">Answered from is a day such as 2026-09-01.' in body
    assert 'name="q" value="price"' in body
    no_value = html(client.http.get(f"{base}&property=plan", headers=session_headers()))
    assert 'id="f-value-error">Give the value of plan to keep.' in no_value
    unknown_theme = html(client.http.get(f"{base}&theme=shipping", headers=session_headers()))
    assert 'id="f-theme-error">theme is one of this campaign' in unknown_theme
    forged = client.http.get(f"{base}&cursor=e30.forged", headers=session_headers())
    assert forged.status_code == 400
    assert (
        '<p class="notice bad" role="alert">That page link belongs to another list or other filters, or was changed: '
        f'start from the first page. <a href="/dashboard/responses?campaign={answered.campaign.id}">First page</a></p>'
    ) in html(forged)


def test_responses_page_through_with_the_filters_kept(client, answered, monkeypatch):
    monkeypatch.setattr(loop_pages, "PAGE_SIZE", 2)
    headers = session_headers()
    path = f"/dashboard/responses?campaign={answered.campaign.id}&property=plan&value=pro"
    seen = []
    while path:
        body = html(client.http.get(path, headers=headers))
        seen += rows_of(body)
        following = body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0] if 'rel="next"' in body else ""
        if following:
            assert parse_qs(urlsplit(following.replace("&amp;", "&")).query)["value"] == ["pro"]
        path = following.replace("&amp;", "&")
    assert seen == ["quiet@example.com", "meh@example.com", "upset@example.com"]  # newest first, each once


def test_one_response_shows_everything_that_happened(client, answered):
    upset = invitation_of(answered, "upset@example.com")
    body = html(client.http.get(f"/dashboard/responses/{upset.id}", headers=session_headers("viewer")))
    assert "<title>Response from upset@example.com · Closeloop</title>" in body
    assert "How likely are you to recommend us?" in body and "Too expensive for what it does" in body
    assert "<dt>plan</dt><dd>pro</dd>" in body and "Themes: pricing (matched “expensive”)" in body
    assert "&ldquo;We read your feedback&rdquo;" in body  # the acknowledgement sent, with its subject
    assert "Alert by email" in body and "cx@acme.example" in body and "delivered" in body
    assert 'href="mailto:upset@example.com?subject=Your%20feedback&amp;cc=care%40acme.example"' in body
    assert "Acknowledgement sent: We read your feedback" in body  # the loop history
    assert "Your role is viewer" in body and "Record what happened" not in body


def test_why_an_acknowledgement_was_not_sent_is_shown(client, outbox, monkeypatch):
    sent = launch(outbox, [{"email": "ada@example.com", "properties": {"plan": "pro"}}])
    submit(client, sent.pages["ada@example.com"], {"q_nps": "3"})
    apply_pending()
    ada = invitation_of(sent, "ada@example.com")
    body = html(client.http.get(f"/dashboard/responses/{ada.id}", headers=session_headers()))
    assert "Not sent yet: due" in body and "a customer still typing is not interrupted" in body
    update(Invitation, ada.id, [Invitation.ack_state.set("skipped"), Invitation.ack_error.set("unsubscribed")])
    body = html(client.http.get(f"/dashboard/responses/{ada.id}", headers=session_headers()))
    assert "Not sent: unsubscribed." in body


def test_marking_contacted_records_the_note_and_the_case_leaves_the_queue(client, answered):
    headers = session_headers("admin", "lead@closeloop-test.example")
    upset = invitation_of(answered, "upset@example.com")
    make_overdue(upset.id, 2)
    path = f"/dashboard/responses/{upset.id}"
    form = html(client.http.get(path, headers=headers))
    done = post(
        client,
        f"{path}/loop",
        {"csrf": csrf_of(form), "action": "contacted", "note": "Called, refund offered"},
        headers,
    )
    assert done.status_code == 303 and done.headers["Location"] == f"{path}?saved=contacted#history"
    body = html(client.http.get(f"{path}?saved=contacted", headers=headers))
    assert "Marked contacted." in body and "Called, refund offered" in body and "by lead@closeloop-test.example" in body
    queue = html(client.http.get("/dashboard", headers=headers))
    assert "upset@example.com" not in queue.split('id="acknowledged-heading"')[0]
    assert "No case is past its target time." in queue
    post(client, f"{path}/loop", {"csrf": csrf_of(form), "action": "resolved", "note": "Refunded"}, headers)
    post(client, f"{path}/loop", {"csrf": csrf_of(form), "action": "reopen", "note": "They wrote again"}, headers)
    history = html(client.http.get(path, headers=headers)).split('id="history-heading"')[1]
    assert [s.split("<")[0] for s in history.split("<strong>")[1:]] == [
        "acknowledged",
        "contacted",
        "resolved",
        "acknowledged",
    ]
    assert "They wrote again" in history


def test_a_bad_loop_change_is_shown_next_to_the_field_keeping_the_note(client, answered):
    headers = session_headers()
    path = f"/dashboard/responses/{invitation_of(answered, 'angry@example.com').id}"
    csrf = csrf_of(html(client.http.get(path, headers=headers)))
    refused = post(client, f"{path}/loop", {"csrf": csrf, "action": "escalated", "note": "Typed with care"}, headers)
    body = html(refused)
    assert refused.status_code == 400
    assert 'id="f-action-error">Choose what happened: contacted, resolved or reopen.' in body
    assert ">Typed with care</textarea>" in body
    long = post(client, f"{path}/loop", {"csrf": csrf, "action": "resolved", "note": "x" * 2001}, headers)
    assert long.status_code == 400 and 'id="f-note-error">note is text of at most 2,000 characters.' in html(long)
    assert 'id="f-action-resolved" name="action" value="resolved" checked' in html(long)


def test_a_viewer_cannot_change_the_loop_and_a_form_needs_its_csrf_token(client, answered):
    angry = invitation_of(answered, "angry@example.com")
    path = f"/dashboard/responses/{angry.id}/loop"
    viewer = session_headers("viewer")
    csrf = csrf_of(html(client.http.get("/dashboard", headers=viewer)))
    for action in loop_pages.ACTIONS:
        refused = post(client, path, {"csrf": csrf, "action": action, "note": "no"}, viewer)
        assert refused.status_code == 403 and "Your role is viewer" in html(refused)
    admin = session_headers()
    assert post(client, path, {"action": "contacted"}, admin).status_code == 403
    assert post(client, path, {"csrf": "forged", "action": "contacted"}, admin).status_code == 403
    assert invitation_of(answered, "angry@example.com").loop_status == "acknowledged"  # nothing changed


def test_the_export_holds_the_rows_of_the_filter(client, answered):
    headers = session_headers("viewer")
    filters = {"campaign": answered.campaign.id, "category": "detractor", "theme": "pricing"}
    page = html(client.http.get(f"/dashboard/responses?{urlencode(filters)}", headers=headers))
    export = page.split('class="loop-export"><a href="')[1].split('"')[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(export).query) == {k: [v] for k, v in filters.items()}
    response = client.http.get(export, headers=headers)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert [(r["email"], r["category"]) for r in rows] == [("upset@example.com", "detractor")]
    everything = client.http.get(f"/dashboard/export.csv?campaign={answered.campaign.id}", headers=headers)
    assert len(list(csv.DictReader(io.StringIO(everything.body.decode("utf-8-sig"))))) == len(PEOPLE)


def test_the_export_links_its_next_page_with_the_same_filters(client, answered):
    headers = session_headers()
    first = client.http.get(
        f"/dashboard/export.csv?campaign={answered.campaign.id}&property=plan&value=pro&limit=2", headers=headers
    )
    link = first.headers["Link"].split(">")[0].removeprefix("<")
    assert link.startswith("http://127.0.0.1:8000/dashboard/export.csv?")
    assert parse_qs(urlsplit(link).query)["value"] == ["pro"]
    second = client.http.get(local_path(link), headers=headers)
    emails = [
        r["email"] for body in (first, second) for r in csv.DictReader(io.StringIO(body.body.decode("utf-8-sig")))
    ]
    assert emails == ["upset@example.com", "meh@example.com", "quiet@example.com"]


def test_open_the_response_in_an_alert_leads_through_sign_in_to_its_page(client, answered, outbox):
    [alert] = [m for m in read_outbox(outbox) if str(m["To"]) == "cx@acme.example" and "upset@" in m["Subject"]]
    link = next(u for u in html_links(alert) if "/dashboard/responses/" in u)
    upset = invitation_of(answered, "upset@example.com")
    assert link == f"http://127.0.0.1:8000/dashboard/responses/{upset.id}"
    asked = client.http.get(local_path(link))
    assert asked.status_code == 303
    assert asked.headers["Location"] == f"/dashboard/sign-in?next=%2Fdashboard%2Fresponses%2F{upset.id}"
    assert client.http.get(local_path(link), headers=session_headers()).status_code == 200


def test_an_unknown_response_is_a_404_page(client, answered):
    response = client.http.get("/dashboard/responses/nope", headers=session_headers())
    assert response.status_code == 404 and "No response" in html(response)


def test_no_input_makes_the_loop_pages_fail(client, answered):
    headers = session_headers()
    campaign = answered.campaign.id
    for path in (
        f"/dashboard/responses?campaign={campaign}&category=%FF",
        f"/dashboard/responses?campaign={campaign}&q=" + "x" * 201,
        f"/dashboard/responses?campaign={campaign}&since=2026-13-01",
        f"/dashboard/responses?campaign={campaign}&since=2026-11-02&until=2026-11-01",
        f"/dashboard/responses?campaign={campaign}&property=plan:pro&value=x",
        f"/dashboard/responses?campaign={campaign}&loop_status=lost",
        "/dashboard/responses?campaign=nope",
        "/dashboard/export.csv",
        f"/dashboard/export.csv?campaign={campaign}&limit=0",
        f"/dashboard/export.csv?campaign={campaign}&cursor=forged",
        "/dashboard/responses/%00",
    ):
        response = client.http.get(path, headers=headers)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert response.headers["Content-Type"].startswith("text/html"), path


def test_a_rare_search_reads_a_bounded_slice_per_page_and_the_next_link_goes_on(client, answered, monkeypatch):
    monkeypatch.setattr(casework, "READ_PAGE", 2)
    monkeypatch.setattr(casework, "MAX_EXAMINED", 2)  # as 2,000 of many thousands, at a small scale
    headers = session_headers()
    path = f"/dashboard/responses?campaign={answered.campaign.id}&q=never"
    found, pages = [], 0
    while path:
        body = html(client.http.get(path, headers=headers))
        found += rows_of(body)
        pages += 1
        following = body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0] if 'rel="next"' in body else ""
        path = following.replace("&amp;", "&")
        if pages == 1:
            assert "No response on this page matches these filters." in body and path  # read 2, none matched
    assert found == ["angry@example.com"] and pages == 3


def test_before_any_campaign_has_sent_the_pages_say_so(client):
    headers = session_headers("viewer")
    queue = html(client.http.get("/dashboard", headers=headers))
    assert "across 0 campaigns" in queue and "No case is past its target time." in queue
    listed = client.http.get("/dashboard/responses", headers=headers)
    assert listed.status_code == 200 and "No campaign has sent its survey yet" in html(listed)


def test_the_responses_list_shows_the_excerpt_the_queue_shows_and_the_page_the_whole_comment(client, outbox):
    comment = "Slow " * 80 + "and the end."
    sent = launch(outbox)
    submit(client, sent.pages["ada@example.com"], {"q_nps": "1", "comment": comment})
    apply_pending()
    headers = session_headers()
    listed = html(client.http.get(f"/dashboard/responses?campaign={sent.campaign.id}", headers=headers))
    assert followups.excerpt(comment) in listed and "and the end." not in listed
    shown = html(client.http.get(f"/dashboard/responses/{invitation_of(sent, 'ada@example.com').id}", headers=headers))
    assert comment.strip() in shown


@pytest.mark.parametrize("note", ["Called\x00 Ada", "Called\x1b[31m Ada", "Called\u2028Ada"])
def test_a_note_with_control_characters_is_refused_by_the_dashboard_and_the_api(client, answered, note):
    headers = session_headers()
    response_id = invitation_of(answered, "angry@example.com").id
    path = f"/dashboard/responses/{response_id}"
    csrf = csrf_of(html(client.http.get(path, headers=headers)))
    refused = post(client, f"{path}/loop", {"csrf": csrf, "action": "contacted", "note": note}, headers)
    assert refused.status_code == 400 and "note holds a" in html(refused)
    api = client.http.post(
        f"/api/responses/{response_id}/loop",
        body=json.dumps({"status": "contacted", "note": note}),
        headers=admin_headers(),
    )
    assert api.status_code == 400 and api.json_body["error"]["field"] == "note"
    kept = post(
        client, f"{path}/loop", {"csrf": csrf, "action": "contacted", "note": "Called Ada\r\n\tShe is happy"}, headers
    )
    assert kept.status_code == 303
    assert invitation_of(answered, "angry@example.com").loop_status == "contacted"


def test_a_form_without_its_content_type_gets_the_dashboard_error_page(client, answered):
    headers = session_headers()
    path = f"/dashboard/responses/{invitation_of(answered, 'angry@example.com').id}/loop"
    refused = client.http.post(path, body="action=contacted", headers=headers)
    assert refused.status_code == 415 and refused.headers["Content-Type"].startswith("text/html")
    assert "reload the page" in html(refused)


def test_a_404_page_shows_the_id_as_typed_and_escaped(client, answered):
    response = client.http.get("/dashboard/responses/%3Cscript%3E", headers=session_headers())
    body = html(response)
    assert response.status_code == 404 and "&lt;script&gt;" in body
    assert "%3Cscript%3E" not in body and "<script>" not in body


def test_imported_answers_read_in_each_of_delighteds_shapes():
    def answer(value, text="Q?"):
        return {"question": {"id": "q", "text": text}, "value": value}

    given = [
        answer({"free_response": "more colours"}),
        answer({"scale": 4}),
        answer({"select_one": {"id": "c1", "text": "Yes"}}),
        answer({"select_many": [{"text": "Price"}, {"text": "Support"}]}),
        answer({"scale": 0}),
        {"question": "not an object", "value": {"free_response": "kept"}},
        "not an answer",
    ]
    assert loop_pages.other_answers(given) == [
        ("Q?", "more colours"),
        ("Q?", "4"),
        ("Q?", "Yes"),
        ("Q?", "Price, Support"),
        ("Q?", "0"),
        ("(a question)", "kept"),
    ]


def version_of(body: str) -> str:
    """The loop version the response page's form carries (what the case was when the page was shown)."""
    return body.split('name="version" value="')[1].split('"')[0]


def test_a_stale_tab_cannot_undo_a_colleagues_resolution(client, answered):
    headers = session_headers("admin", "lead@closeloop-test.example")
    upset = invitation_of(answered, "upset@example.com")
    path = f"/dashboard/responses/{upset.id}"
    first, second = html(client.http.get(path, headers=headers)), html(client.http.get(path, headers=headers))
    fields = {"csrf": csrf_of(first), "version": version_of(first)}
    resolved_in_tab_1 = post(client, f"{path}/loop", {**fields, "action": "resolved", "note": "Refunded"}, headers)
    assert resolved_in_tab_1.status_code == 303
    stale = {"csrf": csrf_of(second), "version": version_of(second), "action": "contacted", "note": "Called back"}
    refused = post(client, f"{path}/loop", stale, headers)
    body = html(refused)
    resolved = invitation_of(answered, "upset@example.com")
    when = loop_pages.zone_time(resolved.loop_history[-1]["at"], answered.campaign.timezone)
    assert refused.status_code == 409
    assert (
        "This case changed since you opened the page: lead@closeloop-test.example marked it resolved at "
        f"{when}. Nothing was saved; here it is now."
    ) in body
    assert resolved.loop_status == "resolved" and len(resolved.loop_history) == 2  # nothing saved
    assert '<span class="badge">resolved</span>' in body and ">Called back</textarea>" in body  # the note is kept
    assert 'value="reopen"' in body and 'value="contacted"' not in body  # what a resolved case may do
    assert version_of(body) == "2"  # saving again acts on the case as it is now
    again = {"csrf": csrf_of(body), "version": version_of(body), "action": "reopen", "note": "Called back"}
    assert post(client, f"{path}/loop", again, headers).status_code == 303
    assert invitation_of(answered, "upset@example.com").loop_status == "acknowledged"


def test_only_a_resolved_case_is_reopened_and_the_form_offers_what_its_state_allows(client, answered):
    headers = session_headers()
    angry = invitation_of(answered, "angry@example.com")
    path = f"/dashboard/responses/{angry.id}"
    body = html(client.http.get(path, headers=headers))
    assert 'value="contacted"' in body and 'value="resolved"' in body and 'value="reopen"' not in body
    fields = {"csrf": csrf_of(body), "version": version_of(body), "action": "reopen", "note": "Reopen while open"}
    refused = post(client, f"{path}/loop", fields, headers)
    assert refused.status_code == 409
    assert (
        'id="f-action-error">Only a resolved case can be reopened: this one is acknowledged, so it is still open. '
        "Nothing was saved." in html(refused)
    )
    assert ">Reopen while open</textarea>" in html(refused)
    kept = invitation_of(answered, "angry@example.com")
    assert kept.loop_status == "acknowledged" and [e["status"] for e in kept.loop_history] == ["acknowledged"]
    post(client, f"{path}/loop", {**fields, "action": "contacted", "note": "Called"}, headers)
    contacted = html(client.http.get(path, headers=headers))
    assert 'value="contacted"' in contacted and 'value="resolved"' in contacted and 'value="reopen"' not in contacted
    assert post(client, f"{path}/loop", {**fields, "version": version_of(contacted)}, headers).status_code == 409
    done = {**fields, "version": version_of(contacted), "action": "resolved", "note": "Fixed"}
    post(client, f"{path}/loop", done, headers)
    closed = html(client.http.get(path, headers=headers))
    assert 'value="reopen"' in closed and 'value="contacted"' not in closed and 'value="resolved"' not in closed
    reopened = {**fields, "version": version_of(closed), "note": "They wrote again"}
    assert post(client, f"{path}/loop", reopened, headers).status_code == 303
    page = html(client.http.get(path, headers=headers))
    assert ", then reopened." in page and 'value="contacted"' in page and 'value="reopen"' not in page
