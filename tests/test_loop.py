"""The loop on every response: new, acknowledged, contacted, resolved; with notes, targets and timings."""

from __future__ import annotations

import json
import time

from chalicelib.answers import held, survey_pages
from chalicelib.answers.counting import apply_pending
from chalicelib.core.config import get_settings
from chalicelib.loop import followups
from tests.conftest import admin_headers
from tests.helpers import csrf_of, invitation_of, launch, submit

HOUR = 3600


def _loop(client, response_id, status, note=""):
    return client.http.post(
        f"/api/responses/{response_id}/loop", body=json.dumps({"status": status, "note": note}), headers=admin_headers()
    )


def test_a_detractor_case_is_opened_worked_and_measured(client, outbox, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_ACK_DELAY", "0")
    people = [{"email": f"d{i}@example.com", "properties": {"plan": "pro"}} for i in range(3)]
    sent = launch(outbox, people)
    for person in people:
        submit(client, sent.pages[person["email"]], {"q_nps": "2", "comment": "Broken again"})
    apply_pending()
    followups.acknowledge_due(time.time() + 1, get_settings())
    first = invitation_of(sent, "d0@example.com")
    assert (first.loop_status, first.ack_state) == ("acknowledged", "sent")
    response = _loop(client, first.id, "contacted", "Called Ada, offered a fix this week")
    assert response.status_code == 200
    loop = response.json_body["response"]["loop"]
    assert loop["status"] == "contacted" and loop["case_due_at"] is None and loop["contacted_at"]
    assert [(h["status"], h["by"]) for h in loop["history"]] == [
        ("acknowledged", "closeloop"),
        ("contacted", "configured token"),
    ]
    assert loop["history"][1]["note"] == "Called Ada, offered a fix this week"
    _loop(client, first.id, "resolved", "Fixed in 2.4.1")
    apply_pending()
    report = client.http.get(f"/api/campaigns/{sent.campaign.id}/loop", headers=admin_headers()).json_body["loop"]
    assert (report["responses"], report["acknowledged"], report["cases_opened"]) == (3, 3, 3)
    assert (report["contacted"], report["resolved"]) == (1, 1)
    assert report["mean_hours_to_acknowledge"] is not None and report["mean_hours_to_contact"] is not None
    assert report["cases_overdue"] == 0
    # 49 hours on, the two cases nobody called are past their 48-hour target
    from chalicelib.admin import api

    assert api.loop_report(sent.campaign.id, time.time() + 49 * HOUR)[1]["loop"]["cases_overdue"] == 2


def test_bad_loop_updates_are_refused_with_the_field(client, outbox):
    sent = launch(outbox)
    unanswered = invitation_of(sent, "ada@example.com").id
    assert _loop(client, unanswered, "contacted").status_code == 404
    submit(client, sent.pages["ada@example.com"], {"q_nps": "9"})
    wrong = _loop(client, unanswered, "escalated")
    assert wrong.status_code == 400 and wrong.json_body["error"]["field"] == "status"
    long = _loop(client, unanswered, "contacted", "x" * 2001)
    assert long.status_code == 400 and long.json_body["error"]["field"] == "note"


def test_responses_are_listed_with_filters_and_paging(client, outbox):
    people = [{"email": f"p{i}@example.com", "properties": {"plan": ("pro", "free")[i % 2]}} for i in range(6)]
    sent = launch(outbox, people)
    for i, person in enumerate(people):
        submit(client, sent.pages[person["email"]], {"q_nps": str([10, 2, 9, 3, 8, 0][i]), "comment": f"c{i}"})
    apply_pending()
    base = f"/api/campaigns/{sent.campaign.id}/responses"
    everything = client.http.get(base, headers=admin_headers()).json_body["responses"]
    assert [r["email"] for r in everything] == [f"p{i}@example.com" for i in reversed(range(6))]  # newest first
    detractors = client.http.get(f"{base}?category=detractor", headers=admin_headers()).json_body["responses"]
    assert sorted(r["score"] for r in detractors) == [0, 2, 3]
    pro = client.http.get(f"{base}?property=plan:pro", headers=admin_headers()).json_body["responses"]
    assert {r["properties"]["plan"] for r in pro} == {"pro"} and len(pro) == 3
    page = client.http.get(f"{base}?limit=4", headers=admin_headers()).json_body
    rest = client.http.get(f"{base}?limit=4&cursor={page['next_cursor']}", headers=admin_headers()).json_body
    assert len(page["responses"]) == 4 and len(rest["responses"]) == 2
    future = client.http.get(f"{base}?since=2099-01-01T00:00:00Z", headers=admin_headers()).json_body
    assert future["responses"] == []
    bad = client.http.get(f"{base}?since=yesterday", headers=admin_headers())
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "since"
    one = client.http.get(f"/api/responses/{everything[0]['id']}", headers=admin_headers()).json_body["response"]
    assert one["comment"] == "c5" and one["acknowledgement"]["state"] == "due"
    assert client.http.get("/api/responses/nope", headers=admin_headers()).status_code == 404


def test_responses_are_found_by_theme_and_words_and_exported_with_the_same_filters(client, outbox):
    comments = ["Too EXPENSIVE", "support was slow", "price is fine, support great", "love it"]
    people = [{"email": f"t{i}@example.com"} for i in range(len(comments))]
    sent = launch(outbox, people, options={"themes": {"pricing": ["price", "expensive"], "support": ["support"]}})
    for person, comment in zip(people, comments, strict=True):
        submit(client, sent.pages[person["email"]], {"q_nps": "5", "comment": comment})
    apply_pending()
    base = f"/api/campaigns/{sent.campaign.id}/responses"

    def emails(query):
        response = client.http.get(f"{base}?{query}", headers=admin_headers())
        assert response.status_code == 200, response.json_body
        return sorted(r["email"] for r in response.json_body["responses"])

    assert emails("theme=pricing") == ["t0@example.com", "t2@example.com"]
    assert emails("q=Support") == ["t1@example.com", "t2@example.com"]  # whatever the case
    assert emails("theme=support&q=slow") == ["t1@example.com"]
    for query, field in (("theme=shipping", "theme"), ("category=angry", "category"), ("loop_status=x", "loop_status")):
        refused = client.http.get(f"{base}?{query}", headers=admin_headers())
        assert refused.status_code == 400 and refused.json_body["error"]["field"] == field
    first = client.http.get(f"{base}.csv?theme=support&limit=1", headers=admin_headers())
    link = first.headers["Link"].split(">")[0].removeprefix("<").removeprefix(get_settings().base_url)
    assert "theme=support" in link
    second = client.http.get(link, headers=admin_headers())
    rows = [line.split(",")[1] for page in (first, second) for line in page.body.decode().splitlines()[1:]]
    assert rows == ["t1@example.com", "t2@example.com"]
    assert "Link" not in second.headers


def test_a_new_case_and_an_accepted_held_answer_read_as_the_api_document_says(client, outbox):
    """The `client` fixture checks each answer against /api/openapi.json (tests/openapi_check.py)."""
    sent = launch(outbox, [{"email": "ada@example.com"}, {"email": "bob@example.com"}])
    submit(client, sent.pages["ada@example.com"], {"q_nps": "1", "comment": "Broken"})
    apply_pending()
    ada = invitation_of(sent, "ada@example.com").id
    new = client.http.get(f"/api/responses/{ada}", headers=admin_headers())
    assert new.status_code == 200 and new.json_body["response"]["loop"]["status"] == "new"

    token, now = sent.pages["bob@example.com"].rsplit("/", 1)[1], time.time()
    survey_pages.trap(token, now)
    csrf = csrf_of(survey_pages.show(token, None, now + 5).body)
    form = {"csrf": [csrf], "evidence": ["submit"], "q_nps": ["3"]}
    assert survey_pages.submit(token, form, {}, now + 5).status == 200
    bob = invitation_of(sent, "bob@example.com").id
    held.accept(bob, "lead@closeloop-test.example", now + 10, get_settings())
    accepted = client.http.get(f"/api/responses/{bob}", headers=admin_headers())
    assert accepted.status_code == 200
    assert [h["status"] for h in accepted.json_body["response"]["loop"]["history"]][:1] == ["accepted"]


def _acknowledged(client, outbox, monkeypatch):
    """A detractor's answer, acknowledged: an open case whose loop history has one entry."""
    monkeypatch.setenv("CLOSELOOP_ACK_DELAY", "0")
    sent = launch(outbox)
    submit(client, sent.pages["ada@example.com"], {"q_nps": "2", "comment": "Broken again"})
    apply_pending()
    followups.acknowledge_due(time.time() + 1, get_settings())
    return invitation_of(sent, "ada@example.com").id


def _post(client, response_id, body):
    return client.http.post(f"/api/responses/{response_id}/loop", body=json.dumps(body), headers=admin_headers())


def test_a_change_with_a_stale_expected_version_is_refused_and_without_one_it_is_made(client, outbox, monkeypatch):
    ada = _acknowledged(client, outbox, monkeypatch)
    read = client.http.get(f"/api/responses/{ada}", headers=admin_headers()).json_body["response"]["loop"]
    assert read["version"] == len(read["history"]) == 1
    resolved = _post(client, ada, {"status": "resolved", "note": "Fixed", "expected_version": 1})
    assert resolved.status_code == 200 and resolved.json_body["response"]["loop"]["version"] == 2
    stale = _post(client, ada, {"status": "contacted", "note": "Called", "expected_version": 1})
    assert stale.status_code == 409 and stale.json_body["error"]["field"] == "expected_version"
    assert stale.json_body["error"]["message"].startswith(
        "This case changed since you read it: configured token marked it resolved at 20"
    )
    assert "Nothing was saved" in stale.json_body["error"]["message"]
    now = client.http.get(f"/api/responses/{ada}", headers=admin_headers()).json_body["response"]["loop"]
    assert now["status"] == "resolved" and now["version"] == 2
    for bad in (-1, "2", True, 1.5):
        refused = _post(client, ada, {"status": "contacted", "expected_version": bad})
        assert refused.status_code == 400 and refused.json_body["error"]["field"] == "expected_version"
    unchecked = _post(client, ada, {"status": "acknowledged", "note": "Again"})  # as before: no version, no check
    assert unchecked.status_code == 200 and unchecked.json_body["response"]["loop"]["status"] == "acknowledged"


def test_only_a_resolved_case_can_be_reopened(client, outbox, monkeypatch):
    ada = _acknowledged(client, outbox, monkeypatch)
    for state in ("acknowledged", "contacted"):
        if state == "contacted":
            _post(client, ada, {"status": "contacted", "note": "Called"})
        refused = _post(client, ada, {"status": "acknowledged", "note": "reopen while open"})
        assert refused.status_code == 409 and refused.json_body["error"] == {
            "message": f"Only a resolved case can be reopened: this one is {state}, so it is still open. "
            "Nothing was saved.",
            "field": "status",
        }
    history = client.http.get(f"/api/responses/{ada}", headers=admin_headers()).json_body["response"]["loop"]
    assert [h["status"] for h in history["history"]] == ["acknowledged", "contacted"]
    _post(client, ada, {"status": "resolved", "note": "Fixed", "expected_version": 2})
    reopened = _post(client, ada, {"status": "acknowledged", "note": "They wrote again", "expected_version": 3})
    assert reopened.status_code == 200 and reopened.json_body["response"]["loop"]["status"] == "acknowledged"
    assert _post(client, ada, {"status": "acknowledged", "expected_version": 4}).status_code == 409


def test_a_resolved_case_is_not_marked_contacted_without_being_reopened(client, outbox):
    """The dashboard offers only Reopen on a resolved case; a hand-made post or an API call is refused too."""
    sent = launch(outbox)
    assert submit(client, sent.pages["ada@example.com"], {"q_nps": "2"}).status_code == 200
    response_id = invitation_of(sent, "ada@example.com").id
    path = f"/api/responses/{response_id}/loop"
    resolved = client.http.post(
        path, body=json.dumps({"status": "resolved", "note": "Called"}), headers=admin_headers()
    )
    assert resolved.status_code == 200, resolved.body
    again = client.http.post(path, body=json.dumps({"status": "contacted", "note": "x"}), headers=admin_headers())
    assert again.status_code == 409 and again.json_body["error"] == {
        "field": "status",
        "message": "This case is resolved: reopen it first, then mark it contacted. Nothing was saved.",
    }
    assert invitation_of(sent, "ada@example.com").loop_status == "resolved"
