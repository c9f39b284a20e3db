"""A page link reused on another list, or on the same list with other filters, or changed: one 400 naming the
parameter that carried it, never a 500 and never a page that starts in the wrong place, in the admin API, the v1
API and the dashboard; and no list offers a next page that would be empty."""

from __future__ import annotations

import base64
import json
import time
from html import unescape
from urllib.parse import quote

from chalicelib.admin import api as admin_api
from chalicelib.answers import counting
from chalicelib.campaigns import campaigns
from chalicelib.core.config import get_settings
from chalicelib.core.signing import sign
from chalicelib.dashboard import insight_pages
from chalicelib.delighted import keys
from tests.conftest import admin_headers
from tests.dashboard_support import session_headers
from tests.helpers import NPS_SURVEY, launch, submit
from tests.test_delighted_api import basic

REFUSED = {
    "message": "That cursor belongs to another list or other filters, or was changed: start from the first page, "
    "without cursor.",
    "field": "cursor",
}
PAGE_INFO_REFUSED = {
    "field": "page_info",
    "message": "That page_info belongs to another list or other filters, or was changed: start from the first page, "
    "without page_info.",
}
SHOWN = "That page link belongs to another list or other filters, or was changed: start from the first page."


def answered(client, outbox, tag: str, **extra) -> str:
    """A campaign answered by three people of its own on the pro plan, each mentioning the price (the fatigue
    window keeps others from a second one)."""
    people = [{"email": f"{tag}{i}@example.com", "properties": {"plan": "pro"}} for i in range(3)]
    sent = launch(outbox, people, **extra)
    for person in people:
        page = sent.pages[person["email"]]
        assert submit(client, page, {"q_nps": "9", "comment": "fair price"}).status_code == 200
    counting.apply_pending()
    for message in list(outbox.iterdir()):
        message.unlink()
    return sent.campaign.id


def get(client, path: str):
    return client.http.get(path, headers=admin_headers())


def test_a_cursor_used_on_another_list_or_filter_is_a_400_naming_it(client, outbox):
    first, second = answered(client, outbox, "a"), answered(client, outbox, "b")
    page = get(client, f"/api/campaigns/{first}/responses?limit=1").json_body
    cursor = quote(page["next_cursor"], safe="")
    listed = get(client, "/api/campaigns?limit=1").json_body
    campaigns_cursor = quote(listed["next_cursor"], safe="")
    for path in (
        f"/api/campaigns/{second}/responses?cursor={cursor}",
        f"/api/campaigns/{first}/responses?cursor={cursor}&since=2030-01-01",
        f"/api/suppression?cursor={campaigns_cursor}",  # another table's key
        f"/api/campaigns/{first}/skipped?cursor={cursor}",  # another index's key
        f"/api/campaigns/{first}/held?cursor={cursor}",
    ):
        refused = get(client, path)
        assert refused.status_code == 400, (path, refused.body)
        assert refused.json_body["error"] == REFUSED

    shown = client.http.get(f"/dashboard/responses?campaign={second}&cursor={cursor}", headers=session_headers())
    assert shown.status_code == 400 and SHOWN in shown.body.decode()
    held = client.http.get(f"/dashboard/held?cursor={campaigns_cursor}", headers=session_headers())
    assert held.status_code == 400 and SHOWN in held.body.decode()


def test_a_responses_cursor_is_refused_with_other_filters_and_on_the_csv_export(client, outbox):
    campaign = answered(client, outbox, "f", options={"themes": {"pricing": ["price"]}})
    base = f"/api/campaigns/{campaign}/responses"
    cursor = quote(get(client, f"{base}?limit=2").json_body["next_cursor"], safe="")
    for other in (
        "category=detractor",
        "q=price",
        "theme=pricing",
        "loop_status=new",
        "property=plan:pro",
        "since=2020-01-01T00:00:00Z",
        "until=2999-01-01",
    ):
        refused = get(client, f"{base}?limit=2&cursor={cursor}&{other}")
        assert refused.status_code == 400, (other, refused.body)
        assert refused.json_body["error"] == REFUSED
    csv = get(client, f"{base}.csv?limit=2&cursor={cursor}")  # oldest first: it would start in the wrong place
    assert csv.status_code == 400 and json.loads(csv.body)["error"] == REFUSED
    following = get(client, f"{base}?limit=2&cursor={cursor}&category=&q=")  # an empty filter is no filter
    assert following.status_code == 200 and len(following.json_body["responses"]) == 1

    exported = get(client, f"{base}.csv?limit=2&theme=pricing")
    link = exported.headers["Link"].split(">")[0].removeprefix("<").removeprefix(get_settings().base_url)
    assert get(client, link).status_code == 200
    csv_cursor = quote(link.split("cursor=")[1], safe="")
    assert get(client, f"{base}?theme=pricing&cursor={csv_cursor}").json_body["error"] == REFUSED
    assert json.loads(get(client, f"{base}.csv?cursor={csv_cursor}").body)["error"] == REFUSED


def test_a_cursor_given_out_before_cursors_named_their_list_is_refused(client, outbox):
    answered(client, outbox, "a")
    answered(client, outbox, "b")
    listed = get(client, "/api/campaigns?limit=1").json_body
    key = admin_api.decode_cursor({"cursor": listed["next_cursor"]}, admin_api.PAGE_CURSOR, "campaigns")
    payload = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()  # the key alone, as they were
    old = f"{payload}.{sign(admin_api.CURSOR, payload, get_settings().require_signing_secrets())}"
    refused = get(client, f"/api/campaigns?cursor={quote(old, safe='')}")
    assert refused.status_code == 400 and refused.json_body["error"] == REFUSED


def test_a_cursor_whose_key_has_the_right_names_but_other_types_is_a_400(client, outbox):
    answered(client, outbox, "a")
    answered(client, outbox, "b")
    listed = get(client, "/api/campaigns?limit=1").json_body
    key = admin_api.decode_cursor({"cursor": listed["next_cursor"]}, admin_api.PAGE_CURSOR, "campaigns")
    retyped = {name: {"N": "1"} for name in key}  # signed as only the API can, so only the store's guard tells
    cursor = quote(admin_api.encode_cursor(retyped, "campaigns"), safe="")
    refused = get(client, f"/api/campaigns?cursor={cursor}")
    assert refused.status_code == 400, refused.body
    assert refused.json_body["error"] == REFUSED


def test_a_misused_page_info_is_one_422_naming_page_info(client, db):
    body = {"name": "Quarterly", "survey": NPS_SURVEY, "kind": "recurring", "interval_days": 90}
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), time.time())
    key, _ = keys.mint_key("paging", campaign.id, time.time())
    for email in ("ivy@example.com", "jo@example.com"):
        added = client.http.post(
            "/v1/autopilot/email/memberships.json",
            body=json.dumps({"person_email": email}),
            headers={**basic(key), "Content-Type": "application/json"},
        )
        assert added.status_code == 200, added.body

    def page_info(path: str) -> str:
        return client.http.get(path, headers=basic(key)).headers["Link"].split(">")[0].split("page_info=")[1]

    people = page_info("/v1/people.json?per_page=1")
    members = page_info("/v1/autopilot/email/memberships.json?per_page=1")
    later = int(time.time()) + 86400
    for path in (
        f"/v1/people.json?page_info={people}&until={later}",  # other filters
        f"/v1/people.json?page_info={people}x",  # changed
        f"/v1/people.json?page_info={members}",  # another list's
        f"/v1/autopilot/email/memberships.json?page_info={people}",
    ):
        refused = client.http.get(path, headers=basic(key))
        body = json.loads(refused.body)
        assert refused.status_code == 422, (path, body)
        assert body["errors"] == [PAGE_INFO_REFUSED] and body["message"] == PAGE_INFO_REFUSED["message"]
    last = client.http.get(f"/v1/people.json?per_page=1&page_info={people}", headers=basic(key))
    assert len(json.loads(last.body)) == 1 and "Link" not in last.headers  # the second of two: no empty third


def test_every_dashboard_page_says_a_refused_page_link_in_one_wording_with_its_first_page(client, outbox):
    campaign = answered(client, outbox, "a")
    headers = session_headers()
    for path, first in (
        ("/dashboard/campaigns?cursor=abc", "/dashboard/campaigns"),
        ("/dashboard/held?cursor=abc", "/dashboard/held"),
        (f"/dashboard/export.csv?campaign={campaign}&cursor=abc", f"/dashboard/export.csv?campaign={campaign}"),
        (f"/dashboard/responses?campaign={campaign}&cursor=abc", f"/dashboard/responses?campaign={campaign}"),
        (f"/dashboard/campaigns/{campaign}/recipients?cursor=abc", f"/dashboard/campaigns/{campaign}/recipients"),
    ):
        shown = client.http.get(path, headers=headers)
        text = unescape(shown.body.decode())
        assert shown.status_code == 400, path
        assert SHOWN in text and f'<a href="{first}">First page</a>' in text, (path, text)
        assert "cursor is not one" not in text


def test_the_second_page_of_campaigns_links_to_the_first_and_no_page_is_empty(client, outbox, monkeypatch):
    answered(client, outbox, "a")
    only = get(client, "/api/campaigns?limit=1").json_body
    assert len(only["campaigns"]) == 1 and only["next_cursor"] is None  # one campaign: no empty second page
    answered(client, outbox, "b")
    monkeypatch.setattr(insight_pages, "CAMPAIGNS_PAGE", 1)
    headers = session_headers()
    first = client.http.get("/dashboard/campaigns", headers=headers).body.decode()
    assert "First page" not in first
    following = unescape(first.split('">Next campaigns</a>')[0].rsplit('href="', 1)[1])
    second = client.http.get(following, headers=headers).body.decode()
    assert '<a href="/dashboard/campaigns">First page</a>' in second and "Next campaigns" not in second


def test_a_refused_page_link_on_the_settings_page_is_said_and_the_rest_of_the_page_shown(client, outbox):
    campaign = answered(client, outbox, "a")
    for email in ("s1@example.com", "s2@example.com", "s3@example.com"):
        assert client.http.post(
            "/api/suppression", body=json.dumps({"email": email, "reason": "manual"}), headers=admin_headers()
        ).status_code in (200, 201)
    listed = get(client, "/api/suppression?email_prefix=s&limit=2").json_body
    assert get(client, "/api/suppression?email_prefix=s&limit=3").json_body["next_cursor"] is None
    real = listed["next_cursor"]
    foreign = get(client, "/api/campaigns?limit=1").json_body["next_cursor"] or admin_api.encode_cursor(
        {"kind": {"S": "campaign"}}, "campaigns"
    )
    path = f"/dashboard/campaigns/{campaign}/settings"
    for cursor in ("abc", real[:-3], "a" * 5000, quote(real, safe=""), foreign):
        shown = client.http.get(f"{path}?email_prefix=s&cursor={quote(cursor, safe='')}", headers=session_headers())
        text = unescape(shown.body.decode())
        assert shown.status_code == 400, cursor
        assert f'{SHOWN} <a href="{path}?email_prefix=s#suppression">First page</a>' in text
        assert 'id="digest-heading"' in text and 'id="suppress-heading"' in text  # the rest of the page
    second = client.http.get(f"{path}?email_prefix=s&cursor={quote(real, safe='')}", headers=session_headers())
    assert second.status_code == 200 and f'<a href="{path}?email_prefix=s#suppression">First page</a>' in unescape(
        second.body.decode()
    )
