"""The metrics API's questions and answers at their edges, and the CSV export's defence against formulas."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.answers import counting
from chalicelib.campaigns import campaigns
from chalicelib.core.config import get_settings
from chalicelib.insight import reports
from chalicelib.queue import get_queue
from chalicelib.sending import imports, invitations
from tests.conftest import admin_headers, html_links, local_path, read_outbox
from tests.helpers import NPS_SURVEY, drain, launch, submit


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("Fine, thanks", "Fine, thanks"),
        ("a=b", "a=b"),
        (7, "7"),
        (None, ""),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_shown_as_text(cell, shown):
    assert reports.neutralise(cell) == shown


@pytest.fixture
def answered(client, outbox):
    people = [
        {"email": "ada@example.com", "properties": {"plan": "pro"}},
        {"email": "bob@example.com", "properties": {"plan": "free"}},
    ]
    sent = launch(outbox, people)
    for email, score in (("ada@example.com", "10"), ("bob@example.com", "2")):
        assert submit(client, sent.pages[email], {"q_nps": score}).status_code == 200
    counting.apply_pending()
    return sent.campaign


def get(client, path: str):
    return client.http.get(path, headers=admin_headers())


def test_metrics_for_today_by_day_counters_and_all_time_agree(client, answered):
    all_time = get(client, f"/api/campaigns/{answered.id}/metrics").json_body
    assert (all_time["nps"]["score"], all_time["nps"]["n"], all_time["rates"]["sent"]) == (0, 2, 2)
    today = datetime.now(UTC).date().isoformat()  # the campaign's time zone is UTC; the answers came just now
    by_day = get(client, f"/api/campaigns/{answered.id}/metrics?since={today}").json_body
    assert by_day["nps"] == all_time["nps"] and by_day["period"]["days_summed"] == 1
    pro = get(client, f"/api/campaigns/{answered.id}/metrics?property=plan:pro").json_body
    assert (pro["nps"]["score"], pro["segment"]) == (100, {"key": "plan=pro", "property": "plan", "value": "pro"})
    nobody = get(client, f"/api/campaigns/{answered.id}/metrics?property=plan:team").json_body
    assert nobody["nps"]["score"] is None and nobody["nps"]["interval"]["margin"] == pytest.approx(80.02, abs=0.01)


def test_metrics_questions_that_cannot_be_answered_say_which_parameter_is_wrong(client, answered):
    for query, field in (
        ("since=2026-13-01", "since"),
        ("until=yesterday", "until"),
        ("since=2026-11-02&until=2026-11-01", "since"),
        ("since=2020-01-01&until=2026-11-01", "since"),  # more than 731 days
        ("since=2026-11-01T09:00:00%2B01:00", "since"),  # counted per day: a time is refused by name
        ("property=plan", "property"),
        ("property=country:fr", "property"),
        ("segment=plan=pro", "segment"),  # the former syntax is refused, not ignored
    ):
        response = get(client, f"/api/campaigns/{answered.id}/metrics?{query}")
        assert response.status_code == 400 and response.json_body["error"]["field"] == field, query


def test_the_trend_and_the_export_of_a_small_campaign(client, answered):
    trend = get(client, f"/api/campaigns/{answered.id}/trend?weeks=3").json_body["weeks"]
    first = reports.monday_of(reports.local_date(answered.sent_at, answered.timezone))
    assert trend[0]["starts"] == first.isoformat() and trend[-1]["n"] == 2  # sent an hour ago: no weeks before
    assert get(client, f"/api/campaigns/{answered.id}/trend?weeks=105").status_code == 400
    export = get(client, f"/api/campaigns/{answered.id}/responses.csv")
    assert "Link" not in export.headers
    assert export.headers["Content-Disposition"] == f'attachment; filename="{answered.id}-responses.csv"'
    lines = export.body.decode("utf-8-sig").strip().split("\r\n")
    assert len(lines) == 3 and lines[0].startswith("response_id,email,answered_at")
    assert get(client, "/api/campaigns/nope/responses.csv").status_code == 404
    assert client.http.get(f"/api/campaigns/{answered.id}/responses.csv").status_code == 401


def test_the_export_opens_in_excel_with_hebrew_and_accents_intact(client, outbox):
    """Excel reads a double-clicked CSV as UTF-8 only when it starts with the byte-order mark."""
    people = [{"email": f"p{i}@example.com"} for i in range(3)]
    sent = launch(outbox, people)
    comments = ["שירות מצוין, תודה", "Très bien, merci à Zoë", '=HYPERLINK("http://evil.example")']
    for i, comment in enumerate(comments):
        assert submit(client, sent.pages[f"p{i}@example.com"], {"q_nps": "9", "comment": comment}).status_code == 200
    counting.apply_pending()
    first = get(client, f"/api/campaigns/{sent.campaign.id}/responses.csv?limit=2")
    assert first.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert first.body.startswith(b"\xef\xbb\xbfresponse_id,email,")
    assert first.body.count(b"\xef\xbb\xbf") == 1
    assert "שירות מצוין, תודה".encode() in first.body
    assert "Très bien, merci à Zoë".encode() in first.body
    following = first.headers["Link"].split(">")[0].removeprefix("<").removeprefix(get_settings().base_url)
    second = get(client, following)
    assert second.body.startswith(b"response_id,email,")  # no mark: appended to the first page, one file
    assert b'"\'=HYPERLINK(""http://evil.example"")"' in second.body  # still shown as text, never run


def test_trends_start_at_the_first_send(client, outbox):
    sent = launch(outbox, sent_ago=16 * 86400)  # first sent 16 days ago: its week and the two or three after
    first = reports.monday_of(reports.local_date(sent.campaign.sent_at, sent.campaign.timezone))
    weeks = get(client, f"/api/campaigns/{sent.campaign.id}/trend?weeks=12").json_body["weeks"]
    assert [w["starts"] for w in weeks][:1] == [first.isoformat()] and 3 <= len(weeks) <= 4
    before = get(client, f"/api/campaigns/{sent.campaign.id}/trend?until={first - timedelta(days=1)}")
    assert before.json_body["weeks"] == []  # weeks that ended before the first send: none to show


def test_a_draft_has_no_weeks_to_show(client):
    body = {"name": "Draft", "survey": {"questions": [{"id": "nps", "type": "nps", "text": "Recommend us?"}]}}
    created = client.http.post("/api/campaigns", headers=admin_headers(), body=json.dumps(body)).json_body
    assert get(client, f"/api/campaigns/{created['campaign']['id']}/trend").json_body["weeks"] == []


@pytest.mark.parametrize(
    ("endpoint", "query", "field", "named"),
    [
        ("responses", "category=detractors", "category", "promoter, passive, detractor"),
        ("responses.csv", "category=detractors", "category", "promoter, passive, detractor"),
        ("responses", "loop_status=closed", "loop_status", "new, acknowledged, contacted, resolved"),
        ("responses", "theme=shipping", "theme", "pricing"),
        ("responses", "since=last%20week", "since", "a day such as 2026-09-01"),
        ("responses.csv", "until=2026-02-30", "until", "a day such as 2026-09-01"),
        ("responses", "property=plan", "property", "plan:pro"),
        ("metrics", "property=country:fr", "property", "(plan)"),
        ("trend", "property=country:fr", "property", "(plan)"),
        ("metrics", "since=2026-02-30", "since", "a day such as 2026-09-01"),
        ("trend", "until=soon", "until", "a day such as 2026-09-01"),
        ("trend", "until=0001-01-01", "until", "from 1970-01-01 to 9998-12-31"),
        ("metrics", "since=9999-12-31", "since", "from 1970-01-01 to 9998-12-31"),
    ],
)
def test_an_unknown_filter_value_is_a_400_naming_what_is_allowed(client, outbox, endpoint, query, field, named):
    sent = launch(outbox, options={"themes": {"pricing": ["price"]}})
    response = get(client, f"/api/campaigns/{sent.campaign.id}/{endpoint}?{query}")
    assert response.status_code == 400, response.body
    error = json.loads(response.body)["error"]
    assert error["field"] == field and named in error["message"], error


def test_responses_take_days_in_the_campaigns_time_zone_as_the_metrics_do(client, outbox):
    sent = launch(outbox, sent_ago=7200, timezone="Pacific/Auckland")
    assert submit(client, sent.pages["ada@example.com"], {"q_nps": "9"}).status_code == 200
    counting.apply_pending()
    today = reports.local_date(time.time(), "Pacific/Auckland").isoformat()
    base = f"/api/campaigns/{sent.campaign.id}"
    by_day = get(client, f"{base}/responses?since={today}&until={today}").json_body["responses"]
    assert [r["email"] for r in by_day] == ["ada@example.com"]
    tomorrow = (reports.local_date(time.time(), "Pacific/Auckland") + timedelta(days=1)).isoformat()
    assert get(client, f"{base}/responses?since={tomorrow}").json_body["responses"] == []
    metrics = get(client, f"{base}/metrics?since={today}&until={today}&property=plan:pro").json_body
    assert metrics["nps"]["n"] == 1


@pytest.mark.parametrize(
    "query",
    ["since=9999-12-31", "since=6000-01-01", "until=0001-01-01", "until=1969-12-31T23:59:59Z", "since=-5000-01-01"],
)
def test_a_range_outside_every_answer_lists_nothing_rather_than_failing(client, outbox, query):
    sent = launch(outbox)
    submit(client, sent.pages["ada@example.com"], {"q_nps": "9"})
    for endpoint in ("responses", "responses.csv"):
        response = get(client, f"/api/campaigns/{sent.campaign.id}/{endpoint}?{query}")
        assert response.status_code in (200, 400), (endpoint, query, response.body)
        assert "ada@example.com" not in response.body.decode()


def test_mean_intervals_are_clipped_to_the_scale():
    survey = {
        "questions": [
            {"id": "effort", "type": "ces", "text": "How easy was it?"},
            {"id": "sat", "type": "csat", "text": "How satisfied are you?"},
        ]
    }
    fields = campaigns.parse_campaign({"name": "Scales", "survey": survey})
    campaign = campaigns.CampaignView("c1", "Scales", "sent", fields["survey"], (), "UTC")
    # CES 7, 7, 6: mean 6.67, sd 0.577, t(2) = 4.303, margin 1.43: 5.23 to 8.10, clipped to 7;
    # CSAT 1, 1, 2: mean 1.33, margin 1.43: -0.10, clipped to 1
    counts = {"q.effort.n": 3, "q.effort.sum": 20, "q.effort.sq": 134, "q.effort.v7": 2, "q.effort.v6": 1}
    counts |= {"q.sat.n": 3, "q.sat.sum": 4, "q.sat.sq": 6, "q.sat.v1": 2, "q.sat.v2": 1}
    body = reports.metrics(campaign, counts)
    (ces,), (csat,) = body["ces"], body["csat"]
    assert ces["mean"]["low"] == pytest.approx(5.2324, abs=1e-3) and ces["mean"]["high"] == 7
    assert csat["mean"]["low"] == 1 and csat["mean"]["high"] == pytest.approx(2.7676, abs=1e-3)
    assert ces["mean"]["margin"] == pytest.approx(1.4343, abs=1e-3)  # the half-width, unclipped


def test_an_id_copied_from_the_export_finds_its_response_though_it_starts_with_a_minus(client, outbox):
    """One invitation id in 64 starts with "-": the export quotes it as a formula, and the id as pasted
    from the file still opens the response, in the API and the dashboard's lookups behind it."""
    now = time.time()
    campaign = campaigns.create_campaign(campaigns.parse_campaign({"name": "Minus", "survey": NPS_SURVEY}), now)
    email = next(
        f"p{i}@example.com"
        for i in itertools.count()
        if invitations.invitation_id(campaign.id, f"p{i}@example.com").startswith("-")
    )
    imports.start(campaign, [(0, {"email": email})], "recipients", now, get_settings(), get_queue())
    campaigns.start_sending(campaign.id, now - 3600, None, get_queue())
    drain(lambda: time.time() - 3600)
    link = next(u for u in html_links(read_outbox(outbox)[0]) if "/s/" in u and "?a=" not in u and not u.endswith("/t"))
    assert submit(client, local_path(link), {"q_nps": "3"}).status_code == 200
    counting.apply_pending()
    row = get(client, f"/api/campaigns/{campaign.id}/responses.csv").body.decode("utf-8-sig").split("\r\n")[1]
    pasted = row.split(",")[0]
    assert pasted.startswith("'-")
    found = get(client, f"/api/responses/{pasted}")  # ' is a legal character of a URL's path
    assert found.status_code == 200 and found.json_body["response"]["id"] == pasted[1:]
    encoded = get(client, f"/api/responses/%27{pasted[1:]}")  # as a browser or curl may send the quote
    assert encoded.status_code == 200 and encoded.json_body["response"]["id"] == pasted[1:]
