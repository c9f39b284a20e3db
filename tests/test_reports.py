"""The metrics API's questions and answers at their edges, and the CSV export's defence against formulas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.answers import counting
from chalicelib.core.config import get_settings
from chalicelib.insight import reports
from tests.conftest import admin_headers
from tests.helpers import launch, submit


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
    pro = get(client, f"/api/campaigns/{answered.id}/metrics?segment=plan=pro").json_body
    assert (pro["nps"]["score"], pro["segment"]) == (100, {"key": "plan=pro", "property": "plan", "value": "pro"})
    nobody = get(client, f"/api/campaigns/{answered.id}/metrics?segment=plan=team").json_body
    assert nobody["nps"]["score"] is None and nobody["nps"]["interval"]["margin"] == pytest.approx(80.02, abs=0.01)


def test_metrics_questions_that_cannot_be_answered_say_which_parameter_is_wrong(client, answered):
    for query, field in (
        ("since=2026-13-01", "since"),
        ("until=yesterday", "until"),
        ("since=2026-11-02&until=2026-11-01", "since"),
        ("since=2020-01-01&until=2026-11-01", "since"),  # more than 731 days
        ("segment=plan", "segment"),
        ("segment=country=fr", "segment"),
    ):
        response = get(client, f"/api/campaigns/{answered.id}/metrics?{query}")
        assert response.status_code == 400 and response.json_body["error"]["field"] == field, query


def test_the_trend_and_the_export_of_a_small_campaign(client, answered):
    trend = get(client, f"/api/campaigns/{answered.id}/trend?weeks=3").json_body["weeks"]
    assert len(trend) == 3 and trend[-1]["n"] == 2 and trend[0]["nps"] is None
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
