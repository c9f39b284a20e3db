"""The recipients pages: an upload or a paste goes through the admin API's import, a large import shows
its progress until done, the report lists each rejected row and downloads them to fix, and the list
shows who will be skipped before sending, and why."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import time
from html import unescape
from urllib.parse import urlencode

from chalicelib.admin import api
from chalicelib.campaigns import contacts, suppression
from chalicelib.core.config import get_settings
from chalicelib.store.models import Contact
from tests.conftest import admin_headers
from tests.dashboard_support import FORM_HEADERS, csrf_of, session_headers
from tests.helpers import create_campaign, drain, people


def _multipart(csrf: str, data: bytes, filename: str = "people.csv") -> tuple[bytes, dict]:
    body = (
        b'--B0UND\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
        + csrf.encode()
        + b'\r\n--B0UND\r\nContent-Disposition: form-data; name="file"; filename="'
        + filename.encode()
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + data
        + b"\r\n--B0UND--\r\n"
    )
    return body, {"Content-Type": "multipart/form-data; boundary=B0UND"}


def _upload(client, campaign_id: str, data: bytes, headers: dict):
    form = client.http.get(f"/dashboard/campaigns/{campaign_id}/recipients", headers=headers)
    assert form.status_code == 200
    body, content = _multipart(csrf_of(form.body.decode()), data)
    return client.http.post(f"/dashboard/campaigns/{campaign_id}/recipients", body=body, headers={**headers, **content})


def _text(response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.body.decode())))


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_an_upload_with_bad_rows_reports_each_and_downloads_them_as_the_file_had_them(client):
    campaign = create_campaign([])
    headers = session_headers()
    data = (
        b"Email,First Name,Plan\r\n"
        b"ada@example.com,Ada,pro\r\n"
        b"not-an-address,Bob,=1+1\r\n"
        b"grace@example.com,Grace,free\r\n"
        b"ADA@example.com,Ada L.,pro\r\n"
        b"eve@,Eve,free\r\n"
    )
    posted = _upload(client, campaign.id, data, headers)
    assert posted.status_code == 303
    report_path = posted.headers["Location"]
    import_id = report_path.rsplit("/", 1)[1]
    assert report_path == f"/dashboard/campaigns/{campaign.id}/imports/{import_id}"

    report = client.http.get(report_path, headers=headers)
    text = _text(report)
    assert report.status_code == 200
    assert "Rows 5" in text and "Accepted 2" in text and "Duplicates merged 1" in text and "Rejected 2" in text
    assert "Invited 2" in text and "Already invited 0" in text
    assert "3 row[3].email “not-an-address” is not a valid email address." in text
    assert "6 row[6].email “eve@” is not a valid email address" in text
    assert 'id="import-progress"' not in report.body.decode()

    download = client.http.get(f"{report_path}/rejected.csv", headers=headers)
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    rows = _rows(download.body.decode())
    assert rows[0] == ["Email", "First Name", "Plan", "row", "reason"]
    assert [r[:4] for r in rows[1:]] == [["not-an-address", "Bob", "'=1+1", "3"], ["eve@", "Eve", "free", "6"]]
    assert rows[1][4] == "“not-an-address” is not a valid email address."

    api = client.http.get(f"/api/campaigns/{campaign.id}/imports/{import_id}/rejected.csv", headers=admin_headers())
    assert api.status_code == 200
    assert api.body == download.body


def test_pasted_addresses_and_pasted_csv_are_imported_as_the_api_imports_them(client):
    campaign = create_campaign([])
    headers = session_headers()
    path = f"/dashboard/campaigns/{campaign.id}/recipients"
    csrf = csrf_of(client.http.get(path, headers=headers).body.decode())
    pasted = "ada@example.com\r\ngrace@example.com\r\nnope\r\n"
    posted = client.http.post(
        path, body=urlencode({"csrf": csrf, "paste": pasted}), headers={**headers, **FORM_HEADERS}
    )
    assert posted.status_code == 303
    text = _text(client.http.get(posted.headers["Location"], headers=headers))
    assert "Accepted 2" in text and "3 row[3].email “nope” is not a valid email address." in text

    as_csv = "email;plan\nlin@example.com;pro\n"
    posted = client.http.post(
        path, body=urlencode({"csrf": csrf, "paste": as_csv}), headers={**headers, **FORM_HEADERS}
    )
    assert posted.status_code == 303
    assert Contact.get("lin@example.com").properties.as_dict() == {"plan": "pro"}

    listed = _text(client.http.get(path, headers=headers))
    assert "ada@example.com Will get it" in listed and "lin@example.com Will get it" in listed

    unusable = "Email;First Name;first_name\nada@example.com;Ada;Ada\n"
    refused = client.http.post(
        path, body=urlencode({"csrf": csrf, "paste": unusable}), headers={**headers, **FORM_HEADERS}
    )
    assert refused.status_code == 400
    page = refused.body.decode()
    assert 'id="f-paste-error"' in page and unusable in unescape(page)
    assert "both become the property <code>first_name</code>." in page and "`" not in _text(refused)


def _paste(client, campaign_id: str, pasted: str, headers: dict):
    path = f"/dashboard/campaigns/{campaign_id}/recipients"
    csrf = csrf_of(client.http.get(path, headers=headers).body.decode())
    return client.http.post(path, body=urlencode({"csrf": csrf, "paste": pasted}), headers={**headers, **FORM_HEADERS})


def test_a_paste_whose_first_line_is_no_address_imports_the_addresses_under_it(client):
    """Only a first line that reads as a header with an email column makes a paste CSV text; any other
    first line is one rejected row, not a header that refuses the whole paste."""
    headers = session_headers()
    for first, message in [
        ("ana.example.com", "2 row[2].email “ana.example.com” is not a valid email address."),
        ("Ana Müller", "2 row[2].email “Ana Müller” is not a valid email address."),
        ("=1+1", "2 row[2].email “=1+1” is not a valid email address."),
        ("\u200b", None),
    ]:
        campaign = create_campaign([])
        posted = _paste(client, campaign.id, f"\r\n{first}\r\nbo@example.com\r\n<cy@example.com>\r\n", headers)
        assert posted.status_code == 303, _text(posted)
        report = client.http.get(posted.headers["Location"], headers=headers)
        text = _text(report)
        assert "Accepted 2" in text, text
        if message:
            assert "Rows 3" in text and "Rejected 1" in text and message in text
        else:
            assert "Rows 2" in text and "Rejected 0" in text
        assert Contact.count("bo@example.com") == Contact.count("cy@example.com") == 1

    campaign = create_campaign([])
    as_csv = _paste(client, campaign.id, "\r\nsep=;\r\nE-mail;Plan\r\nlin@example.com;pro\r\n", headers)
    assert as_csv.status_code == 303
    assert Contact.get("lin@example.com").properties.as_dict() == {"plan": "pro"}


def test_a_windows_1252_semicolon_file_from_a_european_excel(client):
    campaign = create_campaign([])
    data = "Email;First Name;Last Name\r\nana@example.com;José;Müller\r\n".encode("cp1252")
    posted = _upload(client, campaign.id, data, session_headers())
    assert posted.status_code == 303
    assert Contact.get("ana@example.com").properties.as_dict() == {"first_name": "José", "last_name": "Müller"}


def test_a_file_without_an_email_column_is_refused_next_to_the_file_button(client):
    campaign = create_campaign([])
    refused = _upload(client, campaign.id, b"name,plan\nAda,pro\n", session_headers())
    assert refused.status_code == 400
    page = refused.body.decode()
    assert 'id="f-file-error"' in page and "needs an email column" in page
    assert 'aria-describedby="f-file-hint f-file-error"' in page


def test_a_large_import_shows_its_progress_until_every_chunk_is_written(client):
    campaign = create_campaign([])
    headers = session_headers()
    lines = ["email,plan"] + [f"p{i}@example.com,pro" for i in range(1_200)] + [f"bad{i},free" for i in range(5)]
    posted = _upload(client, campaign.id, "\n".join(lines).encode(), headers)
    assert posted.status_code == 303
    path = posted.headers["Location"]

    running = client.http.get(path, headers=headers).body.decode()
    assert '<progress id="import-progress" max="3" value="0">' in running
    assert 'id="import-refresh"' in running and 'role="status"' in running
    status = client.http.get(f"{path}/status.json", headers=headers).json_body["import"]
    assert (status["status"], status["chunks"], status["rows"], status["rejected"]) == (
        "running",
        {"done": 0, "total": 3},
        1_205,
        5,
    )

    drain()
    status = client.http.get(f"{path}/status.json", headers=headers).json_body["import"]
    assert (status["status"], status["chunks"], status["invited"]) == ("done", {"done": 3, "total": 3}, 1_200)
    done = _text(client.http.get(path, headers=headers))
    assert "Invited 1200" in done and "Rejected 5" in done
    rows = _rows(client.http.get(f"{path}/rejected.csv", headers=headers).body.decode())
    assert [r[:3] for r in rows[1:]] == [[f"bad{i}", "free", str(1_202 + i)] for i in range(5)]


def test_the_list_says_who_will_be_skipped_and_why_before_sending(client):
    now = time.time()
    campaign = create_campaign([{"email": e} for e in ("ok@example.com", "gone@example.com", "tired@example.com")])
    days = get_settings().fatigue_days
    suppression.suppress("gone@example.com", "bounced", now, source="test")
    assert contacts.claim_survey("tired@example.com", "another-campaigns-invitation", now - 86400, days)
    text = _text(client.http.get(f"/dashboard/campaigns/{campaign.id}/recipients", headers=session_headers()))
    assert "ok@example.com Will get it" in text
    assert "gone@example.com Skipped Suppressed: bounced" in text
    assert f"tired@example.com Skipped Surveyed within the last {days} days (fatigue window)" in text


def test_a_viewer_sees_the_pages_read_only_and_cannot_import(client):
    campaign = create_campaign([])
    admin = session_headers()
    posted = _upload(client, campaign.id, b"email\nada@example.com\nbad\n", admin)
    viewer = session_headers("viewer")
    page = client.http.get(f"/dashboard/campaigns/{campaign.id}/recipients", headers=viewer).body.decode()
    assert "Your role is viewer" in page
    assert re.search(r'<input type="file"[^>]* disabled>', page)
    assert client.http.get(posted.headers["Location"], headers=viewer).status_code == 200
    assert client.http.get(posted.headers["Location"] + "/rejected.csv", headers=viewer).status_code == 200
    body, content = _multipart(csrf_of(page), b"email\nlin@example.com\n")
    path = f"/dashboard/campaigns/{campaign.id}/recipients"
    assert client.http.post(path, body=body, headers={**viewer, **content}).status_code == 403
    form = urlencode({"csrf": csrf_of(page), "paste": "lin@example.com"})
    assert client.http.post(path, body=form, headers={**viewer, **FORM_HEADERS}).status_code == 403
    assert Contact.count("lin@example.com") == 0


def test_a_json_imports_rejected_rows_download_as_email_then_properties(client):
    campaign = create_campaign([])
    body = {
        "recipients": [
            {"email": "ada@example.com", "properties": {"plan": "pro"}},
            {"email": "nope", "properties": {"plan": "free", "seats": 3}},
            "just text",
        ]
    }
    posted = client.http.post(
        f"/api/campaigns/{campaign.id}/recipients", body=json.dumps(body), headers=admin_headers()
    )
    import_id = posted.json_body["import"]["id"]
    path = f"/api/campaigns/{campaign.id}/imports/{import_id}/rejected.csv"
    rows = _rows(client.http.get(path, headers=admin_headers()).body.decode())
    assert [r[:4] for r in rows] == [
        ["email", "plan", "seats", "row"],
        ["nope", "free", "3", "1"],
        ['"just text"', "", "", "2"],
    ]
    elsewhere = create_campaign([])
    wrong = client.http.get(f"/api/campaigns/{elsewhere.id}/imports/{import_id}/rejected.csv", headers=admin_headers())
    assert wrong.status_code == 404


def test_an_edited_page_link_is_refused_and_the_next_page_link_works(client):
    campaign = create_campaign(people(101))
    other = create_campaign([{"email": "else@example.com"}])
    path = f"/dashboard/campaigns/{campaign.id}/recipients"
    admin, viewer = session_headers(), session_headers("viewer")
    first = client.http.get(path, headers=admin).body.decode()
    following = unescape(re.search(r'<a href="([^"]+)">Next page of recipients</a>', first).group(1))
    second = client.http.get(following, headers=viewer)
    assert second.status_code == 200
    assert "Recipients, 1 on this page" in _text(second)

    def forged(key: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()

    elsewhere = {"campaign_id": {"S": other.id}, "id": {"S": "A"}}
    for cursor in [
        forged(elsewhere),
        forged({"campaign_id": {"S": campaign.id}, "id": {"N": "1"}}),
        forged({"campaign_id": {"S": campaign.id}}),
        forged({"x": {"S": "y"}}),
        following.split("cursor=", 1)[1] + "x",
        api.encode_cursor(elsewhere, api.cursor_scope("recipients", other.id)),  # signed, but another campaign's list
    ]:
        for headers in (admin, viewer):
            refused = client.http.get(f"{path}?{urlencode({'cursor': cursor})}", headers=headers)
            assert refused.status_code == 400, cursor
            assert "That page link belongs to another list or other filters, or was changed" in _text(refused)
            assert f'<a href="{path}">First page</a>' in refused.body.decode()


def test_pasted_addresses_are_reported_by_the_line_the_person_sees(client):
    campaign = create_campaign([])
    headers = session_headers()
    pasted = "a@example.com\r\n<script>alert(1)</script>@x.com\r\nb@example.com;c@example.com; nope\r\n"
    posted = _paste(client, campaign.id, pasted, headers)
    assert posted.status_code == 303
    report = client.http.get(posted.headers["Location"], headers=headers)
    rows = re.findall(r"<tr><td>(\d+)</td><td><code class=\"long\">([^<]+)</code>", report.body.decode())
    assert rows == [("2", f"row[2].address[{n}]") for n in (1, 2, 3)] + [("3", "row[3].address[2]")], _text(report)
    assert (
        "Line 3, address 2 holds other text beside the address, “c@example.com; nope”: only a name goes with an "
        "address, before its angle brackets;" in _text(report)
    )
    assert "<script>alert" not in report.body.decode()
    assert (Contact.count("a@example.com"), Contact.count("b@example.com"), Contact.count("c@example.com")) == (1, 1, 0)


def test_a_to_field_pasted_on_one_line_imports_each_address_with_its_name_and_the_bad_one_uploads_again(client):
    """Outlook and Gmail copy every address of a To: field onto one line."""
    campaign = create_campaign([])
    headers = session_headers()
    pasted = (
        "Ana Lopez <ana.lopez@example.com>; 'bob@example.com' <bob@example.com>; \"Zoë, Chloé\" <zoe@example.com>;\r\n"
        "Grace Hopper <grace@example.com>, Kim <kim@@example.com>, mailto:ada@example.com\r\n"
    )
    posted = _paste(client, campaign.id, pasted, headers)
    assert posted.status_code == 303, _text(posted)
    report = client.http.get(posted.headers["Location"], headers=headers)
    text = _text(report)
    assert "Rows 6" in text and "Accepted 5" in text and "Rejected 1" in text, text
    reason = (
        "“kim@@example.com” is not a valid email address: The part after the @-sign contains invalid characters: '@'."
    )
    assert f"2 row[2].address[2] Line 2, address 2: {reason}" in text
    assert Contact.get("ana.lopez@example.com").properties.as_dict() == {"name": "Ana Lopez", "first_name": "Ana"}
    assert Contact.get("bob@example.com").properties.as_dict() == {}
    assert Contact.get("grace@example.com").properties.as_dict() == {"name": "Grace Hopper", "first_name": "Grace"}
    assert Contact.count("ada@example.com") == 1

    download = client.http.get(f"{posted.headers['Location']}/rejected.csv", headers=headers).body.decode()
    assert _rows(download)[1:] == [["Kim <kim@@example.com>", "2", f"Line 2, address 2: {reason}"]]
    again = _upload(client, campaign.id, download.encode(), headers)
    assert again.status_code == 303
    text = _text(client.http.get(again.headers["Location"], headers=headers))
    assert "Rows 1" in text and "Accepted 0" in text and "Rejected 1" in text
    assert f"2 row[2].email {reason}" in text


def test_fixed_rejected_rows_upload_again_as_the_original_cells(client):
    campaign = create_campaign([])
    headers = session_headers()
    original = ["nope", "+41 22", "-3", "=1+1", "@home", "'quoted"]
    data = "Email,Phone,Delta,Formula,Handle,Note\r\n" + ",".join(original) + "\r\n"
    posted = _upload(client, campaign.id, data.encode(), headers)
    download = client.http.get(f"{posted.headers['Location']}/rejected.csv", headers=headers).body.decode()
    rows = _rows(download)
    assert rows[0][-2:] == ["row", "reason"] and rows[1][1:5] == ["'+41 22", "'-3", "'=1+1", "'@home"]

    fixed = download.replace("nope,", "ada@example.com,", 1).encode()
    again = _upload(client, campaign.id, fixed, headers)
    assert again.status_code == 303
    assert "Accepted 1" in _text(client.http.get(again.headers["Location"], headers=headers))
    assert Contact.get("ada@example.com").properties.as_dict() == {
        "phone": "+41 22",
        "delta": "-3",
        "formula": "=1+1",
        "handle": "@home",
        "note": "'quoted",
    }


def test_a_header_only_file_and_a_picture_are_refused_next_to_the_file_button(client):
    campaign = create_campaign([])
    headers = session_headers()
    for data, message in [
        (b"Email;First Name\r\n", "The file has a header row but no data rows."),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "This file is not a CSV or text file: export it from your spreadsheet as CSV.",
        ),
    ]:
        refused = _upload(client, campaign.id, data, headers)
        assert refused.status_code == 400
        page = refused.body.decode()
        assert f'<p class="field-error" id="f-file-error">{message}</p>' in unescape(page)


def test_a_file_or_paste_over_the_limit_is_refused_on_the_page_next_to_its_field(client):
    campaign = create_campaign([])
    headers = session_headers()
    path = f"/dashboard/campaigns/{campaign.id}/recipients"
    line = b"someone.with.a.long.address@example.com\r\n"
    big = b"email\r\n" + line * (int(6.5 * 1024 * 1024) // len(line))
    refused = _upload(client, campaign.id, big, headers)
    assert refused.status_code == 413
    page = refused.body.decode()
    assert '<p class="field-error" id="f-file-error">At most 6 MB per import; split the file.</p>' in page
    assert 'id="upload-form"' in page and 'data-max-bytes="6291456"' in page

    csrf = csrf_of(page)
    pasted = urlencode({"csrf": csrf, "paste": big.decode()})
    refused = client.http.post(path, body=pasted, headers={**headers, **FORM_HEADERS})
    assert refused.status_code == 413
    page = refused.body.decode()
    assert '<p class="field-error" id="f-paste-error">At most 6 MB per import; split the file.</p>' in page
    assert "someone.with" not in page
    assert Contact.count("someone.with.a.long.address@example.com") == 0

    longer = "\r\n".join(f"p{i}@example.com" for i in range(5_000))  # 90 KB: more than other forms take
    posted = client.http.post(
        path, body=urlencode({"csrf": csrf, "paste": longer}), headers={**headers, **FORM_HEADERS}
    )
    assert posted.status_code == 303
