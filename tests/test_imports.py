"""Recipient imports: every rejected row explained, duplicates merged, nothing already accepted lost."""

from __future__ import annotations

import json
import random
import time

import pytest

from chalicelib.campaigns import campaigns, suppression
from chalicelib.campaigns.contacts import Recipient
from chalicelib.queue import get_queue
from chalicelib.runtime.jobs import find_job
from chalicelib.sending import imports
from chalicelib.store.models import ImportJob
from tests.conftest import admin_headers
from tests.helpers import create_campaign, drain, people


def _csv_post(client, campaign_id, body, content_type="text/csv"):
    return client.http.post(
        f"/api/campaigns/{campaign_id}/recipients", body=body, headers={**admin_headers(), "Content-Type": content_type}
    )


def _recipients_in_outbox(outbox) -> list[str]:
    """The To: of every message, read from the header lines only (fast enough for 10,000 files)."""
    found = []
    for path in outbox.glob("*.eml"):
        with path.open("rb") as handle:
            for line in handle:
                if line.startswith(b"To: "):
                    found.append(line[4:].strip().decode())
                    break
    return found


@pytest.mark.slow
def test_a_10000_row_csv_with_bad_and_duplicate_rows(client, outbox):
    """The issue's acceptance test: 3% malformed, 5% duplicated; exact report; one invitation each."""
    rng = random.Random(7)
    unique = [f"customer{i:05d}@example.com" for i in range(9200)]
    lines: list[str] = []
    malformed: dict[int, str] = {}
    rows = (
        [("ok", e) for e in unique]
        + [("dup", rng.choice(unique)) for _ in range(500)]
        + [("bad", i) for i in range(300)]
    )
    rng.shuffle(rows)
    for kind, value in rows:
        row_number = len(lines) + 2  # the header is row 1
        if kind == "bad":
            bad_kind = value % 3
            if bad_kind == 0:
                lines.append(f"not-an-email-{value},pro,eu")
                malformed[row_number] = f"row[{row_number}].email"
            elif bad_kind == 1:
                lines.append(",pro,eu")
                malformed[row_number] = f"row[{row_number}].email"
            else:
                lines.append(f"x{value}@example.com,pro,eu,surplus")
                malformed[row_number] = f"row[{row_number}]"
        else:
            lines.append(f"{value},{rng.choice(['free', 'pro'])},{rng.choice(['eu', 'us'])}")
    body = "Email,plan,region\n" + "\n".join(lines) + "\n"
    assert len(lines) == 10_000

    # before the import: 60 unsubscribed, 60 bounced, 60 surveyed last week by another campaign
    now = time.time()
    for email in unique[:60]:
        suppression.suppress(email, "unsubscribed", now, source="test")
    for email in unique[60:120]:
        suppression.suppress(email, "bounced", now, source="test")
    earlier = create_campaign([{"email": e} for e in unique[120:180]])
    campaigns.start_sending(earlier.id, now - 7 * 86400, None, get_queue())
    drain(lambda: now - 7 * 86400)
    assert len(_recipients_in_outbox(outbox)) == 60
    for path in outbox.glob("*.eml"):
        path.unlink()

    campaign = create_campaign([], segments=("plan", "region"))
    response = _csv_post(client, campaign.id, body)
    assert response.status_code == 202
    report = response.json_body["import"]
    assert (report["rows"], report["accepted"], report["duplicates_merged"], report["rejected"]) == (
        10_000,
        9200,
        500,
        300,
    )
    assert {r["row"]: r["field"] for r in report["rejected_rows"]} == malformed
    assert all(r["message"] for r in report["rejected_rows"])
    assert report["chunks"] == {"done": 0, "total": 19}
    client.http.post(f"/api/campaigns/{campaign.id}/send", body="{}", headers=admin_headers())
    drain()
    for _ in range(5):
        find_job("dispatch_due").run()  # starts the campaign once the import is done
        drain()
    sent_to = _recipients_in_outbox(outbox)
    assert len(sent_to) == len(set(sent_to)) == 9200 - 180
    assert set(sent_to) == set(unique[180:])
    while find_job("apply_counts").run()["applied"]:
        pass
    stats = client.http.get(f"/api/campaigns/{campaign.id}/stats", headers=admin_headers()).json_body["stats"]
    assert (stats["invited"], stats["sent"], stats["suppressed"]) == (9200, 9020, 120)
    assert stats["skipped"] == {"total": 180, "reasons": {"fatigue": 60, "suppressed": 120}}


def test_csv_upload_as_multipart_form_data(client, outbox):
    campaign = create_campaign([])
    csv = "email,first_name\nada@example.com,Ada\nbad-address,Nope\n"
    body = (
        '--B0UND\r\nContent-Disposition: form-data; name="file"; filename="people.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n" + csv + "\r\n--B0UND--\r\n"
    )
    response = _csv_post(client, campaign.id, body, "multipart/form-data; boundary=B0UND")
    assert response.status_code == 201
    report = response.json_body["import"]
    assert (report["status"], report["invited"]) == ("done", 1)
    assert report["rejected_rows"] == [
        {"row": 3, "field": "row[3].email", "message": "“bad-address” is not a valid email address."}
    ]


@pytest.mark.parametrize(
    ("content_type", "body", "field", "message"),
    [
        ("text/csv", "", "file", "empty"),
        ("text/csv", "name,plan\nx,y\n", "file", "needs an `email` column"),
        (
            "multipart/form-data; boundary=B",
            '--B\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--B--',
            "file",
            "form field named `file`",
        ),
        ("application/json", json.dumps({"recipients": {"email": "a@b.c"}}), "recipients", "list"),
    ],
)
def test_an_unreadable_import_gets_a_clear_error(client, content_type, body, field, message):
    campaign = create_campaign([])
    response = _csv_post(client, campaign.id, body, content_type)
    assert response.status_code == 400
    assert response.json_body["error"]["field"] == field
    assert message in response.json_body["error"]["message"]


def test_a_chunk_delivered_twice_is_written_and_counted_once(db, outbox):
    campaign = create_campaign([])
    rows = list(enumerate(people(1200)))
    report = imports.start(campaigns.get_view(campaign.id), rows, "recipients", time.time(), settings(), get_queue())
    queue = get_queue()
    records = queue.receive(limit=10)
    assert len(records) == 3
    from chalicelib.runtime import work

    for record in records:
        work.handle(record)
    work.handle(records[0])  # delivered again
    job = ImportJob.get(report["id"])
    assert (job.status, job.invited, job.already_invited, job.chunks_done) == ("done", 1200, 0, 3)
    again = imports.process_chunk(
        report["id"], 0, [Recipient(**p) for p in people(500)], time.time(), settings(), queue
    )
    assert again == "already done"


def test_the_same_recipients_imported_twice_are_invited_once(client, outbox):
    campaign = create_campaign(people(5))
    response = client.http.post(
        f"/api/campaigns/{campaign.id}/recipients", body=json.dumps({"recipients": people(7)}), headers=admin_headers()
    )
    assert response.json_body["import"]["invited"] == 2
    assert response.json_body["import"]["already_invited"] == 5


def test_bulk_calls_beyond_the_rate_answer_429_with_retry_after(client):
    campaign = create_campaign([])
    body = json.dumps({"recipients": []})
    statuses = [
        client.http.post(f"/api/campaigns/{campaign.id}/recipients", body=body, headers=admin_headers())
        for _ in range(21)
    ]
    assert [r.status_code for r in statuses[:20]] == [201] * 20
    limited = statuses[20]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert "At most 20 import calls a minute" in limited.json_body["error"]["message"]


def settings():
    from chalicelib.core.config import get_settings

    return get_settings()
