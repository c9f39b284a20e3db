"""Subject and body in the contact's words, the campaign's sender and brand; previews send nothing."""

from __future__ import annotations

import json

from tests.conftest import admin_headers, read_outbox
from tests.helpers import create_campaign, launch

OPTIONS = {
    "subject": "{{ first_name | default('Hello') }}, a quick question from Acme",
    "intro": "Hi {{ first_name | default('there') }}, thanks for using the {{ plan }} plan.",
    "company": "Acme",
    "sender_name": "Acme Customer Care",
    "reply_to": "care@acme.example",
    "brand_color": "#AA3300",
    "logo_url": "https://acme.example/logo.png",
}


def test_invitations_use_the_contacts_properties_with_defaults(db, outbox):
    launch(
        outbox,
        [
            {"email": "ada@example.com", "properties": {"first_name": "Ada", "plan": "pro"}},
            {"email": "anon@example.com", "properties": {"plan": "free"}},
        ],
        options=OPTIONS,
    )
    by_to = {str(m["To"]): m for m in read_outbox(outbox)}
    ada, anon = by_to["ada@example.com"], by_to["anon@example.com"]
    assert ada["Subject"] == "Ada, a quick question from Acme"
    assert anon["Subject"] == "Hello, a quick question from Acme"
    assert "Hi Ada, thanks for using the pro plan." in ada.get_body(("plain",)).get_content()
    assert "Hi there, thanks for using the free plan." in anon.get_body(("plain",)).get_content()
    assert ada["From"] == "Acme Customer Care <feedback@closeloop.localhost>"
    assert ada["Reply-To"] == "care@acme.example"
    html = ada.get_body(("html",)).get_content()
    assert "<title>Ada, a quick question from Acme</title>" in html
    assert "{{" not in html
    assert "border-top:4px solid #aa3300" in html
    assert '<img src="https://acme.example/logo.png" alt="Acme"' in html


def test_property_values_are_escaped_in_the_html_part(db, outbox):
    launch(
        outbox,
        [{"email": "x@example.com", "properties": {"first_name": "<script>alert(1)</script>"}}],
        options={"intro": "Hi {{ first_name }}"},
    )
    html = read_outbox(outbox)[0].get_body(("html",)).get_content()
    assert "<script>" not in html and "Hi &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_preview_renders_for_a_recipient_without_sending(client, outbox):
    campaign = create_campaign(
        [{"email": "ada@example.com", "properties": {"first_name": "Ada", "plan": "pro"}}], options=OPTIONS
    )
    response = client.http.post(
        f"/api/campaigns/{campaign.id}/preview", body=json.dumps({"email": "ada@example.com"}), headers=admin_headers()
    )
    assert response.status_code == 200
    preview = response.json_body
    assert preview["subject"] == "Ada, a quick question from Acme"
    assert "thanks for using the pro plan" in preview["text"]
    assert preview["from"] == "Acme Customer Care <feedback@closeloop.localhost>"
    assert "first_name" in preview["variables"]
    other = client.http.post(
        f"/api/campaigns/{campaign.id}/preview",
        body=json.dumps({"email": "new@example.com", "properties": {"first_name": "Nell"}}),
        headers=admin_headers(),
    )
    assert other.json_body["subject"] == "Nell, a quick question from Acme"
    assert read_outbox(outbox) == []
    bad = client.http.post(
        f"/api/campaigns/{campaign.id}/preview", body=json.dumps({"email": "nope"}), headers=admin_headers()
    )
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "email"
