"""Dashboard test helpers (DASHBOARD.md): a signed-in session for chalice's test Client, a form's CSRF
token, and the real emailed-link sign-in in a browser."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

from chalicelib.dashboard import people, sessions
from tests.conftest import html_links, read_outbox

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
