"""Dashboard access (issue 17): sign-in by emailed one-time link, sessions, CSRF, roles, people, API tokens."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.conftest import local_path
from tests.dashboard_support import FORM_HEADERS, csrf_of, session_headers, sign_in_link


def post(client, path, fields, headers=None):
    return client.http.post(path, body=urlencode(fields), headers={**FORM_HEADERS, **(headers or {})})


def ask_for_link(client, email, next_path=None):
    status, form = (
        200,
        client.http.get("/dashboard/sign-in" + (f"?{urlencode({'next': next_path})}" if next_path else "")),
    )
    assert form.status_code == status
    body = form.body.decode()
    fields = {"csrf": csrf_of(body), "email": email}
    if next_path is not None:
        fields["next"] = body.split('name="next" value="')[1].split('"')[0]
    return post(client, "/dashboard/sign-in", fields)


def cookie_of(response):
    return response.headers["Set-Cookie"].split(";")[0]


def test_the_emailed_link_signs_in_once_and_returns_to_next(client, outbox):
    session_headers("admin", "lead@closeloop-test.example")
    asked = client.http.get("/dashboard/people")
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/dashboard/sign-in?next=%2Fdashboard%2Fpeople"
    sent = ask_for_link(client, "Lead@closeloop-test.example", "/dashboard/people")
    assert sent.status_code == 200 and "Check your inbox" in sent.body.decode()
    link = local_path(sign_in_link(outbox, "lead@closeloop-test.example"))
    opened = client.http.get(link)
    assert opened.status_code == 200 and "Sign in" in opened.body.decode()
    signed = post(client, link, {"csrf": csrf_of(opened.body.decode())})
    assert signed.status_code == 303 and signed.headers["Location"] == "/dashboard/people"
    page = client.http.get("/dashboard/people", headers={"Cookie": cookie_of(signed)})
    assert page.status_code == 200 and "lead@closeloop-test.example" in page.body.decode()
