"""One definition of a deliverable message, and a failure that belongs to one invitation.

Addresses, header texts and templates are refused at entry with the reason; what still cannot
be built at send time (data accepted before these checks, a template failing for one contact)
fails that invitation alone, is counted and listed, and can be resent once corrected.
"""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.campaigns import campaigns, contacts
from chalicelib.core import personalize
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ValidationError
from chalicelib.queue import get_queue
from chalicelib.runtime.jobs import find_job
from chalicelib.sending import invitations
from chalicelib.sending.delivery import dispatch
from chalicelib.store.models import Campaign, Invitation
from tests.conftest import admin_headers, read_outbox
from tests.helpers import NPS_SURVEY, drain, launch, totals

BAD_ADDRESSES = {
    "a..b@example.com": "two periods in a row",
    "bad.@example.com": "period immediately before the @-sign",
    "zw\u200bsp@example.com": "ZERO WIDTH SPACE",
    "a\x00b@example.com": "U+0000",
    "josé@example.com": "Internationalized characters before the @-sign",
}
OTHER_BAD_ADDRESSES = {
    "a b@example.com": "SPACE",
    "tab\there@example.com": "U+0009",
    '"quoted"@example.com': "Quoting",
    "x@[192.0.2.1]": "bracketed IP address",
    "x@printer.local": "special-use",
    "x@example.com\r\nBcc: spy@evil.example": "invalid characters",
    "a" * 65 + "@example.com": "too long before the @-sign",
    "@example.com": "something before the @-sign",
    "x@exa_mple.com": "'_'",
}
CRLF_SENDER = "Acme Support\r\nBcc: spy@evil.example"
HUGE_RANGE = "{% for i in range(10**9) %}{% endfor %}Hi"
HUGE_POWER = "{{ 7**10000000 > 1 }}"


def _post(client, path: str, body) -> object:
    return client.http.post(path, body=json.dumps(body), headers=admin_headers())


def _patch(client, path: str, body) -> object:
    return client.http.patch(path, body=json.dumps(body), headers=admin_headers())


def _get(client, path: str) -> dict:
    return client.http.get(path, headers=admin_headers()).json_body


def _new_campaign(client, **extra) -> object:
    return _post(client, "/api/campaigns", {"name": "Q4", "survey": NPS_SURVEY, **extra})


# addresses


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("  grace@example.com ", "grace@example.com"),
        ("ana@münchen.example", "ana@xn--mnchen-3ya.example"),
        ("Ana@MÜNCHEN.example", "ana@xn--mnchen-3ya.example"),
        ("demo@closeloop-demo.example", "demo@closeloop-demo.example"),
        ("first.last+tag@mail.example.co.uk", "first.last+tag@mail.example.co.uk"),
    ],
)
def test_an_address_is_normalised_to_the_form_ses_is_given(raw, address):
    assert contacts.email_address(raw) == address


@pytest.mark.parametrize(("raw", "reason"), [*BAD_ADDRESSES.items(), *OTHER_BAD_ADDRESSES.items()])
def test_an_address_ses_or_mime_cannot_carry_is_refused_with_the_reason(raw, reason):
    with pytest.raises(ValidationError) as refused:
        contacts.email_address(raw, "recipients[0].email")
    assert reason in refused.value.message
    assert refused.value.field == "recipients[0].email"


@pytest.mark.parametrize("raw", [None, "", "   ", 42, "no-at-sign"])
def test_a_missing_or_shapeless_address_is_refused(raw):
    with pytest.raises(ValidationError, match="email address"):
        contacts.email_address(raw)


def test_every_bad_address_is_refused_at_json_and_csv_import_with_its_reason(client):
    campaign_id = _new_campaign(client).json_body["campaign"]["id"]
    rows = [{"email": a} for a in BAD_ADDRESSES] + [{"email": "ok@example.com"}]
    report = _post(client, f"/api/campaigns/{campaign_id}/recipients", {"recipients": rows}).json_body["import"]
    assert (report["accepted"], report["rejected"]) == (1, len(BAD_ADDRESSES))
    for row, reason in zip(report["rejected_rows"], BAD_ADDRESSES.values(), strict=True):
        assert row["field"] == f"recipients[{row['row']}].email"
        assert reason in row["message"]
    csv = "email,first_name\nok2@example.com,Ok\na..b@example.com,Bad\njosé@example.com,Jo\n"
    response = client.http.post(
        f"/api/campaigns/{campaign_id}/recipients",
        body=csv.encode(),
        headers={**admin_headers(), "Content-Type": "text/csv"},
    )
    report = response.json_body["import"]
    assert (report["accepted"], report["rejected"]) == (1, 2)
    assert [r["field"] for r in report["rejected_rows"]] == ["row[3].email", "row[4].email"]
    assert "two periods" in report["rejected_rows"][0]["message"]


def test_an_internationalised_domain_is_imported_in_its_ascii_form(client):
    body = {"recipients": [{"email": "Ana@München.example"}], "send": True}
    campaign_id = _new_campaign(client, **body).json_body["campaign"]["id"]
    drain()
    [invitation] = list(Invitation.by_campaign.query(campaign_id))
    assert Invitation.get(invitation.id).email == "ana@xn--mnchen-3ya.example"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"reply_to": "josé@example.com"}, "options.reply_to"),
        ({"reply_to": "support@example.com\r\nBcc: spy@evil.example"}, "options.reply_to"),
        ({"alert_emails": ["cx@example.com", "a..b@example.com"]}, "options.alert_emails[1]"),
    ],
)
def test_option_addresses_are_checked_by_the_same_rule(client, options, field):
    response = _new_campaign(client, options=options)
    assert response.status_code == 400
    assert response.json_body["error"]["field"] == field


def test_preview_digest_recipients_and_member_removal_use_the_same_rule(client):
    campaign_id = _new_campaign(client, kind="recurring", interval_days=90).json_body["campaign"]["id"]
    preview = _post(client, f"/api/campaigns/{campaign_id}/preview", {"email": "bad.@example.com"})
    assert preview.status_code == 400 and preview.json_body["error"]["field"] == "email"
    digest = client.http.put(
        f"/api/campaigns/{campaign_id}/digest-recipients",
        body=json.dumps({"recipients": ["cx@example.com", "zw\u200bsp@example.com"]}),
        headers=admin_headers(),
    )
    assert digest.status_code == 400
    assert digest.json_body["error"]["field"] == "recipients[1].email"
    removal = client.http.delete(f"/api/campaigns/{campaign_id}/members/a..b@example.com", headers=admin_headers())
    assert removal.status_code == 400 and "two periods" in removal.json_body["error"]["message"]
    good = _post(client, f"/api/campaigns/{campaign_id}/preview", {"email": "Ana@München.example"})
    assert good.status_code == 200


# header texts


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"options": {"sender_name": CRLF_SENDER}}, "options.sender_name"),
        ({"options": {"sender_name": "Acme\nSupport"}}, "options.sender_name"),
        ({"options": {"company": "Acme\x00Corp"}}, "options.company"),
        ({"options": {"follow_up_name": "Sam\r\nX-Evil: 1"}}, "options.follow_up_name"),
        ({"options": {"subject": "Hi\r\nBcc: spy@evil.example"}}, "options.subject"),
        ({"options": {"subject": "{{ 'Hi\\nBcc: spy@evil.example' }}"}}, "options.subject"),
        ({"options": {"ack": {"promoter": {"subject": "Thanks\u2028there"}}}}, "options.ack.promoter.subject"),
        ({"name": "Q4\r\nBcc: spy@evil.example"}, "name"),
    ],
)
def test_text_that_reaches_a_header_cannot_hold_a_line_break_or_control_character(client, body, field):
    response = _post(client, "/api/campaigns", {"name": "Q4", "survey": NPS_SURVEY, **body})
    assert response.status_code == 400
    assert response.json_body["error"]["field"] == field
    assert "line break" in response.json_body["error"]["message"] or "control" in response.json_body["error"]["message"]


def test_a_name_property_with_a_line_break_is_refused_at_import(client):
    rows = [{"email": "ada@example.com", "properties": {"first_name": "Ada\r\nBcc: spy@evil.example"}}]
    report = _new_campaign(client, recipients=rows).json_body["recipients"]
    assert report["rejected_rows"][0]["field"] == "recipients[0].properties.first_name"
    assert "line break" in report["rejected_rows"][0]["message"]


def test_an_intro_may_hold_line_breaks(client):
    response = _new_campaign(client, options={"intro": "Hello,\nwe read every answer."})
    assert response.status_code == 201


# templates


@pytest.mark.parametrize(
    "template",
    [
        HUGE_RANGE,
        HUGE_POWER,
        "{{ 10 ** 10 ** 10 ** 10 }}",
        "{{ 'x' * 10**9 }}",
        "{{ [0] * 10**9 }}",
        "{{ 'x'.ljust(10**9) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ range(1000) | join('x' * 1000) }}",
        "{{ first_name | replace('', 'y' * 1000) }}",
        "{% for i in range(1000) %}{{ 'abcdefghijklmnopqrstuvwxyz' }}{% endfor %}",
        "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
        "{% set s = 'ab' %}{% set s = s ~ s %}{{ s }}",
        "{% with s = 'ab' ~ 'ab' %}{{ s }}{% endwith %}",
        "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
        "{{ 'x' | center(10**9) }}",
        "{{ 1 / 0 }}",
        "{% for i in x %}",
        "{{ ''.__class__ }}",
        "{{ self }}",
        "{{ lipsum(10000) }}",
        "{{ namespace(a=1) }}",
    ],
)
def test_a_template_beyond_the_limits_is_refused_at_entry_with_the_field(client, template):
    response = _new_campaign(client, options={"subject": template})
    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "options.subject"


def test_the_issue_templates_are_refused_in_every_templated_option(client):
    draft = _new_campaign(client).json_body["campaign"]["id"]
    for options, field in (
        ({"subject": HUGE_RANGE}, "options.subject"),
        ({"subject": HUGE_POWER}, "options.subject"),
        ({"intro": HUGE_POWER}, "options.intro"),
        ({"ack": {"detractor": {"body": HUGE_RANGE}}}, "options.ack.detractor.body"),
    ):
        response = _patch(client, f"/api/campaigns/{draft}", {"options": options})
        assert (response.status_code, response.json_body["error"]["field"]) == (400, field)


def test_ordinary_templates_still_render():
    for template, expected in (
        ("Hi {{ first_name | default('there') }}", "Hi Ada"),
        ("{{ properties.plan | upper }} plan", "PRO plan"),
        ("{% if plan == 'pro' %}Thanks, pro{% else %}Thanks{% endif %}", "Thanks, pro"),
        ("{% for tag in tags %}{{ tag }}{% if not loop.last %}, {% endif %}{% endfor %}", "a, b"),
        ("{{ 2 ** 10 }} {{ 'ab' * 3 }}", "1024 ababab"),
    ):
        personalize.check_template(template, "options.subject")
        props = {"first_name": "Ada", "plan": "pro", "tags": ["a", "b"]}
        assert personalize.render_text(template, props, "ada@example.com") == expected


def test_a_template_failing_for_the_previewed_properties_is_a_400(client):
    options = {"subject": "{{ 100 // visits }} visits"}
    campaign_id = _new_campaign(client, options=options).json_body["campaign"]["id"]
    body = {"email": "ada@example.com", "properties": {"visits": 0}}
    response = _post(client, f"/api/campaigns/{campaign_id}/preview", body)
    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "options.subject"


# a failure belongs to one invitation


def _legacy(campaign_id: str, emails: list[str], properties: dict) -> None:
    """Invitations with addresses accepted before these checks existed (written as the old code did)."""
    view = campaigns.get_view(campaign_id)
    now = time.time()
    for email in emails:
        recipient = contacts.Recipient(email, properties)
        invitations.create(invitations.new_invitation(view, recipient, now, get_settings()))


def test_bad_addresses_among_fifty_good_ones_each_good_one_sent_once_and_stats_add_up(client, outbox):
    good = [{"email": f"good{i}@example.com", "properties": {"visits": 1 + i % 3}} for i in range(50)]
    good[7]["properties"]["visits"] = 0  # this contact's subject cannot be rendered: fails alone
    bad = [{"email": a} for a in BAD_ADDRESSES]
    body = {"recipients": good[:25] + bad + good[25:], "options": {"subject": "{{ 100 // visits }} reasons to answer"}}
    created = _new_campaign(client, **body).json_body
    campaign_id = created["campaign"]["id"]
    assert created["recipients"]["rejected"] == len(BAD_ADDRESSES)  # refused at import
    _legacy(campaign_id, list(BAD_ADDRESSES), {"visits": 1})  # and, accepted by older code, they reach the send
    assert _post(client, f"/api/campaigns/{campaign_id}/send", {}).status_code == 202
    drain()

    sent_to = [str(m["To"]) for m in read_outbox(outbox)]
    expected = sorted(g["email"] for i, g in enumerate(good) if i != 7)
    assert sorted(sent_to) == expected  # each good one exactly once, none stalled behind a bad one
    find_job("apply_counts").run()
    data = _get(client, f"/api/campaigns/{campaign_id}")
    counts = data["stats"]
    assert (counts["invited"], counts["sent"], counts["failed"]) == (55, 49, 6)
    assert counts["invited"] == counts["sent"] + counts["failed"] + counts["skipped"]["total"]
    assert counts["failed_reasons"] == {"message": 5, "template": 1}
    assert "6 invitation(s) failed" in data["status_detail"] and "resend-failed" in data["status_detail"]
    listed = _get(client, f"/api/campaigns/{campaign_id}/skipped")["skipped"]
    reasons = {row["email"]: row["reason"] for row in listed if row["state"] == "failed"}
    assert set(reasons) == {*BAD_ADDRESSES, "good7@example.com"}
    assert reasons["good7@example.com"].startswith("template:options.subject")
    assert "ZeroDivisionError" in reasons["good7@example.com"]
    assert all(reasons[a].startswith("message:") for a in BAD_ADDRESSES)

    # the admin corrects the subject of the sent campaign, then resends what failed
    locked = _patch(client, f"/api/campaigns/{campaign_id}", {"name": "Renamed", "options": {"reminders": [3]}})
    assert locked.status_code == 409
    assert "name, options.reminders can no longer change" in locked.json_body["error"]["message"]
    assert "retention_days can be corrected" in locked.json_body["error"]["message"]  # it can, any time
    fixed = _patch(client, f"/api/campaigns/{campaign_id}", {"options": {"subject": "A question from us"}})
    assert fixed.status_code == 200
    assert fixed.json_body["campaign"]["options"]["subject"] == "A question from us"
    resent = _post(client, f"/api/campaigns/{campaign_id}/resend-failed", {})
    assert resent.status_code == 202 and resent.json_body["resent"] == 6
    drain()
    sent_to = [str(m["To"]) for m in read_outbox(outbox)]
    assert sorted(sent_to) == sorted(g["email"] for g in good)  # good7 now too, still each once
    find_job("apply_counts").run()
    counts = _get(client, f"/api/campaigns/{campaign_id}")["stats"]
    assert (counts["invited"], counts["sent"], counts["failed"]) == (55, 50, 5)
    assert counts["invited"] == counts["sent"] + counts["failed"] + counts["skipped"]["total"]


def test_a_crlf_sender_name_stored_before_the_checks_fails_each_invitation_and_the_batch_finishes(client, outbox):
    rows = [{"email": f"p{i}@example.com"} for i in range(3)]
    campaign_id = _new_campaign(client, recipients=rows).json_body["campaign"]["id"]
    Campaign(campaign_id).update(actions=[Campaign.options.set({"sender_name": CRLF_SENDER})])
    campaigns.forget(campaign_id)
    preview = _post(client, f"/api/campaigns/{campaign_id}/preview", {"email": "p0@example.com"})
    assert preview.status_code == 400  # not a 500
    _post(client, f"/api/campaigns/{campaign_id}/send", {})
    drain()
    assert read_outbox(outbox) == []
    assert {i.send_state for i in Invitation.skipped.query(campaign_id)} == {"failed"}
    assert totals(campaign_id) == {"invited": 3, "failed": 3, "failed_message": 3}
    assert campaigns.get_view(campaign_id).status == "sent"
    fixed = _patch(client, f"/api/campaigns/{campaign_id}", {"options": {"sender_name": "Acme Support"}})
    assert fixed.status_code == 200
    assert _post(client, f"/api/campaigns/{campaign_id}/resend-failed", {}).json_body["resent"] == 3
    drain()
    assert sorted(str(m["From"]) for m in read_outbox(outbox)) == ["Acme Support <feedback@closeloop.localhost>"] * 3


def test_resending_is_refused_for_a_draft(client):
    campaign_id = _new_campaign(client).json_body["campaign"]["id"]
    response = _post(client, f"/api/campaigns/{campaign_id}/resend-failed", {})
    assert response.status_code == 409 and response.json_body["error"]["field"] == "status"


def test_a_reminder_that_cannot_be_built_stops_with_its_reason_and_the_others_go(client, outbox):
    people = [{"email": e, "properties": {"plan": "pro"}} for e in ("ok@example.com", "later@example.com")]
    sent = launch(outbox, people, options={"reminders": [3]})
    later = Invitation.get(invitations.invitation_id(sent.campaign.id, "later@example.com"))
    later.update(actions=[Invitation.email.set("a..b@example.com")])  # as older data could hold
    moment = time.time() + 3.1 * 86400
    dispatch(moment, get_queue())
    drain(lambda: moment)
    reminders = read_outbox(outbox)[2:]
    assert [str(m["To"]) for m in reminders] == ["ok@example.com"]
    stopped = Invitation.get(later.id, consistent_read=True)
    assert stopped.send_pk is None and stopped.send_error.startswith("reminder message:")
