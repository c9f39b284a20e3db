"""A campaign's settings in the dashboard: digest recipients and their frequency, and the suppression list.

The pages call the admin API's use cases, so each refusal is checked against the API's own answer for the
same input; unsubscribes and bounces come from the real one-click link and SES event, and a suppressed
address is proven skipped by the real sending functions.
"""

from __future__ import annotations

import json
import re
import time
from html import unescape
from urllib.parse import quote, urlencode

import pytest

import app as app_module
from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.dashboard import settings_pages
from chalicelib.insight import digest_recipients
from chalicelib.queue import get_queue
from chalicelib.store.models import Suppression
from tests.conftest import admin_headers, local_path, read_outbox
from tests.dashboard_support import FORM_HEADERS, csrf_of, session_headers
from tests.helpers import create_campaign, drain, invitation_of, launch, sns_event

LEAD = "lead@acme.example"
CX = "cx@acme.example"


def _path(campaign_id: str) -> str:
    return f"/dashboard/campaigns/{quote(campaign_id, safe='')}/settings"


def _open(client, campaign_id: str, headers: dict, query: dict | None = None) -> tuple[int, str]:
    url = _path(campaign_id) + (f"?{urlencode(query)}" if query else "")
    response = client.http.get(url, headers=headers)
    return response.status_code, response.body.decode()


def _post(client, path: str, headers: dict, fields: dict | list):
    """A form POST with the page's CSRF token, as the browser sends it (a list keeps repeated names)."""
    pairs = list(fields.items()) if isinstance(fields, dict) else fields
    token = csrf_of(client.http.get("/dashboard/campaigns", headers=headers).body.decode())
    return client.http.post(path, headers={**headers, **FORM_HEADERS}, body=urlencode([("csrf", token), *pairs]))


def _frequencies(campaign_id: str) -> dict[str, tuple[str, str | None]]:
    return {s.email: (s.frequency, s.changed_by) for s in digest_recipients.subscriptions(campaign_id)}


def _field_error(html: str, fid: str) -> str:
    found = re.search(rf'<p class="field-error" id="{fid}-error">([^<]*)</p>', html)
    assert found, f"no error shown under {fid}"
    return unescape(found.group(1))


def _listed(html: str) -> list[tuple[str, str, str]]:
    """(address, reason, where it came from) of each row of the suppression list shown."""
    rows = re.findall(
        r'<td><span class="long">([^<]+)</span></td>\s*<td class="why"><strong>([^<]+)</strong>.*?'
        r'<span>(from (?:[^<]|<span class="long">[^<]*</span>)+)</span>',
        html,
        re.S,
    )
    return [(email, reason, unescape(re.sub(r"<[^>]+>", "", source))) for email, reason, source in rows]


def _api_error(client, method: str, path: str, body: dict) -> dict:
    response = client.http.request(method, path, headers=admin_headers(), body=json.dumps(body))
    assert response.status_code == 400, response.json_body
    return response.json_body["error"]


def test_an_admin_adds_changes_stops_and_removes_digest_recipients(client):
    campaign = create_campaign([{"email": "ada@example.com"}])
    admin = session_headers()
    status, html = _open(client, campaign.id, admin)
    assert status == 200 and "Nobody receives this campaign's digest yet." in html
    assert 'aria-current="page">Settings' in html
    digest = f"{_path(campaign.id)}/digest"

    added = _post(client, digest, admin, {"recipients[0].email": LEAD, "recipients[0].frequency": "daily"})
    assert added.status_code == 303 and added.headers["Location"].endswith("/settings?done=digest#digest")
    assert _frequencies(campaign.id) == {LEAD: ("daily", "admin")}
    _, html = _open(client, campaign.id, admin, {"done": "digest"})
    assert "Saved: the digest goes to the recipients below" in html and LEAD in html
    assert '<option value="daily" selected>' in html

    rows = {"recipients[0].email": LEAD, "recipients[0].frequency": "monthly", "recipients[1].email": CX}
    assert _post(client, digest, admin, {**rows, "recipients[1].frequency": "weekly"}).status_code == 303
    assert _frequencies(campaign.id) == {LEAD: ("monthly", "admin"), CX: ("weekly", "admin")}

    stopped = {"recipients[0].email": CX, "recipients[0].frequency": "stopped", "recipients[1].email": LEAD}
    assert _post(client, digest, admin, {**stopped, "recipients[1].frequency": "monthly"}).status_code == 303
    assert _frequencies(campaign.id)[CX] == ("stopped", "admin")

    listed = [s.email for s in digest_recipients.subscriptions(campaign.id)]
    removing = [(f"recipients[{i}].email", email) for i, email in enumerate(listed)]
    removing += [("remove", str(listed.index(LEAD)))]
    assert _post(client, digest, admin, removing).status_code == 303
    assert _frequencies(campaign.id) == {CX: ("stopped", "admin")}
    _, html = _open(client, campaign.id, admin)
    assert LEAD not in html and "Last changed by an admin" in html


def test_a_recipient_who_stopped_the_digest_through_its_link_is_shown_so_and_stays_stopped(client):
    campaign = create_campaign([{"email": "ada@example.com"}])
    digest_recipients.set_recipients(campaign.id, {"recipients": [LEAD, CX]}, time.time())
    stopped = client.http.post(
        local_path(digest_recipients.link(campaign.id, LEAD)),
        body="List-Unsubscribe=One-Click",
        headers=FORM_HEADERS,
    )
    assert stopped.status_code == 200
    admin = session_headers()
    _, html = _open(client, campaign.id, admin)
    assert "Stopped by the recipient" in html and "only they can start it again" in html
    index = [s.email for s in digest_recipients.subscriptions(campaign.id)].index(LEAD)
    assert f'name="recipients[{index}].frequency"' not in html  # nothing to choose for them
    rows = [(f"recipients[{i}].email", s.email) for i, s in enumerate(digest_recipients.subscriptions(campaign.id))]
    saved = _post(client, f"{_path(campaign.id)}/digest", admin, [*rows, ("remove", str(index))])
    assert saved.status_code == 303
    assert _frequencies(campaign.id)[LEAD] == ("stopped", "recipient")  # still listed, still stopped


def test_a_bad_address_shows_the_apis_message_next_to_its_field_and_keeps_what_was_typed(client):
    campaign = create_campaign([{"email": "ada@example.com"}])
    digest_recipients.set_recipients(campaign.id, {"recipients": [LEAD, CX]}, time.time())
    admin = session_headers()
    listed = [s.email for s in digest_recipients.subscriptions(campaign.id)]
    # row 0 removed, so the new row (form row 2) is the body's item 1: the error still lands on row 2
    form = [(f"recipients[{i}].email", email) for i, email in enumerate(listed)]
    form += [("recipients[1].frequency", "monthly"), ("remove", "0")]
    form += [("recipients[2].email", "ana@exa mple"), ("recipients[2].frequency", "daily")]
    refused = _post(client, f"{_path(campaign.id)}/digest", admin, form)
    assert refused.status_code == 400
    html = refused.body.decode()
    expected = _api_error(
        client,
        "PUT",
        f"/api/campaigns/{campaign.id}/digest-recipients",
        {"recipients": [{"email": listed[1], "frequency": "monthly"}, {"email": "ana@exa mple", "frequency": "daily"}]},
    )
    assert expected["field"] == "recipients[1].email"
    assert _field_error(html, "f-recipients-2-email") == expected["message"]
    assert 'value="ana@exa mple"' in html and 'aria-invalid="true"' in html
    assert re.search(r'<option value="daily" selected>', html)  # the new row's choice is kept
    assert re.search(r'name="remove" value="0" checked', html)  # and the box ticked
    assert "Nothing was saved" in html
    assert sorted(_frequencies(campaign.id)) == sorted([LEAD, CX])  # nothing changed

    bad_frequency = [("recipients[0].email", listed[0]), ("recipients[0].frequency", "hourly")]
    refused = _post(client, f"{_path(campaign.id)}/digest", admin, bad_frequency)
    expected = _api_error(
        client,
        "PUT",
        f"/api/campaigns/{campaign.id}/digest-recipients",
        {"recipients": [{"email": listed[0], "frequency": "hourly"}]},
    )
    assert refused.status_code == 400
    assert _field_error(refused.body.decode(), "f-recipients-0-frequency") == expected["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "ana@exa mple", "reason": "manual"},
        {"email": "", "reason": "manual"},
        {"email": "ana@example.com", "reason": "bounced"},
        {"email": "ana@example.com", "reason": "deleted"},
    ],
)
def test_the_dashboard_and_the_api_refuse_a_bad_suppression_with_the_same_message(client, body):
    campaign = create_campaign([{"email": "ada@example.com"}])
    expected = _api_error(client, "POST", "/api/suppression", body)
    refused = _post(client, f"{_path(campaign.id)}/suppression", session_headers(), body)
    assert refused.status_code == 400
    html = refused.body.decode()
    assert _field_error(html, f"f-{expected['field']}") == expected["message"]
    assert f'value="{body["email"]}"' in html
    assert contacts.email_address("ana@example.com") not in {e.email for e in suppression.search("ana", 10)[0]}


def _bounce(email: str, invitation_id: str, campaign_id: str) -> dict:
    return {
        "eventType": "Bounce",
        "mail": {"tags": {"invitation": [invitation_id], "campaign": [campaign_id]}},
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": email}],
        },
    }


def test_the_search_finds_an_unsubscribed_and_a_bounced_address_with_why(client, outbox):
    sent = launch(outbox, [{"email": "ada@example.com"}, {"email": "adam@example.com"}, {"email": "bob@example.com"}])
    unsubscribe = next(m for m in read_outbox(outbox) if str(m["To"]) == "ada@example.com")["List-Unsubscribe"]
    one_click = client.http.post(
        local_path(unsubscribe.strip("<>")), body="List-Unsubscribe=One-Click", headers=FORM_HEADERS
    )
    assert one_click.status_code == 200
    bounced = invitation_of(sent, "bob@example.com").id
    app_module.ses_events(sns_event(_bounce("Bob@Example.com", bounced, sent.campaign.id)), None)
    admin = session_headers()

    _, html = _open(client, sent.campaign.id, admin, {"email_prefix": "ADA"})
    assert _listed(html) == [("ada@example.com", "unsubscribed", "from the unsubscribe link")]  # not adam@
    assert f'href="/dashboard/campaigns/{sent.campaign.id}"' in html
    assert "This list applies to every campaign" in html

    _, html = _open(client, sent.campaign.id, admin, {"email_prefix": "bob@example.com"})
    assert _listed(html) == [("bob@example.com", "bounced", "from a bounce or complaint reported by SES")]

    api = client.http.get("/api/suppression?email_prefix=b", headers=admin_headers()).json_body
    assert [(e["email"], e["reason"], e["source"], e["campaign_id"]) for e in api["suppressions"]] == [
        ("bob@example.com", "bounced", "ses", sent.campaign.id)
    ]
    one = client.http.get("/api/suppression/ADA@example.com", headers=admin_headers())
    assert one.status_code == 200 and one.json_body["suppression"]["reason"] == "unsubscribed"
    missing = client.http.get("/api/suppression/adam@example.com", headers=admin_headers())
    assert missing.status_code == 404 and missing.json_body["error"]["message"] == "adam@example.com is not suppressed."


def test_a_suppression_names_its_campaign_linked_and_the_id_only_of_a_campaign_gone(client, outbox):
    sent = launch(outbox, [{"email": "ada@example.com"}], name="Winter <NPS>")
    assert suppression.unsubscribe(invitation_of(sent, "ada@example.com").id, sent.campaign.id, time.time())
    suppression.suppress("adele@example.com", "unsubscribed", time.time(), source="link", campaign_id="A3nQ-t-0xjQ")
    _, html = _open(client, sent.campaign.id, session_headers(), {"email_prefix": "ad"})
    link = f'<a class="long" href="/dashboard/campaigns/{sent.campaign.id}">Winter &lt;NPS&gt;</a>'
    assert f"<span>campaign {link}</span>" in html and f">{sent.campaign.id}<" not in html
    assert '<span>a campaign since deleted (<span class="long">A3nQ-t-0xjQ</span>)</span>' in html
    assert 'href="/dashboard/campaigns/A3nQ-t-0xjQ"' not in html


def test_the_list_is_paged_and_an_address_suppressed_before_it_was_kept_is_found_whole(client):
    now = time.time()
    for email in ("c@example.com", "a@example.com", "b@example.com"):
        suppression.suppress(email, "unsubscribed", now, source="link")
    Suppression(contacts.email_hash("old@example.com"), reason="bounced", source="ses", created_at=now).save()
    first = client.http.get("/api/suppression?limit=2", headers=admin_headers()).json_body
    assert [e["email"] for e in first["suppressions"]] == ["a@example.com", "b@example.com"]
    query = urlencode({"limit": 2, "cursor": first["next_cursor"]})
    second = client.http.get(f"/api/suppression?{query}", headers=admin_headers()).json_body
    assert [e["email"] for e in second["suppressions"]] == ["c@example.com"] and second["next_cursor"] is None
    assert client.http.get("/api/suppression?email_prefix=old", headers=admin_headers()).json_body["suppressions"] == []
    whole = client.http.get("/api/suppression?email_prefix=old%40example.com", headers=admin_headers()).json_body
    assert [(e["email"], e["reason"]) for e in whole["suppressions"]] == [("old@example.com", "bounced")]
    forged = client.http.get("/api/suppression?cursor=abc.def", headers=admin_headers())
    assert forged.status_code == 400 and forged.json_body["error"]["field"] == "cursor"


def test_an_address_an_admin_adds_is_suppressed_and_a_later_send_skips_it(client, outbox):
    campaign = create_campaign([{"email": "ada@example.com"}])
    admin = session_headers(email="boss@acme.example")
    added = _post(
        client, f"{_path(campaign.id)}/suppression", admin, {"email": " Zoe@Example.com ", "reason": "manual"}
    )
    assert added.status_code == 303
    assert added.headers["Location"].endswith("?email_prefix=zoe%40example.com&done=suppressed#suppression")
    _, html = _open(client, campaign.id, admin, {"email_prefix": "zoe@example.com", "done": "suppressed"})
    assert "zoe@example.com is now suppressed, for every campaign." in html
    assert _listed(html) == [("zoe@example.com", "manual", "from an admin (boss@acme.example)")]

    later = create_campaign([{"email": "zoe@example.com"}, {"email": "yan@example.com"}])
    campaigns.start_sending(later.id, time.time(), None, get_queue())
    drain()
    assert [str(m["To"]) for m in read_outbox(outbox)] == ["yan@example.com"]
    skipped = client.http.get(f"/api/campaigns/{later.id}/skipped", headers=admin_headers()).json_body["skipped"]
    assert [(s["email"], s["reason"]) for s in skipped] == [("zoe@example.com", "suppressed:manual")]

    again = _post(
        client, f"{_path(campaign.id)}/suppression", admin, {"email": "zoe@example.com", "reason": "complained"}
    )
    assert again.status_code == 303 and "done=already" in again.headers["Location"]
    assert suppression.reason_for("zoe@example.com") == "manual"  # the first reason is kept
    api = client.http.post(
        "/api/suppression",
        headers=admin_headers(),
        body=json.dumps({"email": "zoe@example.com", "reason": "unsubscribed"}),
    )
    assert api.status_code == 200 and api.json_body["added"] is False
    assert api.json_body["suppression"]["reason"] == "manual"
    new = client.http.post(
        "/api/suppression",
        headers=admin_headers(),
        body=json.dumps({"email": "xi@example.com", "reason": "complained"}),
    )
    assert new.status_code == 201 and new.json_body["suppression"]["source"] == "admin"


def test_a_viewer_sees_the_settings_read_only_and_every_change_is_403(client):
    campaign = create_campaign([{"email": "ada@example.com"}])
    digest_recipients.set_recipients(campaign.id, {"recipients": [LEAD]}, time.time())
    viewer = session_headers("viewer")
    status, html = _open(client, campaign.id, viewer)
    assert status == 200 and "Your role is viewer" in html and LEAD in html
    assert "Save digest recipients" not in html and "Suppress this address" not in html
    assert re.search(r'<select id="f-recipients-0-frequency"[^>]* disabled>', html)
    for action, fields in (
        ("digest", {"recipients[0].email": LEAD, "recipients[0].frequency": "daily"}),
        ("suppression", {"email": "ana@example.com", "reason": "manual"}),
    ):
        refused = _post(client, f"{_path(campaign.id)}/{action}", viewer, fields)
        assert refused.status_code == 403, action
    assert _frequencies(campaign.id) == {LEAD: ("weekly", "admin")}
    assert suppression.reason_for("ana@example.com") is None


def test_an_unknown_campaign_or_a_bad_search_is_refused_in_words(client):
    admin = session_headers()
    assert client.http.get(_path("nope"), headers=admin).status_code == 404
    campaign = create_campaign([{"email": "ada@example.com"}])
    status, html = _open(client, campaign.id, admin, {"email_prefix": "a" * 300})
    expected = client.http.get(f"/api/suppression?email_prefix={'a' * 300}", headers=admin_headers()).json_body
    assert status == 400 and _field_error(html, "f-email_prefix") == expected["error"]["message"]


def test_the_page_shows_the_list_a_page_at_a_time(client, monkeypatch):
    campaign = create_campaign([{"email": "ada@example.com"}])
    now = time.time()
    for email in ("ann@example.com", "anna@example.com", "anne@example.com", "bea@example.com"):
        suppression.suppress(email, "unsubscribed", now, source="link")
    monkeypatch.setattr(settings_pages, "SEARCH_PAGE", 2)
    admin = session_headers()
    _, html = _open(client, campaign.id, admin, {"email_prefix": "an"})
    assert [row[0] for row in _listed(html)] == ["ann@example.com", "anna@example.com"]
    following = unescape(re.search(r'<a href="([^"]+)">Next 2 addresses</a>', html).group(1))
    second = client.http.get(following, headers=admin).body.decode()
    assert [row[0] for row in _listed(second)] == ["anne@example.com"]
    assert "Next 2 addresses" not in second and "continued" in second


def test_saving_the_list_keeps_a_frequency_a_recipient_chose_while_the_page_was_open(client):
    campaign = create_campaign([{"email": "ada@example.com"}])
    digest_recipients.set_recipients(campaign.id, {"recipients": [LEAD]}, time.time())
    admin = session_headers()
    _, html = _open(client, campaign.id, admin)
    shown = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    assert shown["was-0"] == "weekly"
    link = local_path(digest_recipients.link(campaign.id, LEAD))
    page = client.http.get(link).body.decode()
    chose = client.http.post(
        link, body=urlencode({"csrf": csrf_of(page), "frequency": "monthly"}), headers=FORM_HEADERS
    )
    assert chose.status_code == 200
    form = {**{k: v for k, v in shown.items() if k != "csrf"}, "recipients[0].frequency": "weekly"}
    saved = _post(client, f"{_path(campaign.id)}/digest", admin, {**form, "recipients[1].email": CX})
    assert saved.status_code == 303
    assert _frequencies(campaign.id) == {LEAD: ("monthly", "recipient"), CX: ("weekly", "admin")}
