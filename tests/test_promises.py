"""The acknowledgement and the thank-you page promise only what will happen, and the page keeps the customer's words.

The wording is decided when the message is sent, by the loop as it is then: a personal call only
while the case is open, "reply to this email" only when a person reads the replies (a `reply_to`).
"""

from __future__ import annotations

import time

import pytest

from chalicelib.answers.counting import apply_pending
from chalicelib.campaigns import suppression
from chalicelib.core import i18n
from chalicelib.core.config import get_settings
from chalicelib.loop import followups
from chalicelib.web.render import render
from tests.conftest import read_outbox
from tests.helpers import invitation_of, launch, open_page, submit, totals

HOUR = 3600
PERSONALLY = "will contact you personally"
REPLY = "Just reply to this email to add anything: a person reads it."
OPTIONS = {"company": "Acme", "reply_to": "cx@acme.example", "follow_up_name": "Sam"}


def _ack_text(db, outbox, loop_status, case_due_in, options=OPTIONS) -> str:
    """The detractor's acknowledgement as it would go out now, with the loop as given."""
    sent = launch(outbox, options=options)
    invitation = invitation_of(sent, "ada@example.com")
    now = time.time()
    invitation.score, invitation.category, invitation.comment = 2, "detractor", "Too slow."
    invitation.loop_status = loop_status
    invitation.case_due_at = None if case_due_in is None else now + case_due_in
    message = followups.render_ack(sent.campaign, invitation, get_settings(), now)
    return message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("loop_status", "case_due_in", "promise"),
    [
        ("new", 48 * HOUR, "Sam will contact you personally within 48 hours."),
        ("acknowledged", 10 * HOUR - 60, "Sam will contact you personally within 10 hours."),
        ("new", -HOUR, "Sam will contact you personally as soon as possible."),
        ("contacted", None, "Thank you for talking with us about it."),
        ("resolved", None, "Thank you for your patience while we sorted it out."),
    ],
)
def test_the_acknowledgement_says_what_the_loop_will_do(db, outbox, loop_status, case_due_in, promise):
    text = _ack_text(db, outbox, loop_status, case_due_in)
    assert promise in text
    if loop_status in ("contacted", "resolved"):
        assert PERSONALLY not in text
    assert REPLY in text


def test_a_campaigns_own_message_is_not_followed_by_the_built_in_promise_in_any_language(db, outbox):
    """The CX lead's "We will call you within a day." was followed by "Sam will contact you personally within
    24 hours.": their message takes the built-in promise's place, in the text and HTML parts, in every language
    (here each with its own translation of the message); without a message of their own the promise stays."""
    own = {"detractor": {"subject": "About your answer", "body": "We will call you within a day."}}
    questions = {"nps": {"text": "NPS?"}, "reason": {"text": "Why?", "options": ["P", "S", "D"]}}
    for ack, promised in ((own, False), ({}, True)):
        translations = {
            locale: {"questions": questions}
            | (
                {"ack": {"detractor": {"subject": "?", "body": f"[{locale}] We will call you within a day."}}}
                if ack
                else {}
            )
            for locale in i18n.LANGUAGES
            if locale != "en"
        }
        people = [
            {"email": f"{locale.lower()}.{promised:d}@example.com", "properties": {"locale": locale}}
            for locale in i18n.LANGUAGES
        ]
        sent = launch(outbox, people, options={**OPTIONS, "ack": ack, "translations": translations})
        now = time.time()
        for locale in i18n.LANGUAGES:
            invitation = invitation_of(sent, f"{locale.lower()}.{promised:d}@example.com")
            invitation.score, invitation.category, invitation.case_due_at = 2, "detractor", now + 24 * HOUR
            message = followups.render_ack(sent.campaign, invitation, get_settings(), now)
            text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
            assert ("Sam" in text, "<strong>Sam</strong>" in html) == (promised, promised), (locale, text)
            assert ("We will call you within a day." in text) is not promised


def test_no_personal_call_is_promised_when_no_case_was_opened(db, outbox):
    text = _ack_text(db, outbox, "new", None)
    assert PERSONALLY not in text and "Thank you for" in text


def test_without_a_reply_to_nobody_asks_for_a_reply(db, outbox):
    text = _ack_text(db, outbox, "new", 48 * HOUR, options={"company": "Acme", "follow_up_name": "Sam"})
    assert REPLY not in text and "reply" not in text.lower().split("--")[0]


def test_an_unsubscribed_customer_gets_no_acknowledgement_and_no_promise_of_one(client, outbox):
    people = [{"email": "ada@example.com", "properties": {}}, {"email": "bob@example.com", "properties": {}}]
    sent = launch(outbox, people, options=OPTIONS)
    ada = invitation_of(sent, "ada@example.com")
    assert suppression.unsubscribe(ada.id, sent.campaign.id, time.time())

    left = submit(client, sent.pages["ada@example.com"], {"q_nps": "3", "comment": "Still slow."}).body.decode()
    stayed = submit(client, sent.pages["bob@example.com"], {"q_nps": "3"}).body.decode()

    assert "Your answer is saved." in left and "get back to you" not in left
    assert "A person at Acme will read it, and we will get back to you." in stayed
    apply_pending()
    before = len(read_outbox(outbox))
    settings = get_settings()
    assert followups.acknowledge_due(time.time() + settings.ack_delay + 1, settings) == {"skipped": 1, "sent": 1}
    assert [str(m["To"]) for m in read_outbox(outbox)[before:]] == ["bob@example.com"]


def test_an_unsubscribed_customer_repeating_an_answer_in_a_scanner_window_gets_no_promise(client, outbox):
    """A repeat of what is recorded, after a scanner fetched the hidden link, is answered from the item as it is."""
    sent = launch(outbox, options=OPTIONS)
    ada = invitation_of(sent, "ada@example.com")
    assert suppression.unsubscribe(ada.id, sent.campaign.id, time.time())
    first = submit(client, sent.pages["ada@example.com"], {"q_nps": "4"}).body.decode()
    assert open_page(client, sent.pages["ada@example.com"] + "/t")[0] == 200  # the trap: a scanner window opens

    again = submit(client, sent.pages["ada@example.com"], {"q_nps": "4"}).body.decode()

    assert "Your answer is saved." in first and "Your answer is saved." in again
    assert "get back to you" not in first and "get back to you" not in again


def test_without_a_reply_to_the_thank_you_page_promises_no_reply(client, outbox):
    sent = launch(outbox, options={"company": "Acme"})
    page = submit(client, sent.pages["ada@example.com"], {"q_nps": "9"}).body.decode()
    assert "A person at Acme will read it." in page and "get back to you" not in page


TEXT_SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
        {"id": "better", "type": "text", "text": "What should we improve?"},
    ]
}


def test_a_survey_with_a_text_question_has_one_free_text_box_and_it_is_the_comment(client, outbox):
    sent = launch(outbox, survey=TEXT_SURVEY)
    path = sent.pages["ada@example.com"]
    status, body = open_page(client, path + "?a=6")
    assert status == 200 and body.count("<textarea") == 1 and 'dir="auto"' in body
    assert submit(client, path, {"q_nps": "6", "q_better": "Faster exports"}).status_code == 200
    invitation = invitation_of(sent, "ada@example.com")
    assert invitation.answers.as_dict() == {"nps": 6, "better": "Faster exports"}
    assert invitation.comment == "Faster exports"


def test_change_your_answer_shows_what_is_stored_and_an_emptied_field_is_cleared(client, outbox):
    survey = {
        "questions": [
            {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
            {"id": "uses", "type": "multi_choice", "text": "What do you use?", "options": ["Reports", "Alerts"]},
        ]
    }
    sent = launch(outbox, survey=survey)
    path = sent.pages["ada@example.com"]
    submit(client, path, {"q_nps": "4", "q_uses": ["Alerts"], "comment": "Slow <exports>"})
    assert totals(sent.campaign.id).get("comments") == 1

    status, body = open_page(client, path)  # the "Change your answer" link
    assert status == 200
    assert 'value="4" checked' in body and 'value="Alerts" checked' in body and 'value="Reports" checked' not in body
    assert "Slow &lt;exports&gt;</textarea>" in body and 'name="edit" value="1"' in body
    assert "Your answer is saved." in body

    page = submit(client, path, {"q_nps": "5", "edit": "1", "comment": ""}).body.decode()
    invitation = invitation_of(sent, "ada@example.com")
    assert (invitation.answers.as_dict(), invitation.comment) == ({"nps": 5}, None)
    assert "Slow" not in page and "Alerts" not in page.split("<dl>")[1]
    assert totals(sent.campaign.id).get("comments", 0) == 0  # the counters follow what was cleared
    # a clicked score alone (no `edit`) keeps everything else, as before
    submit(client, path, {"q_nps": "7", "comment": "Better now"})
    submit(client, path, {"q_nps": "8"})
    invitation = invitation_of(sent, "ada@example.com")
    assert (invitation.score, invitation.comment) == (8, "Better now")


@pytest.mark.parametrize("reply", [True, False])
def test_the_plain_text_acknowledgement_keeps_each_sentence_on_its_own_line(reply):
    """A translated sentence used to swallow its line break, running the company's name into it."""

    class Campaign:
        company = "ACME"

    text = render(
        "email/ack.txt",
        "en",
        body_text="Thanks for your answer.",
        excerpt="too slow",
        themes="",
        review_url="",
        follow_up="Dana",
        within_hours=48,
        loop="",
        reply=reply,
        campaign=Campaign(),
        unsubscribe="https://example.com/u/t",
    )
    assert "You wrote: “too slow”\n\nDana will contact you personally within 48 hours.\n" in text
    assert "\nACME\n" in text
