"""Dashboard test helpers (DASHBOARD.md): a signed-in session for chalice's test Client, a form's CSRF
token, and the real emailed-link sign-in in a browser."""

from __future__ import annotations

import itertools
import json
import re
import time
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

from chalicelib.dashboard import people, sessions
from tests.conftest import admin_headers, html_links, read_outbox

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
_people = itertools.count()


def session_headers(role: str = "admin", email: str | None = None, now: float | None = None) -> dict[str, str]:
    """A dashboard user with `role` (created unless `email` names one already) signed in at `now`,
    through the real service functions: {"Cookie": ...} for chalice's test Client."""
    now = time.time() if now is None else now
    email = email or f"{role}{next(_people)}@closeloop-test.example"
    person = people.get_person(email) or people.add_person(email, role.title(), role, now)
    signed_in = sessions.start_session(person, now)
    return {"Cookie": f"{sessions.COOKIE}={sessions.cookie_value(signed_in.session_id)}"}


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in_link(outbox_dir: Path, email: str) -> str:
    """The newest sign-in link emailed to `email`."""
    messages = [m for m in read_outbox(outbox_dir) if str(m["To"]) == email and "sign-in" in m["Subject"]]
    assert messages, f"no sign-in email to {email} in {outbox_dir}"
    return next(u for u in html_links(messages[-1]) if "/dashboard/sign-in/" in u)


def browser_sign_in(page, base_url: str, outbox_dir: Path, email: str) -> None:
    """The real flow in Playwright: ask for a link, open it from the outbox, press Sign in."""
    page.goto(f"{base_url}/dashboard/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    link = sign_in_link(outbox_dir, email)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/dashboard(?!/sign-in).*"))


# --- one validation, two faces (issue 18): the admin API and a dashboard form refuse alike ------------

VALID_CAMPAIGN = {
    "name": "Spring check-in",
    "survey": {"questions": [{"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"}]},
}


def fid(path: str) -> str:
    """The id of a form field named by an API field path (templates/dashboard/_fields.html)."""
    return "f-" + path.replace(".", "-").replace("[", "-").replace("]", "")


def shown_error(html: str, field: str) -> str | None:
    """The text of the message a dashboard page shows next to `field` (element `fid(field)-error`), or None."""
    found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(fid(field))}-error"[^>]*>(.*?)</\1>', html, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split()) if found else None


def api_refusal(client, body: dict) -> tuple[str, str]:
    """(field, message) of the admin API's 400 to POST /api/campaigns with `body` (an admin token)."""
    response = client.http.post("/api/campaigns", body=json.dumps(body), headers=admin_headers())
    assert response.status_code == 400, response.body
    error = response.json_body["error"]
    return error.get("field", ""), error["message"]


def submit_form(client, path: str, headers: dict, fields: dict[str, str]):
    """A dashboard form as the browser posts it, with the session's CSRF token read from the page itself."""
    page = client.http.get(path, headers=headers)
    form = {"csrf": csrf_of(page.body.decode()), **fields}
    return client.http.post(path, body=urlencode(form), headers={**headers, **FORM_HEADERS})


def assert_one_validation(client, field: str, api_body: dict, dashboard_post, worded: dict | None = None) -> None:
    """The API refuses `api_body` naming `field`, and the dashboard (`dashboard_post()` -> its response)
    answers 400 with the same message next to that field, in the form's words: `worded` maps an API message
    that names a field by its API name to the message as the form says it, by the field's label."""
    api_field, message = api_refusal(client, api_body)
    assert api_field == field, message
    response = dashboard_post()
    html = response.body.decode()
    assert response.status_code == 400, shown_error(html, field) or html[-2000:]
    expected = (worded or {}).get(message, message)
    assert shown_error(html, field) == " ".join(expected.split()), html[-3000:]
