"""A page link reused on another list, or on the same list with other filters: a 400 naming the cursor,
never a 500, in the admin API, the v1 API and the dashboard."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

from chalicelib.admin import api as admin_api
from chalicelib.answers import counting
from chalicelib.delighted import keys
from tests.conftest import admin_headers
from tests.dashboard_support import session_headers
from tests.helpers import launch, submit
from tests.test_delighted_api import basic


def answered(client, outbox, tag: str) -> str:
    """A campaign answered by three people of its own (the fatigue window keeps others from a second one)."""
    people = [{"email": f"{tag}{i}@example.com"} for i in range(3)]
    sent = launch(outbox, people)
    for person in people:
        assert submit(client, sent.pages[person["email"]], {"q_nps": "9"}).status_code == 200
    counting.apply_pending()
    for message in list(outbox.iterdir()):
        message.unlink()
    return sent.campaign.id


def test_a_cursor_used_on_another_list_or_filter_is_a_400_naming_it(client, outbox):
    first, second = answered(client, outbox, "a"), answered(client, outbox, "b")
    page = client.http.get(f"/api/campaigns/{first}/responses?limit=1", headers=admin_headers()).json_body
    cursor = quote(page["next_cursor"], safe="")
    listed = client.http.get("/api/campaigns?limit=1", headers=admin_headers()).json_body
    campaigns_cursor = quote(listed["next_cursor"], safe="")
    for path in (
        f"/api/campaigns/{second}/responses?cursor={cursor}",
        f"/api/campaigns/{first}/responses?cursor={cursor}&since=2030-01-01",
        f"/api/suppression?cursor={campaigns_cursor}",  # another table's key
        f"/api/campaigns/{first}/skipped?cursor={cursor}",  # another index's key
    ):
        refused = client.http.get(path, headers=admin_headers())
        assert refused.status_code == 400, (path, refused.body)
        assert refused.json_body["error"]["field"] == "cursor" and "first page" in refused.json_body["error"]["message"]

    shown = client.http.get(f"/dashboard/responses?campaign={second}&cursor={cursor}", headers=session_headers())
    assert shown.status_code == 400 and "first page" in shown.body.decode()
    held = client.http.get(f"/dashboard/held?cursor={campaigns_cursor}", headers=session_headers())
    assert held.status_code == 400 and "first page" in held.body.decode()  # a Scan's start, checked the same

    key, _ = keys.mint_key("paging", first, time.time())
    listed = client.http.get("/v1/people.json?per_page=1", headers=basic(key))
    link = listed.headers["Link"].split(">")[0].split("page_info=")[1]
    later = int(time.time()) + 86400  # a range the cursor's key is outside of
    refused = client.http.get(f"/v1/people.json?page_info={link}&since={later}", headers=basic(key))
    body = json.loads(refused.body)
    assert refused.status_code in (400, 422) and body["errors"][0]["field"] == "cursor", body


def test_a_cursor_whose_key_has_the_right_names_but_other_types_is_a_400(client, outbox):
    answered(client, outbox, "a")
    listed = client.http.get("/api/campaigns?limit=1", headers=admin_headers()).json_body
    key = admin_api.decode_cursor({"cursor": listed["next_cursor"]}, {"name": "cursor"})
    retyped = {name: {"N": "1"} for name in key}  # signed as only the API can, so only a type tells it apart
    cursor = quote(admin_api.encode_cursor(retyped), safe="")
    refused = client.http.get(f"/api/campaigns?cursor={cursor}", headers=admin_headers())
    assert refused.status_code == 400, refused.body
    assert refused.json_body["error"]["field"] == "cursor"
