"""Recipient imports: every rejected row explained, duplicates merged, nothing already accepted lost."""

from __future__ import annotations

import codecs
import json
import random
import time

import pytest

from chalicelib.campaigns import campaigns, suppression
from chalicelib.campaigns.contacts import Recipient
from chalicelib.insight import reports
from chalicelib.queue import get_queue
from chalicelib.runtime.jobs import find_job
from chalicelib.sending import imports, invitations
from chalicelib.store.models import Contact, ImportJob, Invitation
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
        ("text/csv", "name,plan\nx,y\n", "file", "needs an email column"),
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


def test_bulk_calls_beyond_the_rate_answer_429_with_retry_after(client, monkeypatch):
    # The limit counts calls per clock minute (ratelimit.check), so 21 calls spanning a minute's end on a
    # busy machine would be two windows: the routes read a clock that stays in the middle of one.
    middle_of_a_minute = time.time() // 60 * 60 + 30
    monkeypatch.setattr(time, "time", lambda: middle_of_a_minute)
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


# --- Recipient files as people have them --------------------------------------------------------


def _imported(campaign_id: str, email: str) -> dict:
    return invitations.properties_of(Invitation.get(invitations.invitation_id(campaign_id, email)))


def _multipart(csv_bytes: bytes, part_type: str = "text/csv") -> tuple[bytes, str]:
    body = (
        b'--B0UND\r\nContent-Disposition: form-data; name="file"; filename="people.csv"\r\n'
        + f"Content-Type: {part_type}\r\n\r\n".encode()
        + csv_bytes
        + b"\r\n--B0UND--\r\n"
    )
    return body, "multipart/form-data; boundary=B0UND"


ANA = {"first_name": "Ana", "plan": "pro"}
JOSE = {"first_name": "José", "last_name": "Müller"}


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param(
            "Email;First Name;Last Name\r\nana@example.com;José;Müller\r\n".encode("cp1252"),
            "text/csv",
            JOSE,
            id="semicolons and Windows-1252 from a European Excel, no charset declared",
        ),
        pytest.param(
            "Email,First Name,Last Name\r\nana@example.com,José,Müller\r\n".encode("cp1252"),
            "text/csv; charset=windows-1252",
            JOSE,
            id="declared windows-1252",
        ),
        pytest.param(
            "Email,First Name,Last Name\r\nana@example.com,José,Müller\r\n".encode("cp1252"),
            "text/csv; charset=ISO-8859-1",
            JOSE,
            id="declared Latin-1",
        ),
        pytest.param(
            b"sep=;\r\nEmail;First Name;Last Name\r\nana@example.com;Jos\xe9;M\xfcller\r\n",
            "text/csv",
            JOSE,
            id="Excel's sep= line",
        ),
        pytest.param(
            "\ufeffEmail\tFirst Name\tLast Name\r\nana@example.com\tJosé\tMüller\r\n".encode("utf-16-le"),
            "text/csv",
            JOSE,
            id="Excel's Unicode text: UTF-16 LE with BOM, tabs",
        ),
        pytest.param(
            "\ufeffEmail\tFirst Name\tLast Name\r\nana@example.com\tJosé\tMüller\r\n".encode("utf-16-be"),
            "text/csv",
            JOSE,
            id="UTF-16 BE with BOM",
        ),
        pytest.param(
            "\ufeffEmail,First Name,Last Name\r\nana@example.com,José,Müller\r\n".encode(),
            "text/csv; charset=utf-8",
            JOSE,
            id="UTF-8 with BOM",
        ),
        pytest.param(b"Email Address,First Name,Plan\nana@example.com,Ana,pro\n", "text/csv", ANA, id="Mailchimp"),
        pytest.param(b"Email,First Name,Plan\nana@example.com,Ana,pro\n", "text/csv", ANA, id="Email,First Name"),
        pytest.param(b"E-mail|first-name|PLAN\nana@example.com|Ana|pro\n", "text/csv", ANA, id="pipes, E-mail"),
        pytest.param(b"e-mail address\tFirst  Name\tPlan\nana@example.com\tAna\tpro\n", "text/csv", ANA, id="tabs"),
        pytest.param(b"EMAIL\r\nana@example.com\r\n", "text/csv", {}, id="one column"),
        pytest.param(
            b'EMAIL;Plan;Note\r\nana@example.com;pro;"Said: ""fine; thanks, bye"""\r\n',
            "text/csv",
            {"plan": "pro", "note": 'Said: "fine; thanks, bye"'},
            id="quoted delimiters and quotes in a cell",
        ),
        pytest.param(
            *_multipart(
                "Email;First Name;Last Name\r\nana@example.com;José;Müller".encode("cp1252"),
                "text/csv; charset=windows-1252",
            ),
            JOSE,
            id="multipart part with its charset",
        ),
        pytest.param(
            *_multipart("\ufeffEmail\tFirst Name\tLast Name\r\nana@example.com\tJosé\tMüller".encode("utf-16-le")),
            JOSE,
            id="multipart UTF-16",
        ),
    ],
)
def test_recipient_files_as_people_have_them(client, body, content_type, expected):
    campaign = create_campaign([])
    response = _csv_post(client, campaign.id, body, content_type)
    assert response.status_code == 201, response.json_body
    report = response.json_body["import"]
    assert (report["rows"], report["accepted"], report["rejected_rows"]) == (1, 1, [])
    assert _imported(campaign.id, "ana@example.com") == expected


def test_a_rejected_row_quotes_the_address_as_it_was_written(client):
    campaign = create_campaign([])
    body = "Email;Name\r\nAna.Lopez@Example;Ana\r\nGrace@Example.COM;Grace\r\n  Zoë@@Example.com ;Zoë\r\n"
    response = _csv_post(client, campaign.id, body.encode("cp1252"))
    report = response.json_body["import"]
    assert [r["row"] for r in report["rejected_rows"]] == [2, 4]
    first, second = (r["message"] for r in report["rejected_rows"])  # as written, then email-validator's reason
    assert first.startswith("“Ana.Lopez@Example” is not a valid email address: ")
    assert second.startswith("“Zoë@@Example.com” is not a valid email address: ")
    assert _imported(campaign.id, "grace@example.com") == {"name": "Grace"}


def test_a_line_break_in_a_quoted_cell_rejects_that_row_naming_the_column_and_keeps_the_others(client):
    """A property can reach a subject line (a mail header), so it may not hold a line break."""
    campaign = create_campaign([])
    body = b'email,note\r\nana@example.com,"line one\r\nline two"\r\nbob@example.com,fine\r\n'
    report = _csv_post(client, campaign.id, body).json_body["import"]
    assert [(r["row"], r["field"]) for r in report["rejected_rows"]] == [(2, "row[2].properties.note")]
    assert "line break" in report["rejected_rows"][0]["message"]
    assert _imported(campaign.id, "bob@example.com") == {"note": "fine"}


def test_an_internationalised_domain_is_accepted_in_its_punycode_form(client):
    campaign = create_campaign([])
    response = _csv_post(client, campaign.id, "email,plan\nana@münchen.example,pro\n".encode())
    report = response.json_body["import"]
    assert (report["accepted"], report["rejected_rows"]) == (1, [])
    assert _imported(campaign.id, "ana@xn--mnchen-3ya.example") == {"plan": "pro"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Email,Plan (€),City", "column 2, “Plan (€)”, cannot be a property name"),
        ("Email;First Name;first_name", "columns 2 and 3 both become the property `first_name`"),
        ("Email\tE-mail\tPlan", "columns 1 and 2 are each an email column; keep one"),
        ("Name;Plan;City", "needs an email column (`email`, `E-mail` or `Email Address`); read with `;` between"),
    ],
)
def test_a_header_problem_is_reported_once_at_the_header(client, header, message):
    campaign = create_campaign([])
    delimiter = next(c for c in ",;\t" if c in header)
    rows = "".join(f"\r\nc{i}@example.com{delimiter}pro{delimiter}Lyon" for i in range(5))
    response = _csv_post(client, campaign.id, (header + rows).encode())
    assert response.status_code == 400
    error = response.json_body["error"]
    assert error["field"] == "file" and error["message"].count(message) == 1, error["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"", "text/csv", "The CSV file is empty"),
        (b"\xef\xbb\xbf\r\n  \r\n", "text/csv", "The CSV file is empty"),
        (b"email\nana@example.com\n", "text/csv; charset=klingon", "The charset “klingon” is not one we know"),
        (b"email\nana@exa\xe9mple.com\n", "text/csv; charset=utf-8", "declared utf-8, but byte 14 is not utf-8 text"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(client, body, content_type, message):
    campaign = create_campaign([])
    response = _csv_post(client, campaign.id, body, content_type)
    assert response.status_code == 400
    assert message in response.json_body["error"]["message"]


@pytest.mark.parametrize("content_type", ["text/csv", "multipart/form-data"])
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"Email;First Name\r\n", "The file has a header row but no data rows."),
        (b"email\r\n\r\n  \r\n", "The file has a header row but no data rows."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", imports.NOT_TEXT),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", imports.NOT_TEXT),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", imports.NOT_TEXT),
        (b"email\nana@example.com\x00\x00\n", imports.NOT_TEXT),
    ],
)
def test_a_file_without_rows_or_that_is_not_text_is_refused(client, body, message, content_type):
    campaign = create_campaign([])
    if content_type == "text/csv":
        response = _csv_post(client, campaign.id, body)
    else:
        response = _csv_post(client, campaign.id, *_multipart(body))
    assert response.status_code == 400
    assert response.json_body["error"] == {"message": message, "field": "file"}


def test_utf16_text_is_not_mistaken_for_a_binary_file(client):
    campaign = create_campaign([])
    body = codecs.BOM_UTF16_LE + "email\r\nana@example.com\r\n".encode("utf-16-le")
    assert _csv_post(client, campaign.id, body).status_code == 201


def test_our_own_download_comes_back_as_it_went_out(client):
    """The rejected rows' download guards formula cells with a ' and adds `row` and `reason`: fixed and
    uploaded again, neither reaches the contact."""
    campaign = create_campaign([])
    assert imports.GUARDED == reports.FORMULA_STARTS
    body = (
        "Email,Phone,Delta,At,Note,row,reason\r\n"
        "ana@example.com,'+41 22,'-3,'@home,'quoted,2,\"“nope” is not a valid email address.\"\r\n"
    )
    report = _csv_post(client, campaign.id, body.encode()).json_body["import"]
    assert (report["accepted"], report["rejected_rows"]) == (1, [])
    assert _imported(campaign.id, "ana@example.com") == {
        "phone": "+41 22",
        "delta": "-3",
        "at": "@home",
        "note": "'quoted",
    }
    kept = _csv_post(client, campaign.id, b"email,row\r\nbob@example.com,7\r\n").json_body["import"]
    assert kept["accepted"] == 1
    assert _imported(campaign.id, "bob@example.com") == {"row": "7"}


def test_a_csv_without_a_header_row_numbers_its_lines_from_one(client):
    campaign = create_campaign([])
    body = b"ana@example.com\r\nnope\r\n\r\nbob@\r\n"
    response = _csv_post(client, campaign.id, body, "text/csv; charset=utf-8; header=absent")
    assert response.status_code == 201
    report = response.json_body["import"]
    assert (report["rows"], report["accepted"]) == (3, 1)
    assert [r["row"] for r in report["rejected_rows"]] == [2, 4]


ABSENT = "text/csv; charset=utf-8; header=absent"


def test_pasted_addresses_keep_no_separator_or_name_a_mail_client_copies_with_them(client):
    """A To: field copied one address a line leaves `;` or `,` after each, and names before them."""
    campaign = create_campaign([])
    body = (
        "ana@example.com;\r\n"
        "bo@example.com,\r\n"
        " ; , \r\n"
        ";  cy@example.com ;\r\n"
        "Di Müller <di@example.com>,\r\n"
        "Müller, Ed <ed@example.com>;\r\n"
        '"Fay, F." <fay@example.com>\r\n'
        "<gus@example.com>\r\n"
        "Hal <hal@>\r\n"
    )
    response = _csv_post(client, campaign.id, body.encode(), ABSENT)
    assert response.status_code == 201, response.json_body
    report = response.json_body["import"]
    assert (report["rows"], report["accepted"]) == (8, 7)
    assert report["rejected_rows"] == [
        {
            "row": 9,
            "field": "row[9].email",
            "message": "“hal@” is not a valid email address: There must be something after the @-sign.",
        }
    ]
    for name in ("ana", "bo", "cy", "gus"):
        assert _imported(campaign.id, f"{name}@example.com") == {}
    assert _imported(campaign.id, "di@example.com") == {"name": "Di Müller", "first_name": "Di"}
    assert _imported(campaign.id, "ed@example.com") == {"name": "Müller, Ed", "first_name": "Ed"}
    assert _imported(campaign.id, "fay@example.com") == {"name": "Fay, F.", "first_name": "F."}
    refused = _csv_post(client, campaign.id, b" ;\r\n,\r\n", ABSENT)
    assert refused.status_code == 400
    assert refused.json_body["error"]["message"] == (
        "There are no addresses here: paste addresses, one a line or separated by `,` or `;`."
    )


def test_a_pasted_line_quoted_as_one_csv_cell_is_read_as_that_cell(client):
    campaign = create_campaign([])
    report = _csv_post(client, campaign.id, b'"ana@example.com, Bo <bo@example.com>"\r\n', ABSENT).json_body["import"]
    assert (report["rows"], report["accepted"], report["rejected_rows"]) == (2, 2, [])
    assert _imported(campaign.id, "bo@example.com") == {"name": "Bo", "first_name": "Bo"}


def test_every_pasted_line_is_accepted_or_rejected_by_its_own_number(client):
    """A stray quote does not join the lines after it into one, and a line copied with its row and reason
    from the download is one row: every line that is not blank is counted and reported."""
    campaign = create_campaign([])
    lines = [
        '"ana@example.com',
        "bo@example.com",
        "",
        'cy@example.com"',
        '"di@example.com, ed@example.com",1,Row 1 holds 2 addresses',
        "fay@example.com\tFay",
        "gus@example.com",
    ]
    report = _csv_post(client, campaign.id, "\r\n".join(lines).encode(), ABSENT).json_body["import"]
    rejected = [r["row"] for r in report["rejected_rows"]]
    assert rejected == [1, 4, 5, 6]
    assert report["rows"] == report["accepted"] + len(rejected) == 6
    assert report["rejected_rows"][2]["message"] == (
        'Row 5 holds 2 addresses written as one, “"di@example.com, ed@example.com",1,Row 1 holds 2 addresses”: '
        "separate addresses with `,` or `;`."
    )
    assert report["rejected_rows"][3]["message"] == (
        "Row 6 holds other text beside the address, “fay@example.com\\u0009Fay”: only a name goes with an address, "
        "before its angle brackets; to import other values too, use CSV text with a header row naming an email column."
    )
    for email in ("bo@example.com", "gus@example.com"):
        assert _imported(campaign.id, email) == {}


def test_a_line_as_outlook_writes_it_is_one_address_and_every_other_line_says_what_it_holds(client):
    """A name that is the address again, quoted or not, an @ in a name, a comment after the brackets: one
    address. Two addresses, empty brackets, text after the brackets or beside the address: one rejected
    row quoting the line. A line of invisible characters is blank, as a line of spaces is."""
    campaign = create_campaign([])
    lines = [
        "'ana1@example.com' <ana1@example.com>",
        '"ana2@example.com" <ana2@example.com>',
        "mo@example.com <mo@example.com>",
        '"Ana (ana3@example.com)" <ana3@example.com>',
        "Ana @ Home <ana9@example.com>",
        "Ana Müller <ana4@example.com> (Sales)",
        '"Müller, Ana" <anam@example.com>,',
        "\u200b",
        "\u00a0",
        "Kim <kim@example.com>, Lou <lou@example.com>",
        "lou@example.com, Kim <kim@example.com>",
        "Ana <>",
        "ana@example.com,Ana,pro",
        "Kim <kim@example.com> Sales",
    ]
    report = _csv_post(client, campaign.id, "\r\n".join(lines).encode(), ABSENT).json_body["import"]
    assert (report["rows"], report["accepted"], report["duplicates_merged"]) == (14, 9, 2)
    assert [(r["row"], r["message"]) for r in report["rejected_rows"]] == [
        (12, "Row 12 has nothing between its angle brackets, “Ana <>”: write the address in them."),
        (
            13,
            "Row 13 holds other text beside the address, “ana@example.com,Ana,pro”: only a name goes with an address, "
            "before its angle brackets; to import other values too, use CSV text with a header row naming an email "
            "column.",
        ),
        (
            14,
            "Row 14 has text after the address's closing angle bracket, “Kim <kim@example.com> Sales”: only a name "
            "goes before it.",
        ),
    ]
    for name in ("ana1", "ana2", "mo"):
        assert _imported(campaign.id, f"{name}@example.com") == {}
    assert _imported(campaign.id, "lou@example.com") == {"name": "Lou", "first_name": "Lou"}  # line 10's name
    assert _imported(campaign.id, "ana3@example.com") == {"name": "Ana (ana3@example.com)", "first_name": "Ana"}
    assert _imported(campaign.id, "ana9@example.com") == {"name": "Ana @ Home", "first_name": "Ana"}
    assert _imported(campaign.id, "anam@example.com") == {"name": "Müller, Ana", "first_name": "Ana"}
    assert _imported(campaign.id, "kim@example.com") == {"name": "Kim", "first_name": "Kim"}
    with pytest.raises(Invitation.DoesNotExist):
        _imported(campaign.id, "ana@example.com")


def test_a_long_line_of_addresses_is_each_of_them(client):
    campaign = create_campaign([])
    line = ", ".join(f"person{i}@example.com" for i in range(10))
    report = _csv_post(client, campaign.id, line.encode(), ABSENT).json_body["import"]
    assert (report["rows"], report["accepted"], report["rejected_rows"]) == (10, 10, [])


def test_an_email_cell_is_read_as_a_pasted_line_is(client):
    """A file of our download's columns; a one-column file of To: field lines; a trailing separator is no
    extra cell. A file's names come from its columns, not its email cells."""
    campaign = create_campaign([])
    fixed = "email,row,reason\r\nKim Lee <kim@example.com>,1,\r\nLou <lou@example.com>;,,\r\n"
    again = _csv_post(client, campaign.id, fixed.encode()).json_body["import"]
    assert (again["rows"], again["accepted"], again["rejected_rows"]) == (2, 2, [])

    one_column = (
        'Email\r\n"Müller, Ana" <anam@example.com>,\r\n;\r\nMüller, Ed <ed@example.com>\r\n'
        "Di <di@example.com>, Fay <fay@example.com>\r\n"
    )
    report = _csv_post(client, campaign.id, one_column.encode()).json_body["import"]
    assert (report["rows"], report["accepted"]) == (3, 2)
    assert report["rejected_rows"] == [
        {
            "row": 5,
            "field": "row[5]",
            "message": "Row 5 holds 2 addresses in its email cell, “Di <di@example.com>, Fay <fay@example.com>”: "
            "one address a row.",
        }
    ]

    columns = "\r\nEmail;Plan\r\nGus <gus@example.com>;pro;\r\n;;\r\nhal@example.com Hal;free\r\n"
    report = _csv_post(client, campaign.id, columns.encode()).json_body["import"]
    assert (report["rows"], report["accepted"]) == (2, 1)
    assert [(r["row"], r["message"]) for r in report["rejected_rows"]] == [
        (
            5,
            "Row 5 holds other text beside the address, “hal@example.com Hal”: one address a row, other values in "
            "their own columns.",
        )
    ]
    assert _imported(campaign.id, "gus@example.com") == {"plan": "pro"}
    for name in ("kim", "lou", "anam", "ed"):
        assert _imported(campaign.id, f"{name}@example.com") == {}


TO_FIELD = "Ana Lopez <ana.lopez@example.com>; 'bob@example.com' <bob@example.com>; \"Zoë, Chloé\" <zoe@example.com>;"


def test_a_to_field_copied_from_outlook_or_gmail_is_one_recipient_per_address_with_its_name(client):
    """Both put every address on one line; each name becomes `name` and `first_name` (what `Hi {{ first_name
    | default('there') }}` greets with), the first word after the comma of a `Last, First` name; Outlook's
    address written as its own name is no name."""
    campaign = create_campaign([])
    report = _csv_post(client, campaign.id, TO_FIELD.encode(), ABSENT).json_body["import"]
    assert (report["rows"], report["accepted"], report["rejected_rows"]) == (3, 3, [])
    assert _imported(campaign.id, "ana.lopez@example.com") == {"name": "Ana Lopez", "first_name": "Ana"}
    assert _imported(campaign.id, "bob@example.com") == {}
    assert _imported(campaign.id, "zoe@example.com") == {"name": "Zoë, Chloé", "first_name": "Chloé"}
    assert Contact.get("ana.lopez@example.com").properties.as_dict() == {"name": "Ana Lopez", "first_name": "Ana"}

    mailto = _csv_post(
        client, campaign.id, b"mailto:cy@example.com\r\nDi <mailto:di@example.com>, mailto:ed@example.com", ABSENT
    )
    assert (mailto.json_body["import"]["accepted"], mailto.json_body["import"]["rejected_rows"]) == (3, [])
    assert _imported(campaign.id, "di@example.com") == {"name": "Di", "first_name": "Di"}


def test_a_name_read_from_a_paste_does_not_overwrite_one_given_otherwise(client):
    campaign = create_campaign([{"email": "ana@example.com", "properties": {"first_name": "Annie", "plan": "pro"}}])
    again = create_campaign([])
    _csv_post(client, again.id, b"Lopez, Ana Maria <ana@example.com>, Bo <bo@example.com>", ABSENT)
    assert Contact.get("ana@example.com").properties.as_dict() == {
        "first_name": "Annie",
        "plan": "pro",
        "name": "Lopez, Ana Maria",
    }
    assert _imported(again.id, "ana@example.com") == {"name": "Lopez, Ana Maria", "first_name": "Ana"}
    assert _imported(campaign.id, "ana@example.com") == {"first_name": "Annie", "plan": "pro"}


def test_one_bad_address_of_a_pasted_line_is_rejected_alone_and_its_download_rejects_it_again(client):
    campaign = create_campaign([])
    line = 'ana@example.com, "Lopez, Bad" <bad@@example.com>; Cy <cy@example.com>'
    report = _csv_post(client, campaign.id, f"ok@example.com\r\n{line}\r\n".encode(), ABSENT).json_body["import"]
    reason = (
        "“bad@@example.com” is not a valid email address: The part after the @-sign contains invalid characters: '@'."
    )
    assert (report["rows"], report["accepted"]) == (4, 3)
    assert report["rejected_rows"] == [
        {"row": 2, "field": "row[2].address[2]", "message": f"Line 2, address 2: {reason}"}
    ]
    assert _imported(campaign.id, "cy@example.com") == {"name": "Cy", "first_name": "Cy"}

    path = f"/api/campaigns/{campaign.id}/imports/{report['id']}/rejected.csv"
    download = client.http.get(path, headers=admin_headers()).body.decode()
    assert download == f'email,row,reason\r\n"""Lopez, Bad"" <bad@@example.com>",2,"Line 2, address 2: {reason}"\r\n'
    again = _csv_post(client, campaign.id, download.encode()).json_body["import"]
    assert (again["rows"], again["accepted"]) == (1, 0)
    assert again["rejected_rows"] == [{"row": 2, "field": "row[2].email", "message": reason}]
