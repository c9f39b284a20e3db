"""Every answer is acknowledged exactly once, at the right moment, in words that show it was read."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from bench.acknowledgements import ACKNOWLEDGED, seed_acknowledged
from chalicelib import mail
from chalicelib.answers import responses
from chalicelib.answers.counting import apply_pending
from chalicelib.core.config import get_settings
from chalicelib.core.signing import read_invitation_token
from chalicelib.loop import followups
from chalicelib.mail import config as mail_config
from chalicelib.mail.file import FileMailBackend
from chalicelib.store import raw_client, table_name
from chalicelib.store.models import Invitation
from tests.conftest import read_outbox
from tests.helpers import invitation_of, launch

HOUR = 3600
THEMES = {"pricing": ["price", "expensive"], "support": ["support", "help"]}


class FlakyOutbox(FileMailBackend):
    """The local outbox, failing a share of sends at random: a provider having a bad day."""

    def __init__(self, outbox, failure_rate: float, seed: int = 4) -> None:
        super().__init__(outbox)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.failure_rate = failure_rate
        self.failures = 0

    def send(self, message, tags=None):
        with self.lock:
            fail = self.rng.random() < self.failure_rate
            self.failures += fail
        if fail:
            raise mail.MailError("provider hiccup")
        return super().send(message, tags)


def _answer(sent, email, score, comment=None, at=None):
    token = sent.pages[email].rsplit("/", 1)[1]
    ref = read_invitation_token(token, get_settings().signing_secrets, time.time())
    answers = {"nps": score}
    submission = responses.Submission(answers, comment, "submit")
    return responses.record(ref, sent.campaign, submission, at or time.time(), get_settings())


def _acks(outbox, since_count):
    return read_outbox(outbox)[since_count:]


@pytest.mark.slow
def test_overlapping_runs_and_a_failing_provider_still_give_each_response_exactly_one_acknowledgement(
    db, outbox, monkeypatch
):
    people = [{"email": f"c{i:03d}@example.com", "properties": {"plan": "pro"}} for i in range(200)]
    sent = launch(outbox, people, sent_ago=5 * HOUR)
    answered_at = time.time() - 3 * HOUR
    for i, person in enumerate(people):
        _answer(sent, person["email"], i % 11, f"comment {i}", at=answered_at)
    apply_pending()
    invitations_sent = len(read_outbox(outbox))
    flaky = FlakyOutbox(outbox, 0.10)
    monkeypatch.setattr(mail_config, "_build", lambda *args: flaky)
    settings = get_settings()
    now = time.time()
    rounds = 0
    while Invitation.ack_due.count("ack", Invitation.ack_due_at <= now + 10 * HOUR):
        barrier = threading.Barrier(2)
        errors = []

        def run(moment=now, barrier=barrier, errors=errors):
            try:
                barrier.wait()
                followups.acknowledge_due(moment, settings)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        rounds += 1
        now += HOUR  # the next runs, after any backoff
        assert rounds < 20
    acks = _acks(outbox, invitations_sent)
    per_person = Counter(str(m["To"]) for m in acks)
    assert flaky.failures >= 10  # the provider really failed along the way
    assert len(acks) == 200 and set(per_person.values()) == {1}
    states = Counter(invitation_of(sent, p["email"]).ack_state for p in people)
    assert states == {"sent": 200}


def _meter(client, table: str):
    """The calls on `table` through the shared client: (operation, Count, ScannedCount)."""
    seen = []

    def before(params, context, **kwargs):
        context["closeloop_table"] = params.get("TableName")

    def after(http_response, parsed, model, context, **kwargs):
        if context.get("closeloop_table") == table:
            seen.append((model.name, parsed.get("Count"), parsed.get("ScannedCount")))

    client.meta.events.register("provide-client-params.dynamodb", before)
    client.meta.events.register("after-call.dynamodb", after)
    return seen


@pytest.mark.slow
def test_a_run_reads_only_the_responses_due_however_many_were_acknowledged_before(db, outbox):
    sent = launch(outbox, [{"email": f"due{i}@example.com"} for i in range(20)], sent_ago=5 * HOUR)
    for i in range(20):
        _answer(sent, f"due{i}@example.com", 9, at=time.time() - 3 * HOUR)
    apply_pending()
    # Any number shows it (a Query of anything but the sparse index scans more than the 20 due); each
    # answered item costs DynamoDB Local about 3 ms of CPU, so the bench's 2,000, not 50,000 (98 s).
    seed_acknowledged(sent.campaign.id, ACKNOWLEDGED)
    calls = _meter(raw_client(), table_name(Invitation))
    outcome = followups.acknowledge_due(time.time(), get_settings())
    assert outcome == {"sent": 20}
    queries = [c for c in calls if c[0] == "Query"]
    assert queries == [("Query", 20, 20)]  # the sparse index holds the 20 due, not the 2,020 answered
    assert not any(name == "Scan" for name, *_ in calls)
    assert len(calls) == 1 + 20 * 2  # on the invitations table: the Query, then a claim and a mark each


def test_an_edit_in_the_quiet_period_gets_one_reply_that_fits_the_final_score(db, outbox):
    sent = launch(outbox, sent_ago=5 * HOUR)
    start = time.time() - 2 * HOUR
    _answer(sent, "ada@example.com", 9, "Love it", at=start)
    apply_pending()
    settings = get_settings()
    assert followups.acknowledge_due(start + 20 * 60, settings) == {}  # still in the quiet period
    _answer(sent, "ada@example.com", 3, "Actually the price doubled", at=start + 25 * 60)
    # even before the applier moves the schedule, the claim checks the quiet period on the item itself
    assert followups.acknowledge_due(start + 40 * 60, settings) == {"busy": 1}
    apply_pending()
    assert followups.acknowledge_due(start + 40 * 60, settings) == {}
    assert followups.acknowledge_due(start + 56 * 60, settings) == {"sent": 1}
    assert followups.acknowledge_due(start + 90 * 60, settings) == {}
    [ack] = read_outbox(outbox)[1:]
    assert ack["Subject"] == "We read your feedback"  # the detractor reply, not the promoter's
    assert "Actually the price doubled" in ack.get_body(("plain",)).get_content()


def test_the_reply_quotes_the_comment_names_its_themes_and_fits_the_category(db, outbox):
    options = {
        "themes": THEMES,
        "quote_themes": True,
        "review_url": "https://reviews.example/acme",
        "company": "Acme",
        "follow_up_name": "Sam, our support lead",
        "reply_to": "cx@acme.example",
    }
    people = [
        {"email": "fan@example.com", "properties": {"first_name": "Ada"}},
        {"email": "upset@example.com", "properties": {}},
    ]
    sent = launch(outbox, people, sent_ago=5 * HOUR, options=options)
    _answer(sent, "fan@example.com", 10, "Great support, <b>fast</b> help!", at=time.time() - 3 * HOUR)
    _answer(sent, "upset@example.com", 2, "Too expensive for " + "what it does " * 30, at=time.time() - 3 * HOUR)
    apply_pending()
    followups.acknowledge_due(time.time(), get_settings())
    acks = {str(m["To"]): m for m in read_outbox(outbox)[2:]}
    fan, upset = acks["fan@example.com"], acks["upset@example.com"]
    assert fan["Subject"] == "Thank you, Ada!"
    fan_text = fan.get_body(("plain",)).get_content()
    assert "Thank you for your 10 out of 10." in fan_text
    assert "You wrote: “Great support, <b>fast</b> help!”" in fan_text
    assert "It sounds like this is about support" in fan_text
    assert "https://reviews.example/acme" in fan_text
    fan_html = fan.get_body(("html",)).get_content()
    assert "<b>fast</b>" not in fan_html and "&lt;b&gt;fast&lt;/b&gt;" in fan_html
    assert 'href="https://reviews.example/acme"' in fan_html
    assert fan["Reply-To"] == "cx@acme.example" and fan["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    upset_text = upset.get_body(("plain",)).get_content()
    assert upset["Subject"] == "We read your feedback"
    # the case's target is 48 hours after the answer, given 3 hours before this acknowledgement
    assert "Sam, our support lead will contact you personally within 45 hours." in upset_text
    assert "pricing" in upset_text and "reviews.example" not in upset_text
    quoted = upset_text.split("You wrote: “", 1)[1].split("”", 1)[0]
    assert len(quoted) <= 201 and quoted.endswith("…")
    assert invitation_of(sent, "upset@example.com").loop_status == "acknowledged"


def test_a_theme_is_named_to_the_customer_only_when_the_campaign_quotes_themes(db, outbox):
    # a keyword can misread a comment ("cost me an hour" is not about pricing): unless the campaign turns
    # quote_themes on, the customer is not told what their comment is about, in the default wording or a custom one
    options = {"themes": {"pricing": ["cost"]}, "ack": {"detractor": {"body": "About: {{ themes or 'nothing' }}."}}}
    sent = launch(outbox, [{"email": "upset@example.com", "properties": {}}], sent_ago=5 * HOUR, options=options)
    _answer(sent, "upset@example.com", 2, "The invoice page cost me an hour", at=time.time() - 3 * HOUR)
    apply_pending()
    followups.acknowledge_due(time.time(), get_settings())
    [ack] = read_outbox(outbox)[1:]
    text = ack.get_body(("plain",)).get_content()
    assert "About: nothing." in text and "pricing" not in text and "sounds like" not in text
    answer = followups.response_json(invitation_of(sent, "upset@example.com"), sent.campaign, get_settings())
    assert answer["themes"] == ["pricing"]  # the CX team still sees the theme, and the keyword that matched
    assert answer["theme_matches"] == [{"theme": "pricing", "keywords": ["cost"]}]


def test_campaign_templates_replace_the_defaults(db, outbox):
    options = {
        "ack": {
            "detractor": {
                "subject": "Sorry, {{ first_name | default('friend') }}",
                "body": "You gave us {{ score }}. We will do better.",
            }
        }
    }
    sent = launch(
        outbox, [{"email": "x@example.com", "properties": {"first_name": "Kim"}}], sent_ago=5 * HOUR, options=options
    )
    _answer(sent, "x@example.com", 4, at=time.time() - 3 * HOUR)
    apply_pending()
    followups.acknowledge_due(time.time(), get_settings())
    [ack] = read_outbox(outbox)[1:]
    assert ack["Subject"] == "Sorry, Kim"
    assert ack.get_body(("plain",)).get_content().startswith("You gave us 4. We will do better.")


def test_no_acknowledgement_for_the_unsubscribed_and_a_bounce_is_not_retried(db, outbox, monkeypatch):
    sent = launch(outbox, [{"email": "gone@example.com"}, {"email": "bounce@example.com"}], sent_ago=5 * HOUR)
    for email in ("gone@example.com", "bounce@example.com"):
        _answer(sent, email, 8, at=time.time() - 3 * HOUR)
    from chalicelib.campaigns import suppression

    suppression.unsubscribe(invitation_of(sent, "gone@example.com").id, sent.campaign.id, time.time())
    apply_pending()

    class Rejecting(FileMailBackend):
        def send(self, message, tags=None):
            raise mail.MailRejected("SES MessageRejected: address does not exist")

    monkeypatch.setattr(mail_config, "_build", lambda *args: Rejecting(outbox))
    assert followups.acknowledge_due(time.time(), get_settings()) == {"skipped": 1, "failed": 1}
    assert followups.acknowledge_due(time.time() + 10 * HOUR, get_settings()) == {}
    gone, bounce = invitation_of(sent, "gone@example.com"), invitation_of(sent, "bounce@example.com")
    assert (gone.ack_state, gone.ack_error) == ("skipped", "unsubscribed")
    assert bounce.ack_state == "failed" and "does not exist" in bounce.ack_error
    assert len(read_outbox(outbox)) == 2
