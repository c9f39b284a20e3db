"""The campaign builder's email and follow-up steps: saved through the admin API's use case, refused
with the API's words next to the field, locked once sent, read-only for viewers."""

from __future__ import annotations

import json
import re
import time
from html import unescape
from urllib.parse import urlencode

from chalicelib.campaigns import campaigns
from chalicelib.queue import get_queue
from tests.conftest import admin_headers
from tests.dashboard_support import FORM_HEADERS, csrf_of, fid, session_headers, shown_error
from tests.helpers import NPS_SURVEY, create_campaign

HOOK = "http://127.0.0.1:9/hook"  # the local stage calls plain http on loopback only
SLACK = "http://127.0.0.1:9/slack/T0001/B0001/XXXXXXXXXXXX"
SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"  # 24 bytes


def draft(**options) -> campaigns.CampaignView:
    body = {"name": "Q4 NPS", "survey": NPS_SURVEY, "segments": ["plan"], "options": options}
    return campaigns.create_campaign(campaigns.parse_campaign(body), time.time())


def path(campaign, step: str) -> str:
    return f"/dashboard/campaigns/{campaign.id}/edit/{step}"


def value_of(html: str, field: str) -> str | None:
    """The value an input of the page shows (or a textarea's text)."""
    found = re.search(rf'<input [^>]*id="{re.escape(fid(field))}" [^>]*value="([^"]*)"', html)
    if found is None:
        found = re.search(rf'<textarea [^>]*id="{re.escape(fid(field))}"[^>]*>(.*?)</textarea>', html, re.S)
    return unescape(found.group(1)) if found else None


def input_tag(html: str, field: str) -> str:
    return re.search(rf'<(?:input|textarea|select) [^>]*id="{re.escape(fid(field))}"[^>]*>', html).group(0)


def open_step(client, campaign, step: str, headers: dict) -> str:
    response = client.http.get(path(campaign, step), headers=headers)
    assert response.status_code == 200
    return response.body.decode()


def post_step(client, campaign, step: str, fields: dict, headers: dict):
    csrf = csrf_of(open_step(client, campaign, step, headers))
    body = urlencode({"csrf": csrf, **fields}, doseq=True)
    return client.http.post(path(campaign, step), body=body, headers={**headers, **FORM_HEADERS})


def stored(campaign) -> dict:
    return dict(campaigns.get_view(campaign.id).options)


def test_the_email_step_saves_its_options_and_keeps_those_of_the_follow_up_step(client):
    admin = session_headers()
    campaign = draft(themes={"pricing": ["price"]}, alert_emails=["cx@acme.example"], subject="Old {{ first_name }}")
    page = open_step(client, campaign, "email", admin)
    assert value_of(page, "options.subject") == "Old {{ first_name }}"
    assert "<code>plan</code>" in page  # the properties its recipients are expected to have
    fields = {
        "options.sender_name": "Ana at Acme",
        "options.reply_to": "ana@acme.example",
        "options.company": "Acme",
        "options.brand_color": "#1A56DB",
        "options.logo_url": "https://acme.example/logo.png",
        "options.subject": "",
        "options.intro": "Hi {{ first_name | default('there') }}",
        "options.reminders": "3, 7",
    }
    response = post_step(client, campaign, "email", fields, admin)
    assert (response.status_code, response.headers["Location"]) == (303, path(campaign, "email") + "?saved=1")
    assert stored(campaign) == {
        "sender_name": "Ana at Acme",
        "reply_to": "ana@acme.example",
        "company": "Acme",
        "brand_color": "#1a56db",
        "logo_url": "https://acme.example/logo.png",
        "intro": "Hi {{ first_name | default('there') }}",
        "reminders": [3, 7],
        "themes": {"pricing": ["price"]},
        "alert_emails": ["cx@acme.example"],
    }  # the emptied subject is no longer set
    saved = client.http.get(response.headers["Location"], headers=admin).body.decode()
    assert "Saved." in saved and value_of(saved, "options.reminders") == "3, 7"


def test_the_email_step_lists_the_properties_its_recipients_have(client):
    campaign = create_campaign(
        [{"email": "ada@example.com", "properties": {"first_name": "Ada", "plan": "pro"}}, {"email": "b@example.com"}],
        options={"subject": "Hi {{ first_name }}"},
    )
    page = open_step(client, campaign, "email", session_headers())
    shown = re.search(r"recipients have:(.*?)</p>", page, re.S).group(1)
    assert re.findall(r"<code>(\w+)</code>", shown) == ["first_name", "plan"]


def test_the_follow_up_step_saves_rows_keeps_secrets_and_the_email_options(client):
    admin = session_headers()
    campaign = draft(
        sender_name="Ana",
        slack_webhook_url=SLACK,
        webhooks=[{"url": HOOK, "secret": SECRET, "events": ["response.created"]}],
    )
    hook_id = campaign.options["webhooks"][0]["id"]
    page = open_step(client, campaign, "follow-up", admin)
    assert SECRET not in page and SECRET[:10] + "…" in page and SLACK not in page and SLACK[:30] + "…" in page
    fields = {
        "options.themes[0].name": "pricing",
        "options.themes[0].keywords": "price, Expensive",
        "options.themes[1].name": "",
        "options.themes[1].keywords": "",
        "options.themes[2].name": "support",
        "options.themes[2].keywords": "help desk",
        "options.ack.detractor.subject": "Sorry, {{ first_name }}",
        "options.ack.promoter.body": "Thanks! {{ review_url }}",
        "options.alert_rules[0].category": "detractor",
        "options.alert_rules[1].category": "",
        "options.alert_rules[1].theme": "pricing",
        "options.alert_rules[1].max_score": "8",
        "options.alert_emails[0]": "cx@acme.example",
        "options.alert_emails[1]": "",
        "options.webhooks[0].id": hook_id,
        "options.webhooks[0].url": HOOK,
        "options.webhooks[0].events": ["response.created", "response.updated"],
        "options.webhooks[0].secret": "",
        "options.webhooks[1].id": "",
        "options.webhooks[1].url": "http://127.0.0.1:9/other",
        "options.webhooks[1].events": ["response.updated"],
        "options.webhooks[1].secret": "",
        "options.slack_webhook_url": "",
        "options.review_url": "https://reviews.example/acme",
        "options.follow_up_name": "Sam, our support lead",
        "options.contact_within_hours": "24",
        "options.fatigue_days": "0",
    }
    response = post_step(client, campaign, "follow-up", fields, admin)
    body = response.body.decode()
    assert response.status_code == 200 and "Saved." in body
    options = stored(campaign)
    new_hook = options["webhooks"][1]
    assert new_hook["secret"] in body  # a secret made for a new endpoint is shown once
    assert options == {
        "sender_name": "Ana",
        "slack_webhook_url": SLACK,
        "themes": {"pricing": ["price", "expensive"], "support": ["help desk"]},
        "ack": {"detractor": {"subject": "Sorry, {{ first_name }}"}, "promoter": {"body": "Thanks! {{ review_url }}"}},
        "alert_rules": [{"category": "detractor"}, {"theme": "pricing", "max_score": 8}],
        "alert_emails": ["cx@acme.example"],
        "webhooks": [
            {"id": hook_id, "url": HOOK, "secret": SECRET, "events": ["response.created", "response.updated"]},
            {
                "id": new_hook["id"],
                "url": "http://127.0.0.1:9/other",
                "secret": new_hook["secret"],
                "events": ["response.updated"],
            },
        ],
        "review_url": "https://reviews.example/acme",
        "follow_up_name": "Sam, our support lead",
        "contact_within_hours": 24,
        "fatigue_days": 0,
    }
    replaced = {
        "options.webhooks[0].id": hook_id,
        "options.webhooks[0].url": HOOK,
        "options.webhooks[0].events": ["response.created"],
        "options.webhooks[0].secret": "whsec_" + "WllaWVpaWVpaWVpaWVpaWVpaWVpa",
        "slack_remove": "yes",
    }
    assert post_step(client, campaign, "follow-up", replaced, admin).status_code == 303
    options = stored(campaign)
    assert options["webhooks"] == [
        {"id": hook_id, "url": HOOK, "secret": replaced["options.webhooks[0].secret"], "events": ["response.created"]}
    ]
    assert "slack_webhook_url" not in options and "themes" not in options and options["sender_name"] == "Ana"


def test_a_refusal_is_shown_next_to_its_field_with_everything_typed_kept(client):
    admin = session_headers()
    campaign = draft(themes={"pricing": ["price"]})
    fields = {"options.sender_name": "Ana", "options.intro": "Hello there", "options.reminders": "3, soon"}
    response = post_step(client, campaign, "email", fields, admin)
    page = response.body.decode()
    assert response.status_code == 400
    assert shown_error(page, "options.reminders").startswith("Reminders are up to 3 whole numbers of days")
    assert 'aria-invalid="true"' in input_tag(page, "options.reminders")
    assert (value_of(page, "options.reminders"), value_of(page, "options.sender_name")) == ("3, soon", "Ana")
    assert value_of(page, "options.intro") == "Hello there"
    assert stored(campaign) == {"themes": {"pricing": ["price"]}}

    fields = {
        "options.themes[0].name": "",
        "options.themes[0].keywords": "",
        "options.themes[1].name": "billing",
        "options.themes[1].keywords": "invoice",
        "options.alert_emails[0]": "",
        "options.alert_emails[1]": "cx@acme.example",
        "options.alert_emails[2]": "not an address",
        "options.follow_up_name": "Sam",
    }
    response = post_step(client, campaign, "follow-up", fields, admin)
    page = response.body.decode()
    assert response.status_code == 400
    # empty rows are not sent, so the API's alert_emails[1] is the second address typed, shown second
    assert "not a valid email address" in shown_error(page, "options.alert_emails[1]")
    assert value_of(page, "options.alert_emails[1]") == "not an address"
    assert value_of(page, "options.alert_emails[0]") == "cx@acme.example"
    assert value_of(page, "options.themes[0].name") == "billing"
    assert value_of(page, "options.follow_up_name") == "Sam"
    assert stored(campaign) == {"themes": {"pricing": ["price"]}}


def test_add_a_row_shows_the_form_again_with_one_more_row_and_saves_nothing(client):
    admin = session_headers()
    campaign = draft()
    fields = {
        "options.themes[0].name": "pricing",
        "options.themes[0].keywords": "price",
        "options.themes[1].name": "support",
        "options.themes[1].keywords": "",
        "options.follow_up_name": "Sam",
        "add": "themes",
    }
    response = post_step(client, campaign, "follow-up", fields, admin)
    page = response.body.decode()
    assert response.status_code == 200 and "Saved." not in page
    assert value_of(page, "options.themes[0].keywords") == "price"
    assert value_of(page, "options.themes[1].name") == "support" and value_of(page, "options.themes[2].name") == ""
    assert value_of(page, "options.themes[3].name") is None and value_of(page, "options.follow_up_name") == "Sam"
    assert stored(campaign) == {}


def test_once_sent_only_the_correctable_options_can_change_and_the_page_says_why(client):
    admin = session_headers()
    campaign = draft(sender_name="Ana", brand_color="#112233", reminders=[3], themes={"pricing": ["price"]})
    campaigns.start_sending(campaign.id, time.time(), None, get_queue())
    page = open_step(client, campaign, "email", admin)
    assert "This campaign is sending" in page and "can no longer change" in page
    assert "disabled" in input_tag(page, "options.brand_color") and "disabled" in input_tag(page, "options.reminders")
    assert "disabled" not in input_tag(page, "options.sender_name")
    fields = {"options.sender_name": "Ana at Acme", "options.brand_color": "#000000", "options.subject": "Hi"}
    response = post_step(client, campaign, "email", fields, admin)
    assert response.status_code == 303
    assert stored(campaign) == {
        "sender_name": "Ana at Acme",
        "subject": "Hi",
        "brand_color": "#112233",
        "reminders": [3],
        "themes": {"pricing": ["price"]},
    }
    refused = post_step(client, campaign, "email", {"options.reply_to": "nobody"}, admin)
    assert refused.status_code == 400 and value_of(refused.body.decode(), "options.brand_color") == "#112233"
    cleared = post_step(client, campaign, "email", {"options.sender_name": "", "options.subject": "Hi"}, admin)
    assert cleared.status_code == 303 and stored(campaign)["sender_name"] == ""  # corrected to none
    page = open_step(client, campaign, "follow-up", admin)
    assert "disabled" in input_tag(page, "options.themes[0].name")
    assert "disabled" not in input_tag(page, "options.follow_up_name")
    assert "Add a theme" not in page
    refused = post_step(client, campaign, "follow-up", {"options.ack.detractor.subject": "{{ oops"}, admin)
    page = refused.body.decode()
    assert refused.status_code == 400 and shown_error(page, "options.ack.detractor.subject").startswith(
        "Template error"
    )
    assert value_of(page, "options.themes[0].keywords") == "price"  # what is locked is still shown as stored
    fields = {"options.follow_up_name": "Sam", "options.themes[0].name": "", "options.fatigue_days": "3"}
    assert post_step(client, campaign, "follow-up", fields, admin).status_code == 303
    options = stored(campaign)
    assert options["follow_up_name"] == "Sam" and options["themes"] == {"pricing": ["price"]}
    assert "fatigue_days" not in options


def test_a_viewer_sees_both_steps_read_only_and_cannot_change_them(client):
    viewer = session_headers("viewer")
    campaign = draft(sender_name="Ana", themes={"pricing": ["price"]})
    for step, field in (("email", "options.sender_name"), ("follow-up", "options.themes[0].keywords")):
        page = open_step(client, campaign, step, viewer)
        assert "Your role is viewer" in page and "disabled" in input_tag(page, field)
        assert "Save email and brand" not in page and "Save follow-up" not in page
        response = client.http.post(
            path(campaign, step),
            body=urlencode({"csrf": csrf_of(page), field: "changed"}),
            headers={**viewer, **FORM_HEADERS},
        )
        assert response.status_code == 403
    assert stored(campaign) == {"sender_name": "Ana", "themes": {"pricing": ["price"]}}
    missing = client.http.get("/dashboard/campaigns/nope/edit/follow-up", headers=viewer)
    assert missing.status_code == 404 and "No campaign" in missing.body.decode()


# (form fields of the step, the API's options, the field the API names): the same bad value both ways
VALID_HOOK = {"options.webhooks[0].url": HOOK, "options.webhooks[0].events": ["response.created"]}
BAD = [
    ({"options.subject": "{{ oops"}, {"subject": "{{ oops"}, "options.subject"),
    ({"options.intro": "{% set x = 1 %}"}, {"intro": "{% set x = 1 %}"}, "options.intro"),
    ({"options.company": "Acme\nBcc: x"}, {"company": "Acme\nBcc: x"}, "options.company"),
    ({"options.sender_name": "x" * 101}, {"sender_name": "x" * 101}, "options.sender_name"),
    ({"options.reply_to": "not-an-address"}, {"reply_to": "not-an-address"}, "options.reply_to"),
    ({"options.brand_color": "blue"}, {"brand_color": "blue"}, "options.brand_color"),
    ({"options.logo_url": "http://acme.example/l.png"}, {"logo_url": "http://acme.example/l.png"}, "options.logo_url"),
    ({"options.reminders": "7, 3"}, {"reminders": [7, 3]}, "options.reminders"),
    ({"options.reminders": "1,2,3,4"}, {"reminders": [1, 2, 3, 4]}, "options.reminders"),
    (
        {"options.themes[0].name": "Pricing", "options.themes[0].keywords": "price"},
        {"themes": {"Pricing": ["price"]}},
        "options.themes.Pricing",
    ),
    (
        {"options.themes[0].name": "pricing", "options.themes[0].keywords": ""},
        {"themes": {"pricing": []}},
        "options.themes.pricing",
    ),
    (
        {"options.alert_rules[0].category": "everyone"},
        {"alert_rules": [{"category": "everyone"}]},
        "options.alert_rules[0].category",
    ),
    (
        {"options.alert_rules[0].max_score": "high"},
        {"alert_rules": [{"max_score": "high"}]},
        "options.alert_rules[0].max_score",
    ),
    ({"options.alert_rules[0].property": "plan"}, {"alert_rules": [{"property": "plan"}]}, "options.alert_rules[0]"),
    (  # a rule that can never fire on any scale
        {"options.alert_rules[0].min_score": "11"},
        {"alert_rules": [{"min_score": 11}]},
        "options.alert_rules[0].min_score",
    ),
    (  # a rule that can never fire: no score is at least 9 and at most 2
        {"options.alert_rules[0].min_score": "9", "options.alert_rules[0].max_score": "2"},
        {"alert_rules": [{"min_score": 9, "max_score": 2}]},
        "options.alert_rules[0].min_score",
    ),
    (
        {"options.alert_emails[0]": "cx@acme.example", "options.alert_emails[1]": "nope"},
        {"alert_emails": ["cx@acme.example", "nope"]},
        "options.alert_emails[1]",
    ),
    (
        {"options.slack_webhook_url": "http://hooks.slack.example/x"},
        {"slack_webhook_url": "http://hooks.slack.example/x"},
        "options.slack_webhook_url",
    ),
    ({"options.review_url": "ftp://reviews.example"}, {"review_url": "ftp://reviews.example"}, "options.review_url"),
    (
        {**VALID_HOOK, "options.webhooks[0].url": "http://10.0.0.1/hook"},
        {"webhooks": [{"url": "http://10.0.0.1/hook", "events": ["response.created"]}]},
        "options.webhooks[0].url",
    ),
    (
        {"options.webhooks[0].url": HOOK},
        {"webhooks": [{"url": HOOK, "events": []}]},
        "options.webhooks[0].events",
    ),
    (
        {**VALID_HOOK, "options.webhooks[0].secret": "whsec_short"},
        {"webhooks": [{"url": HOOK, "events": ["response.created"], "secret": "whsec_short"}]},
        "options.webhooks[0].secret",
    ),
    (
        {"options.ack.detractor.subject": "{{ broken"},
        {"ack": {"detractor": {"subject": "{{ broken"}}},
        "options.ack.detractor.subject",
    ),
    (
        {"options.ack.promoter.body": "{% macro m() %}{% endmacro %}"},
        {"ack": {"promoter": {"body": "{% macro m() %}{% endmacro %}"}}},
        "options.ack.promoter.body",
    ),
    (
        {"options.ack.neutral.subject": "Line\nBreak"},
        {"ack": {"neutral": {"subject": "Line\nBreak"}}},
        "options.ack.neutral.subject",
    ),
    ({"options.follow_up_name": "x" * 101}, {"follow_up_name": "x" * 101}, "options.follow_up_name"),
    ({"options.contact_within_hours": "0"}, {"contact_within_hours": 0}, "options.contact_within_hours"),
    ({"options.contact_within_hours": "soon"}, {"contact_within_hours": "soon"}, "options.contact_within_hours"),
    ({"options.fatigue_days": "366"}, {"fatigue_days": 366}, "options.fatigue_days"),
    ({"options.fatigue_days": "a week"}, {"fatigue_days": "a week"}, "options.fatigue_days"),
    # too many rows: the message of the whole list, above its rows
    (
        {f"options.alert_emails[{i}]": f"cx{i}@acme.example" for i in range(11)},
        {"alert_emails": [f"cx{i}@acme.example" for i in range(11)]},
        "options.alert_emails",
    ),
    (
        {f"options.alert_rules[{i}].max_score": str(i) for i in range(11)},
        {"alert_rules": [{"max_score": i} for i in range(11)]},
        "options.alert_rules",
    ),
    (
        {
            k: v
            for i in range(21)
            for k, v in ((f"options.themes[{i}].name", f"t{i}"), (f"options.themes[{i}].keywords", "x"))
        },
        {"themes": {f"t{i}": ["x"] for i in range(21)}},
        "options.themes",
    ),
    (
        {f"options.webhooks[{i}].url": f"{HOOK}{i}" for i in range(6)}
        | {f"options.webhooks[{i}].events": ["response.created"] for i in range(6)},
        {"webhooks": [{"url": f"{HOOK}{i}", "events": ["response.created"]} for i in range(6)]},
        "options.webhooks",
    ),
]


# the API's message, as the form says it: a field by the label beside it, no API field name (asides that restate
# one for a JSON caller go); the API's messages themselves are unchanged
WORDED = {
    "sender_name is text of at most 100 characters.": "“Sender name” is text of at most 100 characters.",
    "The brand colour (brand_color) is a hex colour such as #1a56db.": (
        "The brand colour is a hex colour such as #1a56db."
    ),
    "The logo URL (logo_url) is an https:// address of at most 500 characters.": (
        "The logo URL is an https:// address of at most 500 characters."
    ),
    "Reminders are up to 3 whole numbers of days from 1 to 60 after the invitation, increasing, e.g. 3, 7 "
    "(reminders lists them, e.g. [3, 7]).": (
        "Reminders are up to 3 whole numbers of days from 1 to 60 after the invitation, increasing, e.g. 3, 7."
    ),
    "category is promoter, passive or detractor.": "“Category” is promoter, passive or detractor.",
    "Score at most (max_score) is a whole number.": "Score at most is a whole number.",
    "property and equals go together.": "“Property” and “Property equals” go together.",
    "This rule can never fire: scores run from 0 to 10 on every scale (min_score).": (
        "This rule can never fire: scores run from 0 to 10 on every scale."
    ),
    "This rule can never fire: no score is at least 9 (min_score) and at most 2 (max_score).": (
        "This rule can never fire: no score is at least 9 and at most 2."
    ),
    "Who follows up (follow_up_name) names who calls unhappy customers, e.g. 'Sam, our support lead'.": (
        "Who follows up names who calls unhappy customers, e.g. 'Sam, our support lead'."
    ),
    "Contact within (contact_within_hours) is a whole number of hours from 1 to 720.": (
        "Contact within is a whole number of hours from 1 to 720."
    ),
    "The fatigue window (fatigue_days) is a whole number of days from 0 to 365 (0: no window).": (
        "The fatigue window is a whole number of days from 0 to 365 (0: no window)."
    ),
    "alert_rules is a list of up to 10 rules.": "“Alert rules” is a list of up to 10 rules.",
    "themes maps up to 20 theme names to lists of keywords.": (
        "“Themes” maps up to 20 theme names to lists of keywords."
    ),
    "webhooks is a list of up to 5 endpoints.": "“Webhooks” is a list of up to 5 endpoints.",
}
# the API names a theme (options.themes.<name>) for a bad name and bad keywords alike: the form marks the input
MARKED = {"options.themes.Pricing": "options.themes[0].name", "options.themes.pricing": "options.themes[0].keywords"}


def test_one_validation_two_faces_the_api_and_the_form_refuse_the_same_value_with_the_same_message(client):
    admin = session_headers()
    campaign = draft()
    email_fields = {f"options.{key}" for key in ("sender_name", "reply_to", "company", "brand_color")} | {
        f"options.{key}" for key in ("logo_url", "subject", "intro", "reminders")
    }
    differences = []
    for form, options, field in BAD:
        api = client.http.request(
            "PATCH", f"/api/campaigns/{campaign.id}", body=json.dumps({"options": options}), headers=admin_headers()
        )
        assert api.status_code == 400, (field, api.json_body)
        error = api.json_body["error"]
        step = "email" if set(form) <= email_fields else "follow-up"
        response = post_step(client, campaign, step, form, admin)
        shown = shown_error(response.body.decode(), MARKED.get(field, field))
        expected = WORDED.get(error["message"], error["message"])
        if (error["field"], response.status_code, shown) != (field, 400, expected):
            differences.append((field, error, response.status_code, shown))
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", shown or ""), shown  # no API field name
    assert differences == []
    assert stored(campaign) == {}


def test_a_rule_that_can_never_fire_is_refused_in_words_on_both_faces(client):
    admin = session_headers()
    campaign = draft()
    rule = {"options.alert_rules[0].min_score": "9", "options.alert_rules[0].max_score": "2"}
    response = post_step(client, campaign, "follow-up", rule, admin)
    assert response.status_code == 400
    message = shown_error(response.body.decode(), "options.alert_rules[0].min_score")
    assert message.startswith("This rule can never fire: no score is at least 9")
    api = client.http.request(
        "PATCH",
        f"/api/campaigns/{campaign.id}",
        body=json.dumps({"options": {"alert_rules": [{"min_score": 9, "max_score": 2}]}}),
        headers=admin_headers(),
    )
    assert message == "This rule can never fire: no score is at least 9 and at most 2."  # the form's words
    assert (api.status_code, api.json_body["error"]["message"]) == (
        400,
        "This rule can never fire: no score is at least 9 (min_score) and at most 2 (max_score).",
    )
    assert stored(campaign) == {}


def test_both_steps_save_in_the_background_and_save_and_continue_to_the_next_step(client):
    admin = session_headers()
    campaign = draft()
    for step in ("email", "follow-up"):
        page = open_step(client, campaign, step, admin)
        assert re.search(r"<form [^>]*data-autosave", page) and 'id="autosave-status"' in page, step
        assert '<button type="submit" name="action" value="next" class="secondary">Save and continue</button>' in page
    onward = post_step(client, campaign, "email", {"options.company": "Acme", "action": "next"}, admin)
    assert (onward.status_code, onward.headers["Location"]) == (303, path(campaign, "follow-up"))
    onward = post_step(client, campaign, "follow-up", {"options.fatigue_days": "30", "action": "next"}, admin)
    assert (onward.status_code, onward.headers["Location"]) == (303, f"/dashboard/campaigns/{campaign.id}/preview")
    assert stored(campaign) == {"company": "Acme", "fatigue_days": 30}
    assert "data-autosave" not in open_step(client, campaign, "email", session_headers("viewer"))
