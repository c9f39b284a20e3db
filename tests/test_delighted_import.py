"""Importing Delighted's exported history: twelve weeks of responses in our trends and digests, its
unsubscribes and bounces never mailed, a second import adding nothing, and every bad row explained."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from chalicelib.admin import openapi
from chalicelib.answers import counting
from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.core import nps
from chalicelib.core.config import get_settings
from chalicelib.delighted import history, history_import
from chalicelib.insight import digest, rebuild, stats
from chalicelib.queue import get_queue
from chalicelib.runtime.jobs import find_job
from chalicelib.sending import imports
from chalicelib.store.models import Contact, Invitation
from tests.conftest import admin_headers, read_outbox
from tests.dashboard_support import csrf_of, session_headers, shown_error
from tests.helpers import cli, drain, invitations_of, launch

SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend Acme?"},
        {"id": "why", "type": "text", "text": "What is the main reason for your score?"},
        {"id": "easy", "type": "single_choice", "text": "Was it easy?", "options": ["Yes", "No"]},
    ]
}
MONDAYS = [date(2025, 9, 1) + timedelta(weeks=n) for n in range(12)]  # ISO weeks 36 to 47 of 2025
PER_WEEK = 84
PEOPLE = 300
UNSUBSCRIBED = [f"p{n}@example.com" for n in range(0, 30, 3)]
BOUNCED = [f"p{n}@example.com" for n in range(1, 30, 6)]


def epoch(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime.combine(day, time(hour, minute), UTC).timestamp())


def new_campaign(survey=SURVEY) -> campaigns.CampaignView:
    body = {"name": "Acme NPS", "survey": survey, "segments": ["plan"], "timezone": "UTC"}
    return campaigns.create_campaign(campaigns.parse_campaign(body), epoch(date(2025, 8, 1), 9))


def stored_of(campaign_id: str) -> list[Invitation]:
    """A campaign's invitations: one Query for the ids, BatchGetItem for the items (100 a request)."""
    return list(Invitation.batch_get([key.id for key in Invitation.by_campaign.query(campaign_id)]))


def plan_of(person: int) -> str:
    return ("pro", "free", "team")[person % 3]


def responses() -> list[dict]:
    """1,008 responses, 84 a week, Monday to Friday, with comments, tags, notes and an additional answer."""
    made = []
    for week, monday in enumerate(MONDAYS):
        for k in range(PER_WEEK):
            n = week * PER_WEEK + k
            person = (n * 7) % PEOPLE
            at = epoch(monday + timedelta(days=k % 5), 8 + k % 9, k % 60)
            made.append(
                {
                    "id": str(500_000 + n),
                    "person": person,
                    "score": (k * 7 + week * 3) % 11,
                    "comment": ("Très bien, merci" if k % 4 == 0 else "Too expensive") if k % 2 == 0 else None,
                    "created_at": at,
                    "updated_at": at + 3600 * (k % 3),
                    "tags": ["pricing"] if k % 10 == 0 else [],
                    "notes": [{"text": "Called them", "user_email": "cx@acme.example", "created_at": at + 60}]
                    if k % 25 == 0
                    else [],
                    "easy": ("Yes", "No")[k % 2] if k % 6 == 0 else None,
                }
            )
    return made


def responses_csv(rows: list[dict]) -> bytes:
    """The first six weeks as Delighted's CSV export: ISO times, properties as columns, a BOM (Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["Response ID", "Email", "Name", "Score", "Comment", "Response Timestamp", "Updated At", "Tags"]
    writer.writerow([*header, "Notes", "Plan", "Permalink"])
    for r in rows:
        stamp = datetime.fromtimestamp(r["created_at"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        updated = datetime.fromtimestamp(r["updated_at"], UTC).isoformat()
        person, notes = r["person"], r["notes"][0]["text"] if r["notes"] else ""
        cells = [r["id"], f"p{person}@example.com", f"Person {person}", r["score"], r["comment"] or "", stamp]
        writer.writerow([*cells, updated, ", ".join(r["tags"]), notes, plan_of(person), f"https://x/{r['id']}"])
    return out.getvalue().encode("utf-8-sig")


def responses_json(rows: list[dict]) -> bytes:
    """The last six weeks as the v1 API returned them: epoch times, the person by id (expanded for some)."""
    items = []
    for r in rows:
        person = f"d{r['person']}"
        if r["person"] % 50 == 0:  # listed with expand[]=person
            person = {"id": person, "email": f"p{r['person']}@example.com", "name": f"Person {r['person']}"}
        additional = []
        if r["easy"]:
            question = {"id": "q_77", "type": "select_one", "text": "Was it easy?"}
            additional.append(
                {"id": "a1", "value": {"select_one": {"id": "c1", "text": r["easy"]}}, "question": question}
            )
        additional.append(
            {
                "id": "a2",
                "value": {"free_response": "more colours"},
                "question": {"id": "q_9", "type": "free_response", "text": "Anything else?"},
            }
        )
        items.append(
            {
                "id": r["id"],
                "person": person,
                "survey_type": "nps",
                "score": r["score"],
                "comment": r["comment"],
                "permalink": f"https://delighted.com/r/{r['id']}",
                "created_at": r["created_at"],
                "updated_at": r["updated_at"],
                "person_properties": {"plan": plan_of(r["person"]), "Delighted Source": "Email"},
                "notes": [{"id": "n1", **note} for note in r["notes"]],
                "tags": r["tags"],
                "additional_answers": additional,
            }
        )
    return json.dumps(items).encode()


def people_json() -> bytes:
    return json.dumps(
        [
            {
                "id": f"d{n}",
                "email": f"p{n}@example.com",
                "name": f"Person {n}",
                "created_at": epoch(date(2025, 6, 1), 9) + n,
                "last_sent_at": None,
                "properties": {"plan": plan_of(n)},
            }
            for n in range(PEOPLE)
        ]
    ).encode()


def unsubscribes_csv() -> bytes:
    lines = ["Person ID,Email,Name,Unsubscribed At"]
    lines += [f"d{e[1:-12]},{e},Someone,2025-10-0{n % 9 + 1}T10:00:00Z" for n, e in enumerate(UNSUBSCRIBED)]
    return "\n".join(lines).encode()


def bounces_json() -> bytes:
    return json.dumps(
        [{"person_id": "x", "email": e, "name": "Someone", "bounced_at": epoch(date(2025, 10, 2), 11)} for e in BOUNCED]
    ).encode()


def expected_week(rows: list[dict]) -> tuple[int, int, int]:
    categories = [nps.category(r["score"]) for r in rows]
    return tuple(categories.count(c) for c in nps.CATEGORIES)  # type: ignore[return-value]


def test_twelve_weeks_of_history_show_in_the_trend_and_digest_and_a_second_import_adds_nothing(client, outbox):
    campaign = new_campaign()
    made = responses()
    files = {
        "responses.csv": responses_csv(made[: 6 * PER_WEEK]),
        "responses.json": responses_json(made[6 * PER_WEEK :]),
        "people.json": people_json(),
        "unsubscribes.csv": unsubscribes_csv(),
        "bounces.json": bounces_json(),
    }
    progress: list[str] = []
    uploads = [history_import.Upload(name, imports.decode_csv(content, None)) for name, content in files.items()]
    reports = history_import.import_files(
        campaign.id, uploads, epoch(date(2026, 1, 5), 8), "test", None, progress.append
    )
    history_import.count_all(progress.append)
    assert [r["kind"] for r in reports] == ["unsubscribes", "bounces", "people", "responses", "responses"]
    assert [(r["invited"], r["rejected"]) for r in reports] == [(10, 0), (5, 0), (300, 0), (504, 0), (504, 0)]
    assert "responses.csv: responses 500/504 stored (500 new, 0 already imported, 0 rows rejected)" in progress
    assert progress[-1] == "counted 1,008 invitations"

    stored = stored_of(campaign.id)
    assert len(stored) == 12 * PER_WEEK
    totals = stats.totals(campaign.id, "_")
    assert totals["responses"] == totals["sent"] == 12 * PER_WEEK
    assert totals["comments"] == sum(1 for r in made if r["comment"])

    # each week of the trend API is that week's responses, by score
    query = "weeks=12&until=2025-11-23"
    trend = client.http.get(f"/api/campaigns/{campaign.id}/trend?{query}", headers=admin_headers()).json_body
    assert [w["starts"] for w in trend["weeks"]] == [m.isoformat() for m in MONDAYS]
    for week, point in enumerate(trend["weeks"]):
        p, pa, d = expected_week(made[week * PER_WEEK : (week + 1) * PER_WEEK])
        assert (point["responses"], point["n"]) == (PER_WEEK, PER_WEEK)
        assert point["nps"] == round(nps.summary(p, pa, d).nps, 2), point
    # the segments come from the person properties
    pro = client.http.get(
        f"/api/campaigns/{campaign.id}/trend?{query}&property=plan:pro", headers=admin_headers()
    ).json_body
    assert sum(w["responses"] for w in pro["weeks"]) == sum(1 for r in made if plan_of(r["person"]) == "pro")

    # the digest of the last imported week shows it and the eleven before it
    view = campaigns.get_view(campaign.id)
    last = digest.Period("weekly", MONDAYS[-1], MONDAYS[-1] + timedelta(days=6))
    text = digest.render_message(
        digest.preview(view, last, epoch(date(2025, 11, 24), 8)), "cx@acme.example", get_settings()
    )
    body = text.get_body(("plain",)).get_content()
    headline = re.search(r"^NPS ([+-]?\d+) \(95% interval [^,]+, (\d+) answers\)$", body, re.M)
    assert int(headline[2]) == PER_WEEK
    assert abs(int(headline[1]) - nps.summary(*expected_week(made[-PER_WEEK:])).nps) <= 0.5
    for monday in MONDAYS:
        assert f"  W{monday.isocalendar()[1]} (" in body, monday

    # old answers: no acknowledgement, no alert, no case, no webhook
    assert all(i.ack_pk is None and i.alerted_at is None and i.case_campaign is None for i in stored)
    assert all(i.event_version == i.answer_version == 1 and i.loop_status == "resolved" for i in stored)
    find_job("acknowledge").run()
    drain()
    assert read_outbox(outbox) == []

    # what Delighted had beyond score and comment
    one = Invitation.get(history.history_id(campaign.id, "500504"))
    assert one.origin == "delighted" and one.origin_id == "500504" and one.tags == ["pricing"]
    assert one.answers["easy"] == "Yes" and one.answers["why"] == one.comment == "Très bien, merci"
    assert [a["id"] for a in one.additional_answers] == ["a2"]
    shown = client.http.get(f"/dashboard/responses/{one.id}", headers=session_headers()).body.decode()
    assert (
        '<th scope="row"><span class="long">Anything else?</span></th><td><span class="long">more colours</span></td>'
        in shown
    )  # the question it does not ask
    assert "Imported from Delighted (its response 500504)" in shown and '<span class="prop">pricing</span>' in shown
    api = client.http.get(f"/api/responses/{one.id}", headers=admin_headers()).json_body["response"]
    assert api["origin"] == {"tool": "delighted", "id": "500504"} and api["tags"] == ["pricing"]
    assert [a["value"] for a in api["other_answers"]] == [{"free_response": "more colours"}]
    assert one.loop_history[0]["note"] == "Called them" and one.loop_history[0]["by"] == "cx@acme.example"
    assert one.properties.as_dict() == {"plan": plan_of(made[504]["person"]), "delighted_source": "Email"}
    assert Contact.get("p7@example.com").created_at == epoch(date(2025, 6, 1), 9) + 7

    # counters equal a recomputation
    checked = rebuild.rebuild(campaign.id, False, lambda _: None)
    assert not checked[0].differences and not checked[0].outdated

    # a second import adds nothing
    again = history_import.import_files(campaign.id, uploads, epoch(date(2026, 1, 5), 9), "test")
    assert [(r["invited"], r["already_invited"]) for r in again] == [(0, 10), (0, 5), (0, 300), (0, 504), (0, 504)]
    assert history_import.count_all(progress.append) == 0
    assert len(stored_of(campaign.id)) == 12 * PER_WEEK
    assert stats.totals(campaign.id, "_") == totals

    # a new send of the campaign skips the unsubscribed and bounced addresses
    fresh = ["new1@example.com", "new2@example.com"]
    rows = [{"email": e} for e in [*UNSUBSCRIBED[:3], *BOUNCED[:2], *fresh]]
    imports.start(view, list(enumerate(rows)), "recipients", epoch(date(2026, 1, 5), 9), get_settings(), get_queue())
    assert {suppression.find(e).reason for e in UNSUBSCRIBED} == {"unsubscribed"}
    assert suppression.find(BOUNCED[1]).reason == "bounced"
    campaigns.start_sending(campaign.id, epoch(date(2026, 1, 5), 9), None, get_queue())
    drain()
    assert sorted(str(m["To"]) for m in read_outbox(outbox)) == fresh
    assert campaigns.get_view(campaign.id).sent_at == made[0]["created_at"]  # the history still begins the trend


def test_the_command_imports_files_of_several_kinds_with_a_progress_line_and_lists_the_rejected_rows(db, tmp_path):
    campaign = new_campaign()
    (tmp_path / "responses.csv").write_text(
        "Response ID,Email,Score,Comment,Response Timestamp\n"
        "1,ana@example.com,9,Great,2025-09-01 10:00:00 UTC\n"
        "2,bob@example.com,12,Too high,2025-09-02 10:00:00 UTC\n"
    )
    (tmp_path / "unsubscribes.json").write_text(
        json.dumps([{"email": "cy@example.com", "unsubscribed_at": 1756720800}])
    )
    paths = [str(tmp_path / "responses.csv"), str(tmp_path / "unsubscribes.json")]
    result = cli("import-delighted", "--campaign", campaign.id, *paths, env=db)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"{paths[1]}: unsubscribes 1/1 stored (1 new, 0 already imported, 0 rows rejected)",
        f"{paths[0]}: responses 1/1 stored (1 new, 0 already imported, 1 row rejected)",
    ]
    assert lines[2] == "counted 1 invitation"
    assert lines[3].startswith(f"{paths[1]}: unsubscribes, 1 row: 1 new, 0 already imported, 0 merged as duplicates")
    assert lines[5] == "  row 3 (row[3].score): 12 is outside the scale: choose a score from 0 to 10."
    assert suppression.find("cy@example.com").reason == "unsubscribed"
    missing = cli("import-delighted", "--campaign", "nope", *paths, env=db)
    assert missing.returncode == 1 and "No campaign 'nope'" in missing.stderr


def upload(client, campaign_id: str, body: bytes | str, content_type: str = "text/csv", kind: str = ""):
    path = f"/api/campaigns/{campaign_id}/imports/delighted" + (f"?kind={kind}" if kind else "")
    return client.http.post(path, body=body, headers={**admin_headers(), "Content-Type": content_type})


def test_bad_rows_are_reported_by_row_field_and_reason_and_the_good_ones_imported(client):
    campaign = new_campaign()
    body = (
        "Response ID,Email,Score,Comment,Created At\n"
        "1,ana@example.com,9,Great,2025-09-01T10:00:00Z\n"
        "2,bob@example.com,11,Too high,2025-09-01T10:00:00Z\n"
        "3,,7,No address,2025-09-01T10:00:00Z\n"
        "4,cy@example.com,seven,Words,2025-09-01T10:00:00Z\n"
        "5,di@example.com,3,Bad time,yesterday\n"
        "6,ed@example.com,3,Future,2999-01-01T00:00:00Z\n"
        "7,fi@example.com,10,,1756720800\n"
    )
    answer = upload(client, campaign.id, body)
    assert answer.status_code == 201, answer.json_body
    report = answer.json_body["import"]
    assert (report["kind"], report["rows"], report["accepted"], report["rejected"]) == ("responses", 7, 2, 5)
    assert [(r["row"], r["field"]) for r in report["rejected_rows"]] == [
        (3, "row[3].score"),
        (4, "row[4].email"),
        (5, "row[5].score"),
        (6, "row[6].created_at"),
        (7, "row[7].created_at"),
    ]
    messages = [r["message"] for r in report["rejected_rows"]]
    assert "11 is outside the scale" in messages[0] and messages[1] == "An email address is required."
    assert "“seven” is not a whole number" in messages[2] and "“yesterday” is not a time" in messages[3]
    assert "is in the future" in messages[4]
    got = client.http.get(
        f"/api/campaigns/{campaign.id}/imports/{report['id']}/rejected.csv", headers=admin_headers()
    ).body.decode()
    assert got.splitlines()[:2] == [
        "Response ID,Email,Score,Comment,Created At,row,reason",
        f"2,bob@example.com,11,Too high,2025-09-01T10:00:00Z,3,{messages[0]}",
    ]
    history_import.count_all(lambda _: None)
    assert stats.totals(campaign.id, "_")["responses"] == 2


def test_a_windows_1252_export_is_read_as_excel_wrote_it_and_a_wrong_declared_charset_is_refused(client):
    campaign = new_campaign()
    body = "Email,Score,Comment,Created At\nzoe@example.com,10,Très bien,2025-09-01 10:00:00\n".encode("cp1252")
    answer = upload(client, campaign.id, body)
    assert answer.status_code == 201, answer.json_body
    stored = Invitation.get(history.history_id(campaign.id, f"zoe@example.com|{epoch(date(2025, 9, 1), 10)}"))
    assert stored.comment == "Très bien"
    wrong = upload(client, campaign.id, body, "text/csv; charset=utf-8")
    assert wrong.status_code == 400
    assert wrong.json_body["error"]["field"] == "file" and "is not utf-8 text" in wrong.json_body["error"]["message"]
    binary = upload(client, campaign.id, b"PK\x03\x04rest")
    assert binary.status_code == 400 and "not a CSV" in binary.json_body["error"]["message"]


def test_json_from_the_v1_api_imports_people_unsubscribes_and_responses_and_says_what_cannot_be_read(client):
    campaign = new_campaign()
    people = [
        {"id": "1", "email": "Ana@Example.com", "name": "Ana", "created_at": 1700000000, "properties": {"plan": "pro"}}
    ]
    answer = upload(client, campaign.id, json.dumps(people), "application/json")
    assert answer.status_code == 201 and answer.json_body["import"]["kind"] == "people"
    assert Contact.get("ana@example.com").properties["plan"] == "pro"
    stops = [{"person_id": "1", "email": "ana@example.com", "unsubscribed_at": 1700000100}]
    answer = upload(client, campaign.id, json.dumps(stops), "application/json")
    assert (
        answer.json_body["import"]["kind"] == "unsubscribes"
        and suppression.find("ana@example.com").reason == "unsubscribed"
    )
    assert suppression.find("ana@example.com").created_at == 1700000100
    rows = [
        {"id": "9", "person": {"id": "1", "email": "ana@example.com"}, "score": 2, "created_at": 1700000000},
        {"id": "10", "person": "77", "score": 5, "created_at": 1700000000},
        {"id": "11", "person": {"id": "2", "email": "bo@example.com"}, "score": 8, "created_at": "soon"},
        "not an object",
    ]
    answer = upload(client, campaign.id, json.dumps(rows), "application/json")
    report = answer.json_body["import"]
    assert (report["kind"], report["accepted"], report["rejected"]) == ("responses", 1, 3)
    assert [(r["row"], r["field"]) for r in report["rejected_rows"]] == [
        (1, "row[1].person"),
        (2, "row[2].created_at"),
        (3, "row[3]"),
    ]
    assert "expand[]=person" in report["rejected_rows"][0]["message"]
    for body in ("{not json", "[" * 100 + "]" * 100, '[{"email": "a@example.com", "name": "\\ud800"}]'):
        unreadable = upload(client, campaign.id, body, "application/json")
        assert unreadable.status_code == 400 and unreadable.json_body["error"]["field"] == "file", body
    many = [{"question": {"id": "q", "text": "Q?"}, "value": {"free_response": "x"}}] * 60
    huge = upload(client, campaign.id, json.dumps([{**rows[0], "additional_answers": many}]), "application/json")
    assert huge.json_body["import"]["rejected_rows"][0]["field"] == "row[0].additional_answers"
    for odd in ("just a string", 5, None, [1, 2]):
        kept = [{"question": {"id": "q", "text": "Q?"}, "value": {"free_response": "x"}}, odd]
        row = {**rows[0], "id": "90", "additional_answers": kept}
        rejected = upload(client, campaign.id, json.dumps([row]), "application/json").json_body["import"]
        found = [(r["field"], "additional_answers[1]" in r["message"]) for r in rejected["rejected_rows"]]
        assert found == [("row[0].additional_answers", True)], odd
    unknown = upload(client, campaign.id, json.dumps([{"hello": 1}]), "application/json")
    assert unknown.status_code == 400 and unknown.json_body["error"]["field"] == "kind"
    bounce = [{"email": "x@example.com", "bounced_at": 1700000000}]
    named = upload(client, campaign.id, json.dumps(bounce), "application/json", kind="bounces")
    assert named.json_body["import"]["kind"] == "bounces" and suppression.find("x@example.com").reason == "bounced"
    bad_kind = upload(client, campaign.id, "email\nx@example.com\n", kind="sms")
    assert bad_kind.status_code == 400 and bad_kind.json_body["error"]["field"] == "kind"


def test_the_documented_kinds_are_the_kinds_read():
    assert openapi.DELIGHTED_KIND["schema"]["enum"] == list(history.KINDS)


def test_a_campaign_whose_scores_have_no_question_is_refused_before_anything_is_written(client):
    campaign = new_campaign(
        {"questions": [{"id": "pick", "type": "single_choice", "text": "Which?", "options": ["A", "B"]}]}
    )
    answer = upload(client, campaign.id, "Email,Score,Created At\na@example.com,9,2025-09-01\n")
    assert answer.status_code == 400 and answer.json_body["error"]["field"] == "campaign_id"
    assert stored_of(campaign.id) == []


@pytest.mark.parametrize("missing", ["nope"])
def test_an_unknown_campaign_is_404(client, missing):
    assert upload(client, missing, "Email,Score,Created At\na@example.com,9,2025-09-01\n").status_code == 404


def test_people_delighted_surveyed_lately_are_not_asked_again_within_the_fatigue_window(client, outbox):
    campaign = new_campaign()
    now = datetime.now(UTC).timestamp()
    people = [
        {"id": "1", "email": "sent@example.com", "last_sent_at": int(now - 3 * 86400)},
        {"id": "2", "email": "long-ago@example.com", "last_sent_at": int(now - 400 * 86400)},
        {"id": "3", "email": "never@example.com", "last_sent_at": None},
    ]
    assert upload(client, campaign.id, json.dumps(people), "application/json").status_code == 201
    answered = [
        {"id": "7", "person": {"id": "4", "email": "answered@example.com"}, "score": 9, "created_at": now - 5 * 86400}
    ]
    history_report = upload(client, campaign.id, json.dumps(answered), "application/json")
    assert history_report.status_code == 201
    shown = client.http.get(
        f"/dashboard/campaigns/{campaign.id}/imports/{history_report.json_body['import']['id']}",
        headers=session_headers(),
    ).body.decode()
    assert "<h1>Import of Delighted responses</h1>" in shown and "<dt>New</dt>" in shown and "Invited" not in shown
    late = [{"email": "bad@example.com", "last_sent_at": "someday"}]
    refused = upload(client, campaign.id, json.dumps(late), "application/json").json_body["import"]
    assert [r["field"] for r in refused["rejected_rows"]] == ["row[0].last_sent_at"]
    lately = datetime.fromtimestamp(now - 2 * 86400, UTC)
    exported = (
        "Email,Name,Created At,Last Sent At\n"
        f"csv@example.com,C,2024-01-01 10:00:00 UTC,{lately:%Y-%m-%d %H:%M:%S} UTC\n"
        f"offset@example.com,O,2024-01-01T10:00:00Z,{lately:%Y-%m-%dT%H:%M:%S}-08:00\n"
        "tuesday@example.com,T,2024-01-01T10:00:00Z,last tuesday\n"
    )
    csv_report = upload(client, campaign.id, exported).json_body["import"]
    assert [(r["row"], r["field"]) for r in csv_report["rejected_rows"]] == [(4, "row[4].last_sent_at")]

    addresses = ["sent@example.com", "long-ago@example.com", "never@example.com", "answered@example.com"]
    addresses += ["csv@example.com", "offset@example.com"]
    sent = launch(outbox, [{"email": a} for a in addresses])

    assert sorted(str(m["To"]) for m in sent.messages) == ["long-ago@example.com", "never@example.com"]
    skipped = {i.email: i.send_error for i in invitations_of(sent.campaign.id) if i.send_state == "skipped"}
    lately_asked = ["sent@example.com", "answered@example.com", "csv@example.com", "offset@example.com"]
    assert skipped == dict.fromkeys(lately_asked, "fatigue:surveyed recently")


def test_a_draft_with_imported_answers_keeps_the_time_zone_its_days_are_counted_in(client):
    def patch_zone(campaign_id: str, zone: str):
        return client.http.request(
            "PATCH",
            f"/api/campaigns/{campaign_id}",
            headers={**admin_headers(), "Content-Type": "application/json"},
            body=json.dumps({"timezone": zone}).encode(),
        )

    recipients_only = new_campaign()
    imported = client.http.post(
        f"/api/campaigns/{recipients_only.id}/recipients",
        headers={**admin_headers(), "Content-Type": "application/json"},
        body=json.dumps({"recipients": [{"email": "ann@example.com"}]}).encode(),
    )
    assert imported.status_code in (200, 201, 202), imported.json_body
    counting.apply_pending()
    assert patch_zone(recipients_only.id, "Pacific/Auckland").status_code == 200  # no answer counted yet

    campaign = new_campaign()
    rows = [{"id": "1", "person": {"id": "4", "email": "bo@example.com"}, "score": 9, "created_at": 1_795_000_000}]
    assert upload(client, campaign.id, json.dumps(rows), "application/json").status_code == 201
    counting.apply_pending()
    refused = patch_zone(campaign.id, "Pacific/Auckland")
    assert refused.status_code == 409 and refused.json_body["error"]["field"] == "timezone"
    assert campaigns.get_view(campaign.id).timezone == "UTC"
    assert patch_zone(campaign.id, "UTC").status_code == 200  # the same zone again is no change


def test_a_kind_the_columns_contradict_is_refused_before_anyone_is_suppressed(client, db, tmp_path):
    campaign = new_campaign()
    answers = "Response ID,Email,Score,Comment,Response Timestamp\n1,ana@example.com,9,Great,2025-09-01 10:00:00 UTC\n"
    refused = upload(client, campaign.id, answers, kind="bounces")
    assert refused.status_code == 400, refused.json_body
    error = refused.json_body["error"]
    assert error["field"] == "kind"
    assert error["message"] == (
        "This file looks like Delighted's responses export, not bounces (it has no bounced_at, which bounces "
        "need): nothing was imported. Import it as responses, or leave the kind out and its columns tell."
    )
    assert suppression.find("ana@example.com") is None and stored_of(campaign.id) == []
    people = [{"id": "1", "email": "bo@example.com", "name": "Bo", "created_at": 1700000000}]
    as_unsubscribes = upload(client, campaign.id, json.dumps(people), "application/json", kind="unsubscribes")
    assert (
        as_unsubscribes.status_code == 400
        and "people export, not unsubscribes" in as_unsubscribes.json_body["error"]["message"]
    )
    no_time = upload(client, campaign.id, "Email,Score\ncy@example.com,9\n", kind="responses")
    assert no_time.status_code == 400
    assert no_time.json_body["error"]["message"] == (
        "This file has no created_at, which responses need: nothing was imported."
    )

    (tmp_path / "people.csv").write_text("Person ID,Email,Name,Created At\n7,di@example.com,Di,2025-01-01T00:00:00Z\n")
    (tmp_path / "unsubscribes.csv").write_text("Email,Unsubscribed At\ned@example.com,2025-01-01T00:00:00Z\n")
    paths = [str(tmp_path / "unsubscribes.csv"), str(tmp_path / "people.csv")]
    result = cli("import-delighted", "--campaign", campaign.id, "--kind", "unsubscribes", *paths, env=db)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: {paths[1]}: This file looks like Delighted's people export, not unsubscribes (it has no "
        "unsubscribed_at, which unsubscribes need): nothing was imported. Import it as people, or leave the "
        "kind out and its columns tell."
    ]
    assert suppression.find("di@example.com") is None and suppression.find("ed@example.com") is None


def test_the_same_response_twice_with_different_answers_is_rejected_and_identical_ones_merged(client):
    campaign = new_campaign()
    body = (
        "Response ID;Email;Score;Comment;Response Timestamp\n"
        "81004;ana@example.com;9;Great;2025-09-01 10:00:00 UTC\n"
        "81005;bo@example.com;7;Fine;2025-09-01 11:00:00 UTC\n"
        "81006;cy@example.com;8;;2025-09-01 12:00:00 UTC\n"
        "81005;bo@example.com;7;Fine;2025-09-01 11:00:00 UTC\n"
        "81007;di@example.com;10;;2025-09-01 13:00:00 UTC\n"
        "81004;ana@example.com;2;Great;2025-09-01 10:00:00 UTC\n"
    )
    report = upload(client, campaign.id, body).json_body["import"]
    assert (report["accepted"], report["duplicates_merged"], report["rejected"]) == (3, 1, 2)
    message = (
        "Response 81004 appears 2 times with different score (rows 2 and 7): none of them is imported. "
        "Keep the right row and import it again."
    )
    assert report["rejected_rows"] == [
        {"row": 2, "field": "row[2].score", "message": message},
        {"row": 7, "field": "row[7].score", "message": message},
    ]
    history_import.count_all(lambda _: None)
    assert stats.totals(campaign.id, "_")["responses"] == 3
    got = client.http.get(
        f"/api/campaigns/{campaign.id}/imports/{report['id']}/rejected.csv", headers=admin_headers()
    ).body.decode()
    fixed = "\n".join(line for line in got.splitlines() if line.split(",")[2] != "2")  # the wrong score out
    again = upload(client, campaign.id, fixed).json_body["import"]
    assert (again["accepted"], again["invited"], again["rejected"]) == (1, 1, 0)
    assert Invitation.get(history.history_id(campaign.id, "81004")).score == 9
    stops = [
        {"email": "ed@example.com", "unsubscribed_at": 1700000000},
        {"email": "ed@example.com", "unsubscribed_at": 1700000500},
    ]
    twice = upload(client, campaign.id, json.dumps(stops), "application/json").json_body["import"]
    assert [r["field"] for r in twice["rejected_rows"]] == ["row[0].unsubscribed_at", "row[1].unsubscribed_at"]
    assert twice["rejected_rows"][0]["message"].startswith("The unsubscribe of ed@example.com appears 2 times")
    assert suppression.find("ed@example.com") is None


def dashboard_upload(client, campaign_id: str, data: bytes):
    """The dashboard's recipients upload of a CSV file, as the browser sends it."""
    headers = session_headers()
    form = client.http.get(f"/dashboard/campaigns/{campaign_id}/recipients", headers=headers).body.decode()
    body = (
        b'--B0UND\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
        + csrf_of(form).encode()
        + b'\r\n--B0UND\r\nContent-Disposition: form-data; name="file"; filename="rejected.csv"\r\n'
        + b"Content-Type: text/csv\r\n\r\n"
        + data
        + b"\r\n--B0UND--\r\n"
    )
    content = {"Content-Type": "multipart/form-data; boundary=B0UND"}
    return client.http.post(f"/dashboard/campaigns/{campaign_id}/recipients", body=body, headers={**headers, **content})


def fixed_rows(got: str, fix) -> str:
    """The rejected rows' download with each row's cells passed through `fix` (row and reason kept)."""
    rows = list(csv.reader(io.StringIO(got)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([rows[0], *(fix(row) for row in rows[1:])])
    return out.getvalue()


def test_rejected_history_rows_are_imported_again_as_history_and_the_recipients_upload_refuses_them(client):
    campaign = new_campaign()
    exported = (
        "Response ID,Email,Score,Comment,Response Timestamp\n"
        "1,ana@example.com,9,Great,2025-09-01 10:00:00 UTC\n"
        "2,bo@example.com,12,Too high,2025-09-02 10:00:00 UTC\n"
        "3,cy@example.com,eleven,Words,2025-09-03 10:00:00 UTC\n"
    )
    report = upload(client, campaign.id, exported).json_body["import"]
    assert (report["accepted"], report["rejected"]) == (1, 2)
    page = client.http.get(
        f"/dashboard/campaigns/{campaign.id}/imports/{report['id']}", headers=session_headers()
    ).body.decode()
    command = f"python -m chalicelib.cli import-delighted --campaign {campaign.id} --kind responses FILE.csv"
    assert command in page and f"POST /api/campaigns/{campaign.id}/imports/delighted?kind=responses" in page
    assert "Back to the recipients" not in page and "upload the file again" not in page
    got = client.http.get(
        f"/dashboard/campaigns/{campaign.id}/imports/{report['id']}/rejected.csv", headers=session_headers()
    ).body.decode()
    fixed = fixed_rows(got, lambda row: [*row[:2], {"12": "10", "eleven": "0"}[row[2]], *row[3:]])

    refusal = (
        "This looks like a Delighted responses export (or the rows a Delighted history import rejected): import "
        f"it as history with `python -m chalicelib.cli import-delighted --campaign {campaign.id} FILE` or "
        f"`POST /api/campaigns/{campaign.id}/imports/delighted`, not as recipients (they would be mailed). "
        "If these are people to survey, rename the score column."
    )
    recipients = f"/api/campaigns/{campaign.id}/recipients"
    for body in (fixed, exported):
        api = client.http.post(recipients, body=body, headers={**admin_headers(), "Content-Type": "text/csv"})
        assert api.status_code == 400 and api.json_body["error"] == {"message": refusal, "field": "file"}
    shown = dashboard_upload(client, campaign.id, fixed.encode())
    message = shown_error(shown.body.decode(), "file")
    assert shown.status_code == 400 and message.startswith("This looks like a Delighted responses export")
    assert f"import-delighted --campaign {campaign.id} FILE" in message and "(they would be mailed)" in message
    own_times = fixed.replace("Response ID", "id").replace("Response Timestamp", "Created At")
    assert own_times.startswith("id,Email,Score,Comment,Created At,row,reason")
    refused = client.http.post(recipients, body=own_times, headers={**admin_headers(), "Content-Type": "text/csv"})
    assert refused.status_code == 400 and refused.json_body["error"]["message"] == refusal
    assert [i.id for i in invitations_of(campaign.id)] == [history.history_id(campaign.id, "1")]  # no recipient

    again = upload(client, campaign.id, fixed, kind="responses").json_body["import"]
    assert (again["accepted"], again["invited"], again["rejected"]) == (2, 2, 0)
    history_import.count_all(lambda _: None)
    assert stats.totals(campaign.id, "_")["responses"] == 3

    # a JSON export's rejected rows come back as a CSV of its objects, imported again as they are
    rows = [{"id": "7", "person": {"id": "9", "email": "di@example.com"}, "score": 20, "created_at": 1756720800}]
    json_report = upload(client, campaign.id, json.dumps(rows), "application/json").json_body["import"]
    got = client.http.get(
        f"/api/campaigns/{campaign.id}/imports/{json_report['id']}/rejected.csv", headers=admin_headers()
    ).body.decode()
    fixed = fixed_rows(got, lambda row: [json.dumps({**json.loads(row[0]), "score": 6}), *row[1:]])
    api = client.http.post(recipients, body=fixed, headers={**admin_headers(), "Content-Type": "text/csv"})
    assert api.status_code == 400 and api.json_body["error"]["message"] == refusal
    assert upload(client, campaign.id, fixed).json_body["import"]["invited"] == 1
    assert Invitation.get(history.history_id(campaign.id, "7")).score == 6

    # a list of people to survey with a score of their own (a lead score) is still recipients
    own = "Email,Name,Score,Created At\nlee@example.com,Lee,42,2024-01-01\n"
    kept = client.http.post(recipients, body=own, headers={**admin_headers(), "Content-Type": "text/csv"})
    assert kept.status_code in (201, 202) and kept.json_body["import"]["accepted"] == 1


def test_responses_naming_their_person_by_id_find_the_people_imported_before(client):
    campaign = new_campaign()
    contacts.upsert(contacts.Recipient("known@example.com", {"plan": "pro"}), 1700000000)  # a recipient before
    people = [
        {"id": "1005", "email": "new@example.com", "name": "New", "created_at": 1700000000},
        {"id": "1006", "email": "known@example.com", "name": "Known", "created_at": 1700000000},
    ]
    assert upload(client, campaign.id, json.dumps(people), "application/json").status_code == 201
    rows = [
        {"id": "r1", "person": "1005", "score": 9, "created_at": 1756720800},
        {"id": "r2", "person": "1006", "score": 3, "created_at": 1756720800},
        {"id": "r3", "person": "1007", "score": 7, "created_at": 1756720800},
    ]
    report = upload(client, campaign.id, json.dumps(rows), "application/json").json_body["import"]
    assert (report["accepted"], report["invited"], report["rejected"]) == (2, 2, 1)
    assert report["rejected_rows"] == [
        {
            "row": 2,
            "field": "row[2].person",
            "message": "Person 1007 has no address here: export the responses with expand[]=person, or import "
            "Delighted's people file (in the same import or before).",
        }
    ]
    assert Invitation.get(history.history_id(campaign.id, "r1")).email == "new@example.com"
    assert Invitation.get(history.history_id(campaign.id, "r2")).email == "known@example.com"
    assert Contact.get("known@example.com").properties.as_dict() == {"plan": "pro", "name": "Known"}


def test_an_unsubscribes_or_bounces_export_or_its_rejected_rows_is_refused_as_recipients(client):
    """Those people asked not to be mailed, or cannot be: uploaded as recipients, they would be."""
    campaign = new_campaign()
    exported = (
        "Email,Unsubscribed At\ncarl@example.com,2025-09-01 10:00:00 UTC\ndora@example.com,2099-01-01 10:00:00 UTC\n"
    )
    report = upload(client, campaign.id, exported).json_body["import"]
    assert report["rejected"] == 1  # dora's time is in the future
    got = client.http.get(
        f"/api/campaigns/{campaign.id}/imports/{report['id']}/rejected.csv", headers=admin_headers()
    ).body.decode()
    recipients = f"/api/campaigns/{campaign.id}/recipients"
    bounces = "Email,Bounced At\neve@example.com,2025-09-01 10:00:00 UTC\n"
    for body, column in ((got, "unsubscribed_at"), (exported, "unsubscribed_at"), (bounces, "bounced_at")):
        refused = client.http.post(recipients, body=body, headers={**admin_headers(), "Content-Type": "text/csv"})
        assert refused.status_code == 400 and refused.json_body["error"]["field"] == "file", refused.body
        assert f"Delighted unsubscribes or bounces export (it has {column})" in refused.json_body["error"]["message"]
    assert invitations_of(campaign.id) == []
