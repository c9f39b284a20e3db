"""A response rate is a true share: answers to mailed invitations over mailed invitations (AAPOR RR1).

Answers posted through Delighted's v1 API (`POST /v1/survey_responses`) answer no invitation that was
mailed: they count as responses, but neither as sent nor in the rate's numerator. Answers go through the
real routes (the survey page, the v1 API) and the counting applier on DynamoDB Local, and are read through
the admin API, the dashboard and rebuild-counters; the falling-rate test writes its weeks' counters directly.
"""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from html import unescape

import pytest

from chalicelib.answers import counting
from chalicelib.core import counters
from chalicelib.delighted import keys
from chalicelib.insight import falling, rebuild, reports
from chalicelib.store.counts import add, read
from chalicelib.store.models import Invitation
from chalicelib.store.transact import update
from tests.conftest import admin_headers
from tests.dashboard_support import session_headers
from tests.helpers import cli, launch, submit
from tests.test_delighted_api import call

MAILED = [f"m{n}@example.com" for n in range(5)]
UNMAILED = 30


def api_get(client, path: str) -> dict:
    response = client.http.get(path, headers=admin_headers())
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def row_of(html: str, header: str) -> str:
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        found = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, re.S)
        if found and text_of(found.group(1)).startswith(header):
            return text_of(row)
    raise AssertionError(f"no row {header!r}")


@pytest.fixture
def testers_campaign(client, outbox):
    """The tester's scenario: 5 people mailed (3 answer on the survey page), then 30 people created with
    `send: false`, each given one survey response through the v1 API. Returns (launched, key, people)."""
    sent = launch(outbox, [{"email": e, "properties": {"plan": "pro"}} for e in MAILED])
    for email, score in zip(MAILED[:3], ("10", "9", "4"), strict=True):
        assert submit(client, sent.pages[email], {"q_nps": score}).status_code == 200
    key, _ = keys.mint_key("demo", sent.campaign.id, time.time())
    people = []
    for n in range(UNMAILED):
        status, person, _ = call(client, "POST", "/v1/people.json", key, {"email": f"u{n}@example.com", "send": False})
        assert status == 200
        people.append(person)
        status, _, _ = call(client, "POST", "/v1/survey_responses.json", key, {"person": person["id"], "score": 8})
        assert status == 200
    counting.apply_pending()
    return sent, key, people


def test_answers_posted_for_people_never_mailed_keep_the_rate_a_true_share(client, testers_campaign):
    campaign = testers_campaign[0].campaign
    body = api_get(client, f"/api/campaigns/{campaign.id}/stats")["stats"]
    assert (body["sent"], body["responded"]) == (5, 33)  # every response is still shown
    assert body["responded_unmailed"] == UNMAILED
    assert body["response_rate"] == pytest.approx(3 / 5)  # the 3 mailed people who answered, of the 5 mailed
    rates = api_get(client, f"/api/campaigns/{campaign.id}/metrics")["rates"]
    assert (rates["sent"], rates["responses"], rates["responses_unmailed"]) == (5, 33, UNMAILED)
    share = rates["response_rate"]
    assert (share["successes"], share["n"], share["share"]) == (3, 5, 0.6)
    assert share["low"] <= 0.6 <= share["high"] <= 1
    week = api_get(client, f"/api/campaigns/{campaign.id}/trend")["weeks"][-1]
    assert (week["sent"], week["responses"], week["responses_unmailed"], week["response_rate"]) == (5, 33, 30, 0.6)


def test_a_mailed_person_answering_counts_in_the_rate(client, testers_campaign):
    sent, _, _ = testers_campaign
    assert submit(client, sent.pages[MAILED[3]], {"q_nps": "7"}).status_code == 200
    counting.apply_pending()
    body = api_get(client, f"/api/campaigns/{sent.campaign.id}/stats")["stats"]
    assert (body["sent"], body["responded"], body["responded_unmailed"]) == (5, 34, UNMAILED)
    assert body["response_rate"] == pytest.approx(4 / 5)


def test_the_dashboard_campaigns_list_and_page_show_a_sane_percentage(client, testers_campaign):
    campaign = testers_campaign[0].campaign
    response = client.http.get("/dashboard/campaigns", headers=session_headers("viewer"))
    assert response.status_code == 200
    assert row_of(response.body.decode(), "Test").startswith("Test sent 5 33 (30 not mailed) 60% ")
    page = client.http.get(f"/dashboard/campaigns/{campaign.id}", headers=session_headers("viewer")).body.decode()
    assert text_of(re.search(r'id="response-rate">(.*?)</p>', page, re.S).group(1)) == "60%"
    words = text_of(re.search(r'id="response-rate">.*?</div>', page, re.S).group(0))
    assert "3 responses to 5 invitations sent;" in words
    assert "30 more answers were recorded through the API for people not mailed: they are not in the rate." in words


def test_a_week_of_posted_answers_does_not_hide_a_falling_rate(db, outbox):
    """The falling-rate alert (the loop queue's list, the digest's warning) judges mailed answers only:
    30 of 100 mailed people answered last week, 45 of 100 the week before, and 60 answers were posted."""
    campaign = launch(outbox).campaign
    monday = reports.monday_of(reports.local_date(time.time(), campaign.timezone))
    for weeks_ago, counts in (
        (1, {"sent": 100, "responses": 90, "responses_unmailed": 60}),
        (2, {"sent": 100, "responses": 45}),
    ):
        period = reports.week_of(monday - timedelta(weeks=weeks_ago))
        add(campaign.id, [counters.counter_key(period, counters.ALL_SEGMENT)], counts)
    drop = falling.falling_response_rate(campaign, time.time())
    assert drop is not None and drop.words.startswith("45% in week ") and ", 30% in week " in drop.words


def test_edits_deletions_and_a_rebuild_keep_the_unmailed_count(client, db, testers_campaign):
    sent, key, people = testers_campaign
    campaign = sent.campaign
    first = call(client, "GET", f"/v1/survey_responses.json?person_id={people[0]['id']}", key)[1][0]
    status, _, _ = call(client, "PUT", f"/v1/survey_responses/{first['id']}.json", key, {"score": 2})
    assert status == 200
    assert call(client, "DELETE", f"/v1/people/{people[1]['id']}", key)[0] == 202
    counting.apply_pending()
    body = api_get(client, f"/api/campaigns/{campaign.id}/stats")["stats"]
    assert (body["sent"], body["responded"], body["responded_unmailed"]) == (5, 32, 29)
    assert body["response_rate"] == pytest.approx(3 / 5)
    # a mailed person deleted: out of sent and of the rate's numerator alike
    status, _, _ = call(client, "DELETE", "/v1/people/email%3Am0%40example.com", key)
    assert status == 202
    counting.apply_pending()
    body = api_get(client, f"/api/campaigns/{campaign.id}/stats")["stats"]
    assert (body["sent"], body["responded"], body["responded_unmailed"]) == (4, 31, 29)
    assert body["response_rate"] == pytest.approx(2 / 4)
    # rebuild-counters recomputes the same counters from the invitations
    stored = {k: v for k, v in read(campaign.id).items() if k.count("#") >= 2}
    found = cli("rebuild-counters", "--campaign", campaign.id, env=db)
    assert found.returncode == 0, found.stdout + found.stderr
    assert found.stdout.splitlines()[-1].endswith(": 33 invitations, 0 difference(s) in 0 counter item(s)")
    assert {k: v for k, v in read(campaign.id).items() if k.count("#") >= 2} == stored


def test_rebuild_counters_fix_counts_answers_recorded_before_the_unmailed_counter(client, db, testers_campaign):
    """Answers posted before `responses_unmailed` existed were counted without it: a rebuild finds them
    counted by outdated rules and `--fix` recounts them, so the rate is right afterwards."""
    campaign = testers_campaign[0].campaign
    for invitation in Invitation.by_campaign.query(campaign.id):
        item = Invitation.get(invitation.id, consistent_read=True)
        counted = counters.plain(item.counted)
        old = {p: {k: v for k, v in c.items() if k != "responses_unmailed"} for p, c in counted.items()}
        if old != counted:
            update(Invitation, item.id, [Invitation.counted.set(old)])
    for key, counts in read(campaign.id).items():
        if counts.get("responses_unmailed"):
            add(campaign.id, [key], {"responses_unmailed": -counts["responses_unmailed"]})
    assert api_get(client, f"/api/campaigns/{campaign.id}/stats")["stats"]["response_rate"] == pytest.approx(33 / 5)

    fixed = cli("rebuild-counters", "--campaign", campaign.id, "--fix", env=db)
    assert fixed.returncode == 0 and fixed.stdout.splitlines()[-1].endswith("; fixed"), fixed.stdout
    assert f"{UNMAILED} invitation(s) counted by outdated rules" in fixed.stdout
    assert api_get(client, f"/api/campaigns/{campaign.id}/stats")["stats"]["response_rate"] == pytest.approx(3 / 5)
    assert rebuild.check(campaign, lambda _line: None).differences == []
