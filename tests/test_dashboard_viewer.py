"""A viewer opens every page of the campaign builder read-only and is refused every change (issue 18).

The routes are read from the app itself, so a page added later is covered without editing this test.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

from chalicelib.campaigns import campaigns
from chalicelib.core.config import get_settings
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from tests.dashboard_support import FORM_HEADERS, csrf_of, session_headers
from tests.helpers import create_campaign

CAMPAIGN_PAGES = re.compile(r"^/dashboard/campaigns/(new|\{campaign_id\}/.+)$")
# what a viewer may post: a preview renders what a customer would see and stores nothing
PREVIEWS = re.compile(r"/preview(/|$)")
QUERIES = {"/preview/email.html": "?email=ada%40example.com"}  # what a page needs to show something


class Forms(HTMLParser):
    """The forms of a page, their method, and whether each can be submitted: a submit button that is
    neither disabled nor inside a disabled fieldset."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.disabled_depth = 0
        self.fieldsets: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "post": a.get("method") == "post", "usable": False})
        elif tag == "fieldset":
            self.fieldsets.append("disabled" in a)
            self.disabled_depth += "disabled" in a
        elif self.forms and not self.disabled_depth and "disabled" not in a:
            submit = (tag == "button" and a.get("type", "submit") == "submit") or (
                tag == "input" and a.get("type") == "submit"
            )
            self.forms[-1]["usable"] |= submit

    def handle_endtag(self, tag: str) -> None:
        if tag == "fieldset" and self.fieldsets:
            self.disabled_depth -= self.fieldsets.pop()


def builder_routes(client) -> list[tuple[str, str]]:
    from app import app

    return sorted(
        (path, method) for path, methods in app.routes.items() if CAMPAIGN_PAGES.match(path) for method in methods
    )


def test_a_viewer_opens_every_builder_page_read_only_and_every_change_is_refused(client):
    campaign = create_campaign([{"email": "ada@example.com", "properties": {"plan": "pro"}}])
    rows = [(0, {"email": "bo@example.com"}), (1, {"email": "not an address"})]
    upload = imports.start(campaign, rows, "recipients", time.time(), get_settings(), get_queue())
    stored = campaigns.get_view(campaign.id).to_json(reveal=True)
    ids = {"{campaign_id}": campaign.id, "{import_id}": upload["id"]}
    viewer = session_headers("viewer")
    routes = builder_routes(client)
    assert len(routes) >= 20, routes

    csrf = ""
    for path, method in routes:
        if method != "GET":
            continue
        url = re.sub(r"\{\w+\}", lambda m: ids[m.group(0)], path)
        response = client.http.get(url + QUERIES.get(path.rpartition("}")[2], ""), headers=viewer)
        assert response.status_code == 200, (url, response.status_code)
        if not response.headers["Content-Type"].startswith("text/html") or path.endswith(".html"):
            continue  # the import's progress and rejected rows, the preview's email document
        html = response.body.decode()
        csrf = csrf or csrf_of(html)
        forms = Forms()
        forms.feed(html)
        usable = [f["action"] for f in forms.forms if f["post"] and f["usable"]]
        assert [a for a in usable if a != "/dashboard/sign-out" and not PREVIEWS.search(a)] == [], url

    for path, method in routes:
        if method != "POST" or PREVIEWS.search(path):
            continue
        url = re.sub(r"\{\w+\}", lambda m: ids[m.group(0)], path)
        body = f"csrf={csrf}&name=Renamed&options.company=Other&at=2030-01-01T09%3A00&confirm=1"
        response = client.http.post(url, headers={**viewer, **FORM_HEADERS}, body=body)
        assert response.status_code == 403, (url, response.status_code)
        assert "viewer" in response.body.decode()

    assert campaigns.get_view(campaign.id).to_json(reveal=True) == stored
