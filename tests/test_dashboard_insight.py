"""Held answers accepted or dismissed once, and the campaign pages that show a campaign's numbers.

A held answer comes from the real survey pages: the trap link is fetched, then a person presses
Submit within its window (as in tests/test_held_answers.py).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from html import escape, unescape
from urllib.parse import urlencode

import pytest

from chalicelib.answers import counting, held, survey_pages
from chalicelib.campaigns import campaigns
from chalicelib.core import nps
from chalicelib.core.config import get_settings
from chalicelib.core.counters import plain
from chalicelib.core.errors import Conflict
from chalicelib.dashboard import insight_pages
from chalicelib.insight import digest, reports
from chalicelib.loop import followups
from chalicelib.store import raw_client, table_name
from chalicelib.store.models import Campaign, Invitation
from tests.conftest import admin_headers, read_outbox
from tests.dashboard_support import FORM_HEADERS, csrf_of, session_headers
from tests.helpers import NPS_SURVEY, drain, invitation_of, launch, totals

EMAIL = "ada@example.com"
CX = "cx@acme.example"
LEAD = "lead@closeloop-demo.example"
DAY = 86400


def token_of(sent, email: str = EMAIL) -> str:
    return sent.pages[email].rsplit("/", 1)[1]


def press(token: str, fields: dict[str, str], now: float, evidence: str = "submit"):
    """What the browser posts when a person presses Submit (or, with no evidence, what a script sends)."""
    csrf = csrf_of(survey_pages.show(token, None, now).body)
    form = {"csrf": csrf, "evidence": evidence, **fields}
    return survey_pages.submit(token, {k: [v] for k, v in form.items()}, {}, now)


def held_answer(outbox, score: str = "3", comment: str = "Too slow", **options):
    """A campaign whose one invitation holds a person's answer caught by the trap window."""
    sent = launch(outbox, options={"alert_emails": [CX], **options})
    token, now = token_of(sent), time.time()
    survey_pages.trap(token, now)
    assert press(token, {"q_nps": score, "comment": comment}, now + 5).status == 200
    return sent, token, now


def acknowledge_everything() -> dict:
    """Run the acknowledgement job once the quiet period of every answer is over."""
    settings = get_settings()
    return dict(followups.acknowledge_due(time.time() + settings.ack_delay + 60, settings))


def mail_to(outbox, address: str) -> list:
    return [m for m in read_outbox(outbox) if str(m["To"]) == address]


# --- the use case: chalicelib.answers.held -----------------------------------------------------


def test_a_held_answer_is_listed_with_its_reason_and_time(db, outbox):
    sent, _, now = held_answer(outbox)
    [entry], cursor = held.list_held(sent.campaign.id, 50)
    assert cursor is None
    assert (entry.email, entry.kind, entry.reason, entry.at) == (EMAIL, "held", "trap", now + 5)
    assert (entry.answers, entry.comment, entry.answered) == ({"nps": 3}, "Too slow", False)
    assert "hidden link" in entry.reason_text


def test_accepting_counts_once_acknowledges_and_alerts_once(db, outbox):
    sent, _, _ = held_answer(outbox)
    invitation_id = invitation_of(sent, EMAIL).id
    before = totals(sent.campaign.id)
    assert "responses" not in before and before["held"] == 1

    held.accept(invitation_id, LEAD, time.time(), get_settings())
    with pytest.raises(Conflict):
        held.accept(invitation_id, LEAD, time.time(), get_settings())
    counting.apply_pending()
    drain()
    counting.apply_pending()
    drain()

    after = totals(sent.campaign.id)
    assert (after["responses"], after["detractors"], after.get("held", 0)) == (1, 1, 0)
    assert acknowledge_everything() == {"sent": 1}
    assert acknowledge_everything() == {}
    assert len(mail_to(outbox, EMAIL)) == 2  # the invitation, then one acknowledgement
    assert len(mail_to(outbox, CX)) == 1  # one detractor alert
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.comment, invitation.evidence) == (3, "Too slow", "accepted")
    assert (invitation.held, invitation.held_at) == (None, None)
    [accepted, acknowledged] = [plain(e) for e in invitation.loop_history]
    assert (accepted["status"], accepted["by"]) == ("accepted", LEAD)
    assert acknowledged["status"] == "acknowledged"
    assert held.list_held(sent.campaign.id, 50)[0] == []


def test_accepting_after_the_person_confirmed_counts_nothing_more(db, outbox):
    sent, token, now = held_answer(outbox, score="9", comment="")
    invitation_id = invitation_of(sent, EMAIL).id
    assert press(token, {"q_nps": "9"}, now + 300).status == 200  # the person answers again, after the window
    with pytest.raises(Conflict):
        held.accept(invitation_id, LEAD, time.time(), get_settings())
    counts = totals(sent.campaign.id)
    assert (counts["responses"], counts["promoters"]) == (1, 1)
    assert invitation_of(sent, EMAIL).answer_version == 1


def test_dismissing_keeps_it_out_of_the_scores_and_writes_the_history(db, outbox):
    sent, _, _ = held_answer(outbox)
    invitation_id = invitation_of(sent, EMAIL).id
    held.dismiss(invitation_id, LEAD, time.time())
    with pytest.raises(Conflict):
        held.accept(invitation_id, LEAD, time.time(), get_settings())
    counts = totals(sent.campaign.id)
    assert "responses" not in counts and counts.get("held", 0) == 0 and counts["filtered"] == 1
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.held, invitation.held_token, invitation.answered_at) == (None, None, None)
    [entry] = [plain(e) for e in invitation.loop_history]
    assert (entry["status"], entry["by"]) == ("dismissed", LEAD) and "scanner" in entry["note"]
    assert held.list_held(sent.campaign.id, 50)[0] == []


def test_a_submission_without_evidence_is_listed_and_can_be_accepted_once(db, outbox):
    sent = launch(outbox)
    now = time.time()
    assert press(token_of(sent), {"q_nps": "10"}, now, evidence="").status == 400
    [entry], _ = held.list_held(sent.campaign.id, 50)
    assert (entry.kind, entry.reason, entry.answers) == ("filtered", "no-evidence", {"nps": 10})
    held.accept(entry.invitation_id, LEAD, now + 1, get_settings())
    with pytest.raises(Conflict):
        held.accept(entry.invitation_id, LEAD, now + 2, get_settings())
    assert totals(sent.campaign.id)["promoters"] == 1


def test_a_submission_without_evidence_cannot_replace_a_persons_answer(db, outbox):
    sent = launch(outbox)
    now = time.time()
    assert press(token_of(sent), {"q_nps": "8"}, now).status == 200
    assert press(token_of(sent), {"q_nps": "0"}, now + 1, evidence="").status == 400
    [entry], _ = held.list_held(sent.campaign.id, 50)
    with pytest.raises(Conflict):
        held.accept(entry.invitation_id, LEAD, now + 2, get_settings())
    held.dismiss(entry.invitation_id, LEAD, now + 3)
    assert invitation_of(sent, EMAIL).score == 8


# --- the pages ---------------------------------------------------------------------------------


def get(client, path: str, headers: dict) -> tuple[int, str]:
    response = client.http.get(path, headers=headers)
    return response.status_code, response.body.decode()


def post_form(client, path: str, headers: dict, fields: dict[str, str]):
    return client.http.post(path, body=urlencode(fields), headers={**headers, **FORM_HEADERS})


def api_get(client, path: str) -> dict:
    response = client.http.get(path, headers=admin_headers())
    assert response.status_code == 200
    return json.loads(response.body)


def text_of(html: str) -> str:
    """What a reader sees: tags dropped, whitespace collapsed, entities decoded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def row_of(html: str, header: str) -> str:
    """The text of the table row whose row header is `header`."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        found = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, re.S)
        if found and text_of(found.group(1)).startswith(header):
            return text_of(row)
    raise AssertionError(f"no row {header!r}")


def answered_campaign(outbox, scores: dict[str, tuple[str, int]], days_ago: dict[str, int] | None = None):
    """A campaign sent 40 days ago whose recipients answered: {email: (plan, score)}, each today or
    `days_ago[email]` days ago; detractors complain about the price."""
    recipients = [{"email": email, "properties": {"plan": plan}} for email, (plan, _) in scores.items()]
    sent = launch(outbox, recipients, sent_ago=40 * DAY, options={"themes": {"pricing": ["price"]}})
    now = time.time()
    for email, (_, score) in scores.items():
        comment = "The price is high" if score < 7 else ""
        at = now - (days_ago or {}).get(email, 0) * DAY
        assert press(token_of(sent, email), {"q_nps": str(score), "comment": comment}, at).status == 200
    counting.apply_pending()
    return sent


def test_the_campaigns_list_shows_state_counts_rates_and_nps(client, outbox):
    sent = answered_campaign(outbox, {"a@example.com": ("pro", 10), "b@example.com": ("free", 3)})
    status, body = get(client, "/dashboard/campaigns", session_headers("viewer"))
    assert status == 200
    api = api_get(client, f"/api/campaigns/{sent.campaign.id}/metrics")
    state = api_get(client, f"/api/campaigns/{sent.campaign.id}")["campaign"]["status"]
    low, high = (digest.signed(api["nps"]["interval"][k]) for k in ("low", "high"))
    assert row_of(body, "Test") == f"Test {state} 2 2 100% 0 {low} to {high} (2 answers)"
    assert f'href="/dashboard/campaigns/{sent.campaign.id}"' in body


def test_the_campaign_page_shows_the_apis_numbers_and_an_accessible_chart(client, outbox):
    scores = {"a@example.com": ("pro", 10), "b@example.com": ("pro", 9), "c@example.com": ("free", 2)}
    sent = answered_campaign(outbox, scores, days_ago={"c@example.com": 30})
    cid = sent.campaign.id
    status, body = get(client, f"/dashboard/campaigns/{cid}", session_headers("viewer"))
    assert status == 200
    metrics = api_get(client, f"/api/campaigns/{cid}/metrics")
    trend = api_get(client, f"/api/campaigns/{cid}/trend")
    score = re.search(r'id="nps-score">(.*?)</p>', body, re.S).group(1)
    # +33 with an interval not symmetric around it: the score alone, the interval on the next line, no ± margin
    assert text_of(score) == digest.signed(metrics["nps"]["score"]) == "+33"
    assert "from 3 answers (2 promoters, 0 passives, 1 detractor)." in text_of(body)  # each in its number
    # the change of the last 28 days against the 28 before, in the nps module's words
    today = datetime.now(UTC).date()
    periods = [(today - timedelta(days=27), today), (today - timedelta(days=55), today - timedelta(days=28))]
    summaries = []
    for first, last in periods:
        counted = api_get(client, f"/api/campaigns/{cid}/metrics?since={first}&until={last}")["nps"]
        summaries.append(nps.summary(counted["promoters"], counted["passives"], counted["detractors"]))
    words = nps.describe_change(nps.compare(*summaries), since="the 28 days before")
    assert words.startswith("up 200 points since the 28 days before, within the noise")
    assert text_of(re.search(r'id="nps-change">(.*?)</p>', body, re.S).group(1)) == f"U{words[1:]}."
    assert text_of(re.search(r'id="response-rate">(.*?)</p>', body, re.S).group(1)) == "100%"
    assert text_of(re.search(r'id="comment-rate">(.*?)</p>', body, re.S).group(1)) == "33%"
    # the chart: an image with a title and a description, and the same weeks in a table
    svg = re.search(r"<svg [^>]*>.*?</svg>", body, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="trend-title trend-desc"' in svg
    # sent 40 days ago: the weeks from the first send's on, none before
    weeks = len(trend["weeks"])
    assert (
        trend["weeks"][0]["starts"] == reports.monday_of(reports.local_date(sent.campaign.sent_at, "UTC")).isoformat()
    )
    assert f'<title id="trend-title">NPS per week, the last {weeks} weeks</title>' in svg and 6 <= weeks <= 7
    latest = trend["weeks"][-1]
    assert f"has NPS {digest.signed(latest['nps'])}" in text_of(svg)
    assert svg.count('class="dot"') == 2 and 'class="band"' in svg
    table = re.search(r'<table class="data" id="trend-table">.*?</table>', body, re.S).group(0)
    assert len(re.findall(r'<th scope="row"', table)) == weeks
    low, high = digest.signed(latest["low"]), digest.signed(latest["high"])
    assert row_of(table, latest["week"]).endswith(f"2 {digest.signed(latest['nps'])} {low} to {high} 0 2 –")
    # themes and the scanner activity
    assert row_of(body, "pricing") == "pricing 1 100%"
    assert "Hidden-link fetches (trap hits) 0 Waiting for a decision 0" in text_of(body)


def test_the_campaign_page_counts_the_held_activity_by_reason(client, outbox):
    sent, _, _ = held_answer(outbox)
    counting.apply_pending()
    _, body = get(client, f"/dashboard/campaigns/{sent.campaign.id}", session_headers("viewer"))
    text = text_of(body)
    assert "Invitations with activity held back 1 Answers waiting for confirmation 1" in text
    assert "Hidden-link fetches (trap hits) 1 Waiting for a decision 1" in text
    assert "trap 1: answered right after a scanner fetched the hidden link in the email" in text


def test_the_weakest_segment_is_flagged_and_small_ones_are_marked(client, outbox):
    scores = {f"pro{i}@example.com": ("pro", 9 + i % 2) for i in range(30)}
    scores |= {f"free{i}@example.com": ("free", 3 + i % 7) for i in range(30)}
    scores["big@example.com"] = ("enterprise", 1)
    sent = answered_campaign(outbox, scores)
    _, body = get(client, f"/dashboard/campaigns/{sent.campaign.id}", session_headers("viewer"))
    segments = re.search(r'<table class="data segments">.*?</table>', body, re.S).group(0)
    assert ">NPS by plan, since the campaign began</caption>" in segments
    assert row_of(segments, "free").endswith("weakest")
    assert '<tr class="weakest">' in segments and segments.count("weakest</span>") == 1
    assert row_of(segments, "enterprise") == "enterprise 1 – too small to judge fewer than 30 answers"
    low = digest.signed(nps.adjusted_wald(30, 0, 0).low)  # the digest's rounding of the same interval
    assert row_of(segments, "pro") == f"pro 30 +100 ({low} to +100)" == "pro 30 +100 (+79 to +100)"
    assert "Weakest plan: free" in text_of(body)


def test_an_unknown_campaign_is_a_404_page(client):
    status, body = get(client, "/dashboard/campaigns/nope", session_headers("viewer"))
    assert status == 404 and "<h1>Not found</h1>" in body


def test_held_answers_are_listed_with_their_reason_for_a_viewer_without_buttons(client, outbox):
    sent, _, _ = held_answer(outbox)
    status, body = get(client, "/dashboard/held", session_headers("viewer"))
    assert status == 200
    row = row_of(body, EMAIL)
    assert "trap answered right after a scanner fetched the hidden link" in row and "nps: 3" in row
    assert "Too slow" in row and "/accept" not in body
    assert sent.campaign.name in body


def test_an_admin_accepts_a_held_answer_once_and_the_history_says_who(client, outbox):
    sent, _, _ = held_answer(outbox)
    cid, invitation_id = sent.campaign.id, invitation_of(sent, EMAIL).id
    admin = session_headers("admin", LEAD)
    _, listing = get(client, f"/dashboard/held?campaign={cid}", admin)
    assert f'action="/dashboard/held/{invitation_id}/accept"' in listing
    before = api_get(client, f"/api/campaigns/{cid}/metrics")["rates"]["responses"]

    accepted = post_form(client, f"/dashboard/held/{invitation_id}/accept", admin, {"csrf": csrf_of(listing)})
    assert accepted.status_code == 303
    assert accepted.headers["Location"] == f"/dashboard/held?campaign={cid}&done=accepted"
    again = post_form(client, f"/dashboard/held/{invitation_id}/accept", admin, {"csrf": csrf_of(listing)})
    assert again.status_code == 409 and "Nothing is held on this invitation any more" in again.body.decode()
    counting.apply_pending()
    drain()
    counting.apply_pending()

    assert api_get(client, f"/api/campaigns/{cid}/metrics")["rates"]["responses"] == before + 1
    _, page_after = get(client, f"/dashboard/held?campaign={cid}&done=accepted", admin)
    assert "Accepted: the answer counts now" in page_after and "Nothing is held in this campaign." in page_after
    response = api_get(client, f"/api/responses/{invitation_id}")["response"]
    [entry] = response["loop"]["history"]
    assert (entry["status"], entry["by"]) == ("accepted", LEAD) and entry["note"].startswith("Accepted the held answer")
    assert len(mail_to(outbox, CX)) == 1


def test_an_admin_dismisses_a_held_answer(client, outbox):
    sent, _, _ = held_answer(outbox)
    invitation_id = invitation_of(sent, EMAIL).id
    admin = session_headers("admin", LEAD)
    _, listing = get(client, "/dashboard/held", admin)
    dismissed = post_form(client, f"/dashboard/held/{invitation_id}/dismiss", admin, {"csrf": csrf_of(listing)})
    assert dismissed.status_code == 303 and dismissed.headers["Location"].endswith("done=dismissed")
    counts = totals(sent.campaign.id)
    assert "responses" not in counts and counts.get("held", 0) == 0
    [entry] = [plain(e) for e in invitation_of(sent, EMAIL).loop_history]
    assert (entry["status"], entry["by"]) == ("dismissed", LEAD)
    _, after = get(client, "/dashboard/held", admin)
    assert "Nothing is held: no scanner activity is waiting for a decision." in after


def test_a_held_answer_in_the_oldest_of_30_campaigns_is_listed(client, outbox):
    sent, _, _ = held_answer(outbox)  # campaign #30 of 30: created first, so the oldest
    now = time.time()
    for i in range(29):
        campaigns.create_campaign(campaigns.parse_campaign({"name": f"Newer {i}", "survey": NPS_SURVEY}), now + 1 + i)
    status, body = get(client, "/dashboard/held", session_headers("viewer"))
    assert status == 200
    assert "Nothing is held" not in body and sent.campaign.name in body
    assert "trap answered right after a scanner fetched the hidden link" in row_of(body, EMAIL)


def test_the_held_answers_page_pages_and_never_says_nothing_is_held_before_the_last(client, outbox, monkeypatch):
    monkeypatch.setattr(insight_pages, "HELD_SHOWN", 2)
    people = [f"p{i}@example.com" for i in range(3)]
    sent = launch(outbox, [{"email": p} for p in people])
    now = time.time()
    for person in people:
        survey_pages.trap(token_of(sent, person), now)
        assert press(token_of(sent, person), {"q_nps": "3"}, now + 5).status == 200
    viewer = session_headers("viewer")
    _, first = get(client, "/dashboard/held", viewer)
    shown = [p for p in people if p in first]
    assert len(shown) == 2 and "Nothing is held" not in first
    assert "More held answers are waiting" in text_of(first)
    [more] = re.findall(r'<a class="button secondary" href="([^"]+)">Next held answers</a>', first)
    _, second = get(client, unescape(more), viewer)
    assert [p for p in people if p in second] == [p for p in people if p not in shown]
    assert "Next held answers" not in second and "Nothing is held" not in second
    assert "Held answers of every campaign" in text_of(second)  # back to the first page


def test_the_held_answers_page_reads_once_however_many_campaigns_there_are(client, outbox):
    held_answer(outbox)
    now = time.time()
    for i in range(3):
        campaigns.create_campaign(campaigns.parse_campaign({"name": f"Newer {i}", "survey": NPS_SURVEY}), now + 1 + i)
    viewer = session_headers("viewer")
    get(client, "/dashboard/held", viewer)  # the session and the campaign, cached
    calls = []

    def count(params, model, **_):
        if params.get("TableName") in (table_name(Invitation), table_name(Campaign)):
            calls.append((model.name, params.get("IndexName")))

    raw_client().meta.events.register("provide-client-params.dynamodb", count)
    try:
        status, body = get(client, "/dashboard/held", viewer)
    finally:
        raw_client().meta.events.unregister("provide-client-params.dynamodb", count)
    assert status == 200 and EMAIL in body
    assert calls == [("Scan", "campaign-held")]


@pytest.mark.parametrize("action", ["accept", "dismiss"])
def test_a_viewer_cannot_decide_and_a_form_without_its_token_is_refused(client, outbox, action):
    sent, _, _ = held_answer(outbox)
    invitation_id = invitation_of(sent, EMAIL).id
    path = f"/dashboard/held/{invitation_id}/{action}"
    viewer = session_headers("viewer")
    _, page_of_viewer = get(client, "/dashboard/held", viewer)
    assert post_form(client, path, viewer, {"csrf": csrf_of(page_of_viewer)}).status_code == 403
    admin = session_headers("admin")
    assert post_form(client, path, admin, {}).status_code == 403
    assert post_form(client, path, admin, {"csrf": "forged"}).status_code == 403
    assert post_form(client, path, {}, {}).status_code == 303  # no session: to the sign-in page
    invitation = invitation_of(sent, EMAIL)
    assert invitation.held is not None and invitation.loop_history is None


def test_the_admin_api_lists_and_decides_held_answers_with_the_same_use_case(client, outbox):
    sent, _, now = held_answer(outbox)
    listed = api_get(client, f"/api/campaigns/{sent.campaign.id}/held")
    [entry] = listed["held"]
    assert (entry["email"], entry["reason"], entry["at"], listed["next_cursor"]) == (EMAIL, "trap", now + 5, None)
    path = f"/api/held/{entry['invitation_id']}"
    accepted = client.http.post(f"{path}/accept", headers=admin_headers())
    assert accepted.status_code == 200 and json.loads(accepted.body)["decision"] == "accepted"
    for action in ("accept", "dismiss"):
        again = client.http.post(f"{path}/{action}", headers=admin_headers())
        assert again.status_code == 409 and json.loads(again.body)["error"]["field"] == "invitation_id"
    assert totals(sent.campaign.id)["responses"] == 1
    [history] = [plain(e) for e in invitation_of(sent, EMAIL).loop_history]
    assert history["status"] == "accepted" and history["by"] == "configured token"
    assert client.http.post("/api/held/nope/accept", headers=admin_headers()).status_code == 404


def test_a_submission_without_evidence_on_an_answered_invitation_offers_only_dismiss(client, outbox):
    # ada's answer is held; bob answered, then a script submitted the page
    sent, now = launch(outbox, [{"email": EMAIL}, {"email": "bob@example.com"}]), time.time()
    survey_pages.trap(token_of(sent), now)
    assert press(token_of(sent), {"q_nps": "3"}, now + 5).status == 200
    assert press(token_of(sent, "bob@example.com"), {"q_nps": "8"}, now).status == 200
    assert press(token_of(sent, "bob@example.com"), {"q_nps": "0"}, now + 1, evidence="").status == 400
    ada, bob = invitation_of(sent, EMAIL).id, invitation_of(sent, "bob@example.com").id
    admin = session_headers("admin", LEAD)

    _, listing = get(client, f"/dashboard/held?campaign={sent.campaign.id}", admin)
    assert f'action="/dashboard/held/{bob}/accept"' not in listing
    assert f'action="/dashboard/held/{bob}/dismiss"' in listing
    assert "The person's own answer is kept; this submission can only be dismissed." in row_of(listing, "bob@")
    assert f'action="/dashboard/held/{ada}/accept"' in listing and "only be dismissed" not in row_of(listing, EMAIL)
    listed = {e["email"]: e["actions"] for e in api_get(client, f"/api/campaigns/{sent.campaign.id}/held")["held"]}
    assert listed == {EMAIL: ["accept", "dismiss"], "bob@example.com": ["dismiss"]}


def test_a_text_answer_is_shown_once(client, outbox):
    survey = {"questions": [*NPS_SURVEY["questions"], {"id": "why", "type": "text", "text": "Tell us more"}]}
    sent = launch(outbox, survey=survey)
    now = time.time()
    survey_pages.trap(token_of(sent), now)
    assert press(token_of(sent), {"q_nps": "3", "q_why": "Onboarding was slow"}, now + 5).status == 200
    assert invitation_of(sent, EMAIL).held["comment"] == "Onboarding was slow"
    _, body = get(client, "/dashboard/held", session_headers("viewer"))
    assert row_of(body, EMAIL).count("Onboarding was slow") == 1


def held_people(outbox, count: int, prefix: str = "p", **options):
    """A campaign whose `count` invitations each hold an answer caught by the trap window, the last the newest."""
    people = [f"{prefix}{i}@example.com" for i in range(count)]
    sent = launch(outbox, [{"email": p} for p in people], **options)
    now = time.time()
    for i, person in enumerate(people):
        survey_pages.trap(token_of(sent, person), now)
        assert press(token_of(sent, person), {"q_nps": "3"}, now + 5 + i).status == 200
    return sent, people


def next_of(body: str) -> str | None:
    found = re.findall(r'<a class="button secondary" href="([^"]+)">Next held answers</a>', body)
    return unescape(found[0]) if found else None


def test_one_campaigns_held_answers_are_paged_newest_first(client, outbox, monkeypatch):
    monkeypatch.setattr(insight_pages, "HELD_SHOWN", 2)
    sent, people = held_people(outbox, 5)
    other, _ = held_people(outbox, 3, prefix="o")
    viewer, cid = session_headers("viewer"), sent.campaign.id
    shown, path = [], f"/dashboard/held?campaign={cid}"
    while path:
        status, body = get(client, path, viewer)
        assert status == 200 and "Nothing" not in body
        shown.append([p for p in reversed(people) if p in row_list(body)])
        path = next_of(body)
        if path:
            assert path.startswith(f"/dashboard/held?campaign={cid}&cursor=")
            assert "More held answers are waiting: this page shows 2 of them, newest first." in text_of(body)
    assert shown == [["p4@example.com", "p3@example.com"], ["p2@example.com", "p1@example.com"], ["p0@example.com"]]
    assert f"The newest held answers of {sent.campaign.name}" in text_of(body)  # back to the first page
    # a page that is full to the end offers no empty next one, in the dashboard and the API
    _, full = get(client, f"/dashboard/held?campaign={other.campaign.id}", viewer)
    _, rest = get(client, next_of(full), viewer)
    assert next_of(rest) is None and len(re.findall(r'<th scope="row"', rest)) == 1
    listed = api_get(client, f"/api/campaigns/{other.campaign.id}/held?limit=3")
    assert len(listed["held"]) == 3 and listed["next_cursor"] is None
    # a page of one campaign is no start for another's
    foreign = client.http.get(f"{next_of(full)}".replace(other.campaign.id, cid), headers=viewer)
    assert foreign.status_code == 400 and "first page" in foreign.body.decode()


def row_list(body: str) -> list[str]:
    return [text_of(header).split()[0] for header in re.findall(r'<th scope="row"[^>]*>(.*?)</th>', body, re.S)]


def back_of(body: str) -> str:
    return unescape(re.search(r'<input type="hidden" name="back" value="([^"]+)">', body).group(1))


def test_a_decision_returns_to_the_view_and_page_it_was_made_from(client, outbox, monkeypatch):
    monkeypatch.setattr(insight_pages, "HELD_SHOWN", 2)
    sent, _ = held_people(outbox, 5)
    admin, cid = session_headers("admin", LEAD), sent.campaign.id
    for first in ("/dashboard/held", f"/dashboard/held?campaign={cid}"):
        _, listing = get(client, first, admin)
        page_two = next_of(listing)
        _, listing = get(client, page_two, admin)
        assert back_of(listing) == page_two
        person = row_list(listing)[0]
        path = f"/dashboard/held/{invitation_of(sent, person).id}/dismiss"
        form = {"csrf": csrf_of(listing), "back": back_of(listing)}
        dismissed = post_form(client, path, admin, form)
        assert dismissed.status_code == 303 and dismissed.headers["Location"] == f"{page_two}&done=dismissed"
        _, after = get(client, dismissed.headers["Location"], admin)
        assert "Dismissed: it stays out of the scores." in after and person not in row_list(after)
        # the same press again, from the page as it was: refused, with a way back to that page
        stale = post_form(client, path, admin, form)
        assert stale.status_code == 409 and "Reload the list." in stale.body.decode()
        assert f'href="{escape(page_two)}">Back to the held answers</a>' in stale.body.decode()
    _, listing = get(client, "/dashboard/held", admin)
    assert back_of(listing) == "/dashboard/held"


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/dashboard/held",
        "//evil.example/dashboard/held",
        "/dashboard/held/../../people",
        "/dashboard/people",
        "/dashboard/held?next=https://evil.example",
        "/dashboard/held?campaign=a&campaign=b",
        "/dashboard/held#x",
        "javascript:alert(1)",
    ],
)
def test_a_decision_never_goes_anywhere_but_the_held_list(client, outbox, back):
    sent, _, _ = held_answer(outbox)
    admin, invitation_id = session_headers("admin", LEAD), invitation_of(sent, EMAIL).id
    _, listing = get(client, "/dashboard/held", admin)
    form = {"csrf": csrf_of(listing), "back": back}
    dismissed = post_form(client, f"/dashboard/held/{invitation_id}/dismiss", admin, form)
    assert dismissed.headers["Location"] == f"/dashboard/held?campaign={sent.campaign.id}&done=dismissed"
    stale = post_form(client, f"/dashboard/held/{invitation_id}/dismiss", admin, form)
    assert stale.status_code == 409 and 'href="/dashboard/held">Back to the held answers</a>' in stale.body.decode()
