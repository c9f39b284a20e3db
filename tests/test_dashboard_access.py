"""Dashboard access (issue 17): sign-in by emailed one-time link, sessions, CSRF, roles, people, API tokens."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from chalice import Blueprint, Chalice
from chalice.test import Client

from chalicelib.admin.auth import authenticate
from chalicelib.core.config import token_hash
from chalicelib.core.errors import Conflict, Gone, TooManyRequests, Unauthorized
from chalicelib.dashboard import people, sessions
from chalicelib.dashboard.web import view
from chalicelib.mail import MailThrottled
from chalicelib.mail.file import FileMailBackend
from chalicelib.store.models import ApiToken
from localdev import run
from tests.conftest import ROOT, local_path, read_outbox
from tests.dashboard_support import FORM_HEADERS, csrf_of, session_headers, sign_in_link

LEAD = "lead@closeloop-test.example"
HOUR = 3600


def post(client, path, fields, headers=None):
    return client.http.post(path, body=urlencode(fields), headers={**FORM_HEADERS, **(headers or {})})


def ask_for_link(client, email, next_path=None):
    form = client.http.get("/dashboard/sign-in" + (f"?{urlencode({'next': next_path})}" if next_path else ""))
    assert form.status_code == 200
    body = form.body.decode()
    fields = {"csrf": csrf_of(body), "email": email}
    fields["next"] = body.split('name="next" value="')[1].split('"')[0]
    return post(client, "/dashboard/sign-in", fields)


def cookie_of(response):
    return {"Cookie": response.headers["Set-Cookie"].split(";")[0]}


def press_sign_in(client, link):
    opened = client.http.get(link)
    assert opened.status_code == 200, opened.body
    return post(client, link, {"csrf": csrf_of(opened.body.decode())})


def signed_in_page(client, headers, path="/dashboard/people"):
    response = client.http.get(path, headers=headers)
    return response.status_code, response.body.decode()


def add_admin(email=LEAD):
    return people.add_person(email, "Lead", "admin", time.time())


# --- the emailed link -------------------------------------------------------------------------


def test_a_page_without_a_session_goes_through_sign_in_and_comes_back(client, outbox):
    add_admin()
    asked = client.http.get("/dashboard/people?done=added")
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/dashboard/sign-in?next=%2Fdashboard%2Fpeople%3Fdone%3Dadded"
    sent = ask_for_link(client, "Lead@Closeloop-Test.example", "/dashboard/people?done=added")
    assert sent.status_code == 200 and "Check your inbox" in sent.body.decode()
    [message] = read_outbox(outbox)
    assert message["Subject"] == "Your Closeloop sign-in link"
    assert "works once, for 15 minutes" in message.get_body(("plain",)).get_content()
    signed = press_sign_in(client, local_path(sign_in_link(outbox, LEAD)))
    assert signed.status_code == 303 and signed.headers["Location"] == "/dashboard/people?done=added"
    status, body = signed_in_page(client, cookie_of(signed))
    assert status == 200 and LEAD in body and "Sign out" in body


def test_a_scanners_get_leaves_the_link_usable_and_the_link_works_once(client, outbox):
    add_admin()
    ask_for_link(client, LEAD)
    link = local_path(sign_in_link(outbox, LEAD))
    for _ in range(3):  # a scanner, a preview pane, the person
        opened = client.http.get(link)
        assert opened.status_code == 200 and '<button type="submit">Sign in</button>' in opened.body.decode()
    assert press_sign_in(client, link).status_code == 303
    again = client.http.get(link)
    assert again.status_code == 410
    assert "already been used" in again.body.decode() and 'href="/dashboard/sign-in"' in again.body.decode()
    token = link.rsplit("/", 1)[1]
    replay = post(client, link, {"csrf": sessions.link_csrf(token, time.time(), sessions.get_settings())})
    assert replay.status_code == 410 and "Set-Cookie" not in replay.headers


def test_an_expired_or_unknown_link_gets_a_clear_page_with_a_way_to_ask_again(client, outbox):
    add_admin()
    sessions.request_link(LEAD, "/dashboard", "test", time.time() - 16 * 60)
    expired = client.http.get(local_path(sign_in_link(outbox, LEAD)))
    body = expired.body.decode()
    assert expired.status_code == 410 and "This sign-in link has expired: links work for 15 minutes." in body
    assert "Ask for a new sign-in link" in body
    unknown = client.http.get("/dashboard/sign-in/not-a-real-token-but-long-enough")
    assert unknown.status_code == 400 and "This sign-in link is not valid" in unknown.body.decode()


def test_pressing_sign_in_after_the_link_expired_is_refused(db, outbox):
    add_admin()
    now = time.time()
    sessions.request_link(LEAD, "/dashboard", "test", now)
    token = sign_in_link(outbox, LEAD).rsplit("/", 1)[1]
    csrf = sessions.link_csrf(token, now, sessions.get_settings())
    with pytest.raises(Gone, match="expired"):
        sessions.consume_link(token, csrf, now + 15 * 60 + 1)
    signed_in, _next = sessions.consume_link(token, csrf, now + 15 * 60 - 1)
    assert signed_in.person.email == LEAD


def test_the_link_page_refuses_a_missing_or_wrong_csrf_token_and_the_link_stays_usable(client, outbox):
    add_admin()
    ask_for_link(client, LEAD)
    link = local_path(sign_in_link(outbox, LEAD))
    for fields in ({}, {"csrf": "1.forged"}, {"csrf": sessions.form_csrf(time.time(), sessions.get_settings())}):
        refused = post(client, link, fields)
        assert refused.status_code == 403 and "Set-Cookie" not in refused.headers
        assert "This form has expired or was not sent by this page" in refused.body.decode()
    assert press_sign_in(client, link).status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/dashboard/../x",
        "/dashboard/%2e%2e/x",
        "/dashboard//evil.example",
        "/dashboard/%2F%2Fevil.example",
        "/dashboard\\@evil.example",
        "/dashboardevil",
        "/api/campaigns",
        "javascript:alert(1)",
        "/dashboard/\tx",
        "/dashboard%3F//evil.example",
        "/dashboard?q=%0aa",
    ],
)
def test_next_outside_our_dashboard_is_ignored(target):
    assert sessions.safe_next(target) == "/dashboard"


def test_next_inside_our_dashboard_is_kept():
    for target in (
        "/dashboard",
        "/dashboard/responses/r1",
        "/dashboard/responses?category=detractor&page=2",
        "/dashboard/responses?q=a//b",
        "/dashboard/responses?q=a%5Cb%2F%2Fc",
    ):
        assert sessions.safe_next(target) == target


def test_a_link_asked_for_with_a_foreign_next_lands_on_the_dashboard(client, outbox):
    add_admin()
    sent = post(
        client,
        "/dashboard/sign-in",
        {"csrf": sessions.form_csrf(time.time(), sessions.get_settings()), "email": LEAD, "next": "//evil.example"},
    )
    assert sent.status_code == 200
    assert press_sign_in(client, local_path(sign_in_link(outbox, LEAD))).headers["Location"] == "/dashboard"


def test_an_unknown_address_gets_the_same_page_and_no_email(client, outbox):
    add_admin()
    known = ask_for_link(client, LEAD)
    unknown = ask_for_link(client, "stranger@closeloop-test.example")
    assert known.status_code == unknown.status_code == 200
    assert known.body.decode().replace(LEAD, "X") == unknown.body.decode().replace(
        "stranger@closeloop-test.example", "X"
    )
    assert [str(m["To"]) for m in read_outbox(outbox)] == [LEAD]


def test_a_link_the_mail_service_refuses_shows_the_same_page_and_is_logged(client, outbox, monkeypatch, caplog):
    add_admin()

    def throttled(self, message, tags=None):
        raise MailThrottled("Maximum sending rate exceeded.")

    monkeypatch.setattr(FileMailBackend, "send", throttled)  # SES refusing, which cannot happen locally
    sent = ask_for_link(client, LEAD)
    assert sent.status_code == 200 and "Check your inbox" in sent.body.decode()
    assert "sign-in link not sent: Maximum sending rate exceeded." in caplog.text


def test_the_sign_in_form_refuses_a_missing_csrf_token_and_explains_a_bad_address(client, outbox):
    add_admin()
    forged = post(client, "/dashboard/sign-in", {"email": LEAD})
    assert forged.status_code == 403 and "This form had expired" in forged.body.decode()
    bad = ask_for_link(client, "not an address")
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.body.decode()
    assert "is not a valid email address" in bad.body.decode()
    assert read_outbox(outbox) == []


def test_sign_in_requests_are_limited_per_address_and_per_client(client, outbox):
    add_admin()
    for _ in range(5):
        assert ask_for_link(client, LEAD).status_code == 200
    limited = ask_for_link(client, LEAD)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert "Too many sign-in links were asked for" in limited.body.decode()
    assert len(read_outbox(outbox)) == 5
    now = time.time()
    for n in range(30):
        sessions.request_link(f"someone{n}@closeloop-test.example", "/dashboard", "203.0.113.9", now)
    with pytest.raises(TooManyRequests):
        sessions.request_link("one.more@closeloop-test.example", "/dashboard", "203.0.113.9", now)
    sessions.request_link("one.more@closeloop-test.example", "/dashboard", "198.51.100.7", now)


# --- the session ------------------------------------------------------------------------------


def test_the_session_cookie_is_signed_http_only_lax_and_secure_outside_the_local_stage(client, outbox, monkeypatch):
    add_admin()
    ask_for_link(client, LEAD)
    cookie = press_sign_in(client, local_path(sign_in_link(outbox, LEAD))).headers["Set-Cookie"]
    flags = [part.strip() for part in cookie.split(";")]
    assert flags[0].startswith("closeloop_dashboard=")
    assert {"HttpOnly", "SameSite=Lax", "Path=/dashboard", f"Max-Age={7 * 86400}"} <= set(flags)
    assert "Secure" not in flags  # the local stage is plain http://127.0.0.1
    name, value = flags[0].split("=", 1)
    session_id, signature = value.split(".")
    tampered = {"Cookie": f"{name}={session_id[:-1]}{'A' if session_id[-1] != 'A' else 'B'}.{signature}"}
    assert client.http.get("/dashboard/people", headers=tampered).status_code == 303
    monkeypatch.setenv("CLOSELOOP_STAGE", "prod")
    assert "; Secure;" in sessions.set_cookie("x" * 43)


def test_a_session_ends_after_12_hours_idle_and_7_days_at_most(db):
    person = add_admin()
    start = time.time()
    idle = sessions.start_session(person, start)
    cookie = f"{sessions.COOKIE}={sessions.cookie_value(idle.session_id)}"
    assert sessions.check_session(cookie, start + 12 * HOUR - 60) is not None
    assert sessions.check_session(cookie, start + 24 * HOUR) is None  # 12 h after the last request
    assert sessions.check_session(cookie, start + 12 * HOUR) is None  # and it is gone for good
    busy = sessions.start_session(person, start)
    cookie = f"{sessions.COOKIE}={sessions.cookie_value(busy.session_id)}"
    moment = start
    while moment + 11 * HOUR < start + 7 * 24 * HOUR:
        moment += 11 * HOUR
        assert sessions.check_session(cookie, moment) is not None
    assert sessions.check_session(cookie, start + 7 * 24 * HOUR + 1) is None


def test_an_idle_session_sends_the_browser_to_sign_in_and_a_request_keeps_one_alive(client):
    people.add_person(LEAD, "Lead", "admin", time.time() - 14 * HOUR)  # a session never predates its user
    stale = session_headers("admin", LEAD, now=time.time() - 13 * HOUR)
    assert client.http.get("/dashboard/people", headers=stale).status_code == 303
    quiet = session_headers("admin", LEAD, now=time.time() - 11 * HOUR)
    assert client.http.get("/dashboard/people", headers=quiet).status_code == 200
    cookie = quiet["Cookie"]
    assert sessions.check_session(cookie, time.time() + 11 * HOUR) is not None  # idle counts from the last request


def test_sign_out_ends_the_session_on_the_server(client):
    headers = session_headers("viewer")
    status, body = signed_in_page(client, headers)
    assert status == 200
    assert post(client, "/dashboard/sign-out", {}, headers).status_code == 403  # no CSRF token: stays signed in
    out = post(client, "/dashboard/sign-out", {"csrf": csrf_of(body)}, headers)
    assert out.status_code == 303 and out.headers["Location"] == "/dashboard/sign-in?signed_out=1"
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    again = client.http.get("/dashboard/people", headers=headers)  # the same cookie, kept by someone
    assert again.status_code == 303 and again.headers["Location"].startswith("/dashboard/sign-in?next=")


def test_a_post_without_a_session_goes_to_sign_in_with_the_page_it_came_from(client):
    response = post(
        client, "/dashboard/people", {"email": "x@closeloop-test.example"}, {"Referer": "http://h/dashboard/people"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/sign-in?next=%2Fdashboard%2Fpeople"


# --- roles and CSRF on every change -----------------------------------------------------------


CHANGES = [
    ("/dashboard/people", {"email": "new@closeloop-test.example", "role": "admin"}),
    ("/dashboard/people/role", {"email": LEAD, "role": "viewer"}),
    ("/dashboard/people/remove", {"email": LEAD}),
    ("/dashboard/tokens", {"name": "CRM sync"}),
    ("/dashboard/tokens/revoke", {"token": "0" * 64}),
]


def test_a_viewer_sees_people_and_tokens_but_every_change_is_403(client):
    add_admin()
    viewer = session_headers("viewer")
    status, body = signed_in_page(client, viewer)
    assert status == 200 and LEAD in body and "Add a person" not in body and "Make viewer" not in body
    status, tokens = signed_in_page(client, viewer, "/dashboard/tokens")
    assert status == 200 and "Make a token" not in tokens
    for path, fields in CHANGES:
        refused = post(client, path, {**fields, "csrf": csrf_of(body)}, viewer)
        assert refused.status_code == 403, path
        assert "Your role is viewer" in refused.body.decode()
    assert people.get_person(LEAD).is_admin and people.get_person("new@closeloop-test.example") is None


def test_a_change_without_or_with_a_wrong_csrf_token_is_refused(client):
    add_admin()
    admin = session_headers("admin")
    other = signed_in_page(client, session_headers("admin"))[1]  # another session's token
    for path, fields in CHANGES:
        for csrf in (None, "forged", csrf_of(other)):
            refused = post(client, path, fields if csrf is None else {**fields, "csrf": csrf}, admin)
            assert refused.status_code == 403, (path, csrf)
            assert "did not come from this dashboard" in refused.body.decode()
    assert people.get_person(LEAD).is_admin and people.get_person("new@closeloop-test.example") is None


def test_a_form_posted_from_another_site_is_refused(client):
    admin = session_headers("admin")
    csrf = csrf_of(signed_in_page(client, admin)[1])
    fields = {"csrf": csrf, "email": "new@closeloop-test.example", "role": "admin"}
    for another_site in (
        {"Origin": "https://evil.example"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},  # a sandboxed frame on another site
        {"Sec-Fetch-Site": "same-site"},  # a sibling host, Origin stripped
    ):
        refused = post(client, "/dashboard/people", fields, {**admin, **another_site})
        assert refused.status_code == 403 and people.get_person("new@closeloop-test.example") is None, another_site
    other_name = {"Origin": "http://localhost:8000", "Sec-Fetch-Site": "same-site"}  # opened as localhost
    refused = post(client, "/dashboard/people", fields, {**admin, **other_name}).body.decode()
    assert (
        "This form was sent from a page of http://localhost:8000, and the dashboard is at http://127.0.0.1:8000: "
        "open http://127.0.0.1:8000/dashboard and send it from there."
    ) in refused
    ours = {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}
    accepted = post(client, "/dashboard/people", fields, {**admin, **ours})
    assert accepted.status_code == 303


# --- people -----------------------------------------------------------------------------------


def test_an_admin_adds_promotes_and_removes_people_but_never_the_last_admin(client):
    admin = session_headers("admin", LEAD)
    csrf = csrf_of(signed_in_page(client, admin)[1])
    added = post(
        client,
        "/dashboard/people",
        {"csrf": csrf, "email": " Ana@Closeloop-Test.example", "name": "Ana", "role": "viewer"},
        admin,
    )
    assert added.status_code == 303 and added.headers["Location"] == "/dashboard/people?done=added"
    assert people.get_person("ana@closeloop-test.example") == people.Person(
        "ana@closeloop-test.example", "Ana", "viewer"
    )
    twice = post(
        client, "/dashboard/people", {"csrf": csrf, "email": "ana@closeloop-test.example", "role": "admin"}, admin
    )
    assert twice.status_code == 409 and "can already sign in" in twice.body.decode()
    bad = post(client, "/dashboard/people", {"csrf": csrf, "email": "ana", "role": "boss"}, admin)
    assert bad.status_code == 400 and 'id="add-email-error"' in bad.body.decode()
    last = post(client, "/dashboard/people/role", {"csrf": csrf, "email": LEAD, "role": "viewer"}, admin)
    assert last.status_code == 409 and "is the last admin" in last.body.decode()
    assert post(client, "/dashboard/people/remove", {"csrf": csrf, "email": LEAD}, admin).status_code == 409
    promoted = post(
        client, "/dashboard/people/role", {"csrf": csrf, "email": "ana@closeloop-test.example", "role": "admin"}, admin
    )
    assert promoted.status_code == 303 and people.get_person("ana@closeloop-test.example").is_admin
    gone = post(client, "/dashboard/people/remove", {"csrf": csrf, "email": "nobody@closeloop-test.example"}, admin)
    assert gone.status_code == 404
    assert post(client, "/dashboard/people/remove", {"csrf": csrf, "email": LEAD}, admin).status_code == 303
    assert client.http.get("/dashboard/people", headers=admin).status_code == 303  # removed: signed out


def test_a_demoted_admin_is_a_viewer_from_the_next_click_and_a_removed_viewer_is_signed_out(client):
    admin = session_headers("admin", LEAD)
    other = session_headers("admin", "ana@closeloop-test.example")
    csrf, theirs = csrf_of(signed_in_page(client, admin)[1]), csrf_of(signed_in_page(client, other)[1])
    demoted = post(
        client, "/dashboard/people/role", {"csrf": csrf, "email": "ana@closeloop-test.example", "role": "viewer"}, admin
    )
    assert demoted.status_code == 303
    assert people.get_person("ana@closeloop-test.example").role == "viewer"
    refused = post(client, "/dashboard/tokens", {"csrf": theirs, "name": "CRM"}, other)
    assert refused.status_code == 403
    removed = post(client, "/dashboard/people/remove", {"csrf": csrf, "email": "ana@closeloop-test.example"}, admin)
    assert removed.status_code == 303 and people.get_person("ana@closeloop-test.example") is None
    assert client.http.get("/dashboard/people", headers=other).status_code == 303


def test_two_admins_cannot_leave_the_team_without_one(db):
    add_admin()
    people.add_person("ana@closeloop-test.example", "Ana", "admin", time.time())
    assert people.set_role(LEAD, "viewer", time.time()).role == "viewer"
    with pytest.raises(Conflict, match=r"ana@closeloop-test\.example is the last admin"):
        people.remove_person("ana@closeloop-test.example")
    with pytest.raises(Conflict, match="is the last admin"):
        people.set_role("ana@closeloop-test.example", "viewer", time.time())
    assert [p.role for p in people.list_people()] == ["admin", "viewer"]


# --- API tokens -------------------------------------------------------------------------------


def once_of(html):
    """The one-time nonce of the page's "Make a token" form."""
    return html.split('name="once" value="')[1].split('"')[0]


def make_token_form(client, headers):
    """The fields of the tokens page's "Make a token" form, as the page gives them."""
    page = signed_in_page(client, headers, "/dashboard/tokens")[1]
    return {"csrf": csrf_of(page), "once": once_of(page)}


def token_rows(html):
    """Each listed token's cells, as text: name, prefix, made, by."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)][:4]
        for row in body.split("<tr>")[1:]
    ]


def test_an_admin_mints_a_named_token_shown_once_and_revokes_it(client):
    admin = session_headers("admin", LEAD)
    csrf = csrf_of(signed_in_page(client, admin, "/dashboard/tokens")[1])
    assert post(client, "/dashboard/tokens", {"csrf": csrf, "name": "  "}, admin).status_code == 400
    minted = post(client, "/dashboard/tokens", {**make_token_form(client, admin), "name": "CRM sync"}, admin)
    body = minted.body.decode()
    assert minted.status_code == 201 and minted.headers["Cache-Control"] == "no-store"
    token = body.split('<code class="secret">')[1].split("</code>")[0]
    assert authenticate({"Authorization": f"Bearer {token}"}).name == "CRM sync"
    api = client.http.get("/api/campaigns", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    listing = signed_in_page(client, admin, "/dashboard/tokens")[1]
    assert "CRM sync" in listing and LEAD in listing and token not in listing
    digest = listing.split('name="token" value="')[1].split('"')[0]
    revoked = post(client, "/dashboard/tokens/revoke", {"csrf": csrf, "token": digest}, admin)
    assert revoked.status_code == 303
    with pytest.raises(Unauthorized):
        authenticate({"Authorization": f"Bearer {token}"})
    assert client.http.get("/api/campaigns", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert post(client, "/dashboard/tokens/revoke", {"csrf": csrf, "token": digest}, admin).status_code == 404


def test_reloading_the_new_token_page_makes_no_second_token_and_the_list_tells_tokens_apart(client):
    """Found by testing: a reload (or Back and Forward) of the page showing a new token posted its form again and
    made a second token with the same name, a row identical to the first; the tester revoked the wrong one."""
    admin = session_headers("admin", LEAD)
    form = {**make_token_form(client, admin), "name": "CRM sync"}
    minted = post(client, "/dashboard/tokens", form, admin)
    assert minted.status_code == 201
    token = minted.body.decode().split('<code class="secret">')[1].split("</code>")[0]
    assert f"It is listed below as <code>{token[:7]}…</code>" in minted.body.decode()
    again = post(client, "/dashboard/tokens", form, admin)  # what the browser's reload sends
    refused = again.body.decode()
    assert again.status_code == 409 and '<code class="secret">' not in refused
    assert (
        "This token was made already and shown once; if you did not copy it, revoke it below and make another."
    ) in refused
    assert [row[:2] for row in token_rows(refused)] == [["CRM sync", f"{token[:7]}…"]]
    another = post(client, "/dashboard/tokens", {**form, "once": once_of(refused)}, admin)  # the page's new form
    assert another.status_code == 201
    second = another.body.decode().split('<code class="secret">')[1].split("</code>")[0]
    rows = token_rows(signed_in_page(client, admin, "/dashboard/tokens")[1])
    assert sorted(row[:2] for row in rows) == sorted([["CRM sync", f"{token[:7]}…"], ["CRM sync", f"{second[:7]}…"]])
    assert token[:7] != second[:7] or token == second  # 1 in 16.8 million alike


def test_two_posts_of_one_form_at_once_make_one_token(client):
    admin = session_headers("admin", LEAD)
    form = {**make_token_form(client, admin), "name": "CRM sync"}
    session_id = sessions.session_id_of(admin["Cookie"])
    with ThreadPoolExecutor(8) as pool:
        spent = list(pool.map(lambda _: sessions.spend_form_nonce(session_id, form["once"]), range(8)))
    assert spent.count(True) == 1
    assert post(client, "/dashboard/tokens", form, admin).status_code == 409
    assert token_rows(signed_in_page(client, admin, "/dashboard/tokens")[1]) == []


def test_a_make_token_form_without_its_nonce_is_out_of_date_and_makes_nothing(client):
    admin = session_headers("admin", LEAD)
    form = make_token_form(client, admin)
    for once in (None, "", "x" * 5000):
        fields = {"csrf": form["csrf"], "name": "CRM sync", **({} if once is None else {"once": once})}
        response = post(client, "/dashboard/tokens", fields, admin)
        assert response.status_code == 400 and "This form is out of date: reload the page" in response.body.decode()
    other = session_headers("admin", LEAD)  # another browser of the same person: its own nonces
    assert post(client, "/dashboard/tokens", {**form, "name": "CRM sync"}, admin).status_code == 201
    theirs = {**make_token_form(client, other), "name": "CRM sync"}
    assert post(client, "/dashboard/tokens", theirs, other).status_code == 201
    assert len(token_rows(signed_in_page(client, admin, "/dashboard/tokens")[1])) == 2


def test_the_revoked_notice_names_the_token_and_tokens_made_before_prefixes_say_so(client):
    admin = session_headers("admin", LEAD)
    ApiToken("a" * 64, name="Old sync", created_at=time.time() - HOUR, list_pk="token").save()  # no prefix kept
    minted = post(client, "/dashboard/tokens", {**make_token_form(client, admin), "name": "CRM sync"}, admin)
    token = minted.body.decode().split('<code class="secret">')[1].split("</code>")[0]
    listing = signed_in_page(client, admin, "/dashboard/tokens")[1]
    assert [row[:2] for row in token_rows(listing)] == [
        ["CRM sync", f"{token[:7]}…"],
        ["Old sync", "made before prefixes were kept"],
    ]
    assert f'Revoke<span class="sr-only"> CRM sync ({token[:7]}…)</span>' in listing
    csrf = csrf_of(listing)
    revoked = post(client, "/dashboard/tokens/revoke", {"csrf": csrf, "token": token_hash(token)}, admin)
    notice = client.http.get(revoked.headers["Location"], headers=admin).body.decode()
    assert f"Token revoked: “CRM sync” ({token[:7]}…)." in notice
    old = post(client, "/dashboard/tokens/revoke", {"csrf": csrf, "token": "a" * 64}, admin)
    notice = client.http.get(old.headers["Location"], headers=admin).body.decode()
    assert "Token revoked: “Old sync” (made before prefixes were kept)." in notice
    assert token_rows(notice) == []


def test_make_run_creates_the_local_admin_once(db):
    run.ensure_local_admin(time.time())
    run.ensure_local_admin(time.time())
    assert people.get_person(run.LOCAL_ADMIN).is_admin
    assert "sign in as cx@closeloop-demo.example" in run.banner(
        {
            "CLOSELOOP_BASE_URL": "http://127.0.0.1:8000",
            "CLOSELOOP_ADMIN_TOKEN": "t",
            "CLOSELOOP_DYNAMODB_ENDPOINT": "e",
            "CLOSELOOP_ACK_DELAY": "120",
        },
        None,
    )


# --- found by testing: removal signs out for good; no id that cannot be a key reaches DynamoDB -----


def test_a_removed_person_added_again_signs_in_anew_their_old_cookie_opens_nothing(client):
    admin = session_headers("admin", LEAD)
    old = session_headers("admin", "ana@closeloop-test.example", now=time.time() - 60)
    csrf = csrf_of(signed_in_page(client, admin)[1])
    removed = post(client, "/dashboard/people/remove", {"csrf": csrf, "email": "ana@closeloop-test.example"}, admin)
    assert removed.status_code == 303
    people.add_person("ana@closeloop-test.example", "Ana", "viewer", time.time())
    assert client.http.get("/dashboard/people", headers=old).status_code == 303  # to sign-in, not the new role
    fresh = session_headers("viewer", "ana@closeloop-test.example")
    assert signed_in_page(client, fresh)[0] == 200


def test_a_link_sent_before_a_person_was_removed_and_added_again_signs_nobody_in(client, outbox):
    people.add_person("ana@closeloop-test.example", "Ana", "viewer", time.time() - 60)
    add_admin()
    ask_for_link(client, "ana@closeloop-test.example")
    link = local_path(sign_in_link(outbox, "ana@closeloop-test.example"))
    people.remove_person("ana@closeloop-test.example")
    people.add_person("ana@closeloop-test.example", "Ana", "admin", time.time() + 1)
    pressed = press_sign_in(client, link)
    assert pressed.status_code == 403 and "Set-Cookie" not in pressed.headers
    assert "ask for a new one" in pressed.body.decode()


def test_a_promoted_viewer_may_change_things_from_the_next_request(client):
    admin = session_headers("admin", LEAD)
    viewer = session_headers("viewer", "ana@closeloop-test.example")
    csrf, theirs = csrf_of(signed_in_page(client, admin)[1]), csrf_of(signed_in_page(client, viewer)[1])
    assert post(client, "/dashboard/tokens", {"csrf": theirs, "name": "CRM"}, viewer).status_code == 403
    promoted = post(
        client, "/dashboard/people/role", {"csrf": csrf, "email": "ana@closeloop-test.example", "role": "admin"}, admin
    )
    assert promoted.status_code == 303 and promoted.headers["Content-Type"].startswith("text/html")  # not JSON
    form = {**make_token_form(client, viewer), "name": "CRM"}
    assert post(client, "/dashboard/tokens", form, viewer).status_code == 201


@pytest.mark.parametrize("path", ["/dashboard/held", "/dashboard/responses", "/dashboard/export.csv"])
def test_a_campaign_id_too_long_to_be_a_key_is_not_found(client, path):
    response = client.http.get(f"{path}?{urlencode({'campaign': 'x' * 3000})}", headers=session_headers("admin", LEAD))
    assert response.status_code == 404
    assert "No campaign" in response.body.decode() and response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/dashboard/people/remove", "/dashboard/people/role"])
@pytest.mark.parametrize("email", [None, "", "a" * 4980 + "@example.com"])
def test_an_address_that_is_empty_missing_or_too_long_is_refused_as_bad_input(client, path, email):
    admin = session_headers("admin", LEAD)
    fields = {"csrf": csrf_of(signed_in_page(client, admin)[1]), "role": "viewer"}
    if email is not None:
        fields["email"] = email
    response = post(client, path, fields, admin)
    assert response.status_code == 400 and "address" in response.body.decode()
    assert people.get_person(LEAD).role == "admin"


@pytest.mark.parametrize("token", [None, "", "f" * 5000, "F" * 64])
def test_a_token_that_no_digest_can_be_is_not_found(client, token):
    admin = session_headers("admin", LEAD)
    fields = {"csrf": csrf_of(signed_in_page(client, admin, "/dashboard/tokens")[1])}
    if token is not None:
        fields["token"] = token
    response = post(client, "/dashboard/tokens/revoke", fields, admin)
    assert response.status_code == 404 and "No such token" in response.body.decode()


def test_a_bug_in_a_dashboard_view_is_the_dashboard_error_page_and_logged(db, caplog):
    bugs, app = Blueprint(__name__), Chalice("bug")

    @view(bugs, "/dashboard/bug")
    def bug(ctx):
        raise RuntimeError("a bug")

    app.register_blueprint(bugs)
    with Client(app, stage_name="local", project_dir=str(ROOT)) as bugged:
        response = bugged.http.get("/dashboard/bug", headers=session_headers("admin", LEAD))
    body = response.body.decode()
    assert response.status_code == 500 and response.headers["Content-Type"].startswith("text/html")
    assert "Something went wrong on our side" in body and "a bug" not in body
    assert "RuntimeError: a bug" in caplog.text
