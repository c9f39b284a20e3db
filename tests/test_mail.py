"""Invitation emails are real MIME messages; both backends deliver them; failures are sorted."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from chalicelib import mail
from chalicelib.mail import config as mail_config
from chalicelib.mail.file import FileMailBackend
from chalicelib.mail.message import build_message
from chalicelib.mail.ses import SesMailBackend
from tests.conftest import html_links, read_outbox
from tests.helpers import invitation_of, launch, totals


def test_the_invitation_is_multipart_alternative_with_one_click_scores(db, outbox):
    sent = launch(outbox)
    [message] = sent.messages
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == "ada@example.com" and message["Message-ID"]
    text = message.get_body(("plain",)).get_content()
    links = html_links(message)
    scores = [u for u in links if "?a=" in u]
    assert [u.rsplit("=", 1)[1] for u in scores] == [str(v) for v in range(11)]
    assert all(u in text for u in scores)
    assert "How likely are you to recommend us?" in text


def test_every_invitation_carries_a_hidden_trap_link_that_people_never_see(db, outbox):
    sent = launch(outbox)
    [message] = sent.messages
    html = message.get_body(("html",)).get_content()
    trap = [u for u in html_links(message) if u.endswith("/t")]
    assert len(trap) == 1
    tag = html[html.index(trap[0]) - 10 : html.index(trap[0]) + 300]
    assert "display:none" in tag and 'aria-hidden="true"' in tag and 'tabindex="-1"' in tag
    assert trap[0] not in message.get_body(("plain",)).get_content()


def test_campaign_text_is_escaped_in_the_email(db, outbox):
    evil = '<img src=x onerror="alert(1)">'
    survey = {"questions": [{"id": "nps", "type": "nps", "text": f"Recommend {evil}?"}]}
    sent = launch(outbox, survey=survey, options={"company": evil, "intro": evil})
    html = sent.messages[0].get_body(("html",)).get_content()
    assert evil not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_the_file_backend_writes_one_eml_per_message(tmp_path):
    backend = FileMailBackend(tmp_path / "outbox")
    message = build_message(sender="A <a@example.com>", to="b@example.com", subject="S", text="t", html="<p>h</p>")
    message_id = backend.send(message)
    [saved] = read_outbox(tmp_path / "outbox")
    assert saved["Message-ID"].strip("<>") == message_id
    assert saved.get_body(("plain",)).get_content().strip() == "t"
    assert not list((tmp_path / "outbox").glob(".*"))  # no partial files left


def test_the_ses_backend_sends_the_raw_mime_message():
    message = build_message(
        sender="Closeloop <feedback@example.com>",
        to="ada@example.com",
        subject="Hello",
        text="t",
        html="<p>h</p>",
        headers={"List-Unsubscribe": "<https://example.com/u/x>"},
    )
    with mock_aws():
        client = boto3.client("sesv2", region_name="us-east-1")
        client.create_email_identity(EmailIdentity="example.com")
        assert SesMailBackend(client).send(message)
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        [raw] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        assert b"List-Unsubscribe: <https://example.com/u/x>" in raw.raw_data.encode()
        assert set(raw.destinations) == {"ada@example.com"}


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("TooManyRequestsException", mail.MailThrottled),
        ("MessageRejected", mail.MailRejected),
        ("InternalFailure", mail.MailError),
    ],
)
def test_ses_errors_are_sorted_by_what_to_do_next(code, error):
    client = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_client_error("send_email", service_error_code=code, service_message="nope")
        message = build_message(sender="a@example.com", to="b@example.com", subject="S", text="t", html="h")
        with pytest.raises(error):
            SesMailBackend(client).send(message)


def _failing_ses(monkeypatch, code: str) -> Stubber:
    client = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_client_error("send_email", service_error_code=code, service_message="nope")
    stub.activate()
    monkeypatch.setattr(mail_config, "_build", lambda *args: SesMailBackend(client))
    return stub


def test_a_transient_failure_leaves_the_invitation_due_for_a_retry(db, outbox, monkeypatch):
    _failing_ses(monkeypatch, "TooManyRequestsException")
    sent = launch(outbox)
    invitation = invitation_of(sent, "ada@example.com")
    assert (invitation.send_state, invitation.send_pk, invitation.send_attempts) == ("pending", "send", 1)
    assert "TooManyRequests" in invitation.send_error
    attempted_at = invitation.created_at - 3600  # launch() sends as if an hour ago
    assert invitation.send_due_at >= attempted_at + 30  # backed off
    assert totals(sent.campaign.id) == {"invited": 1}


def test_a_permanent_failure_is_marked_and_not_retried(db, outbox, monkeypatch):
    _failing_ses(monkeypatch, "MessageRejected")
    sent = launch(outbox)
    invitation = invitation_of(sent, "ada@example.com")
    assert (invitation.send_state, invitation.send_pk) == ("failed", None)
    assert invitation.send_error.startswith("rejected:") and "MessageRejected" in invitation.send_error
    assert totals(sent.campaign.id) == {"invited": 1, "failed": 1, "failed_rejected": 1}


def test_the_dispatcher_retries_due_invitations_and_each_is_sent_once(db, outbox, monkeypatch):
    import time

    from chalicelib.queue import get_queue
    from chalicelib.sending.delivery import dispatch
    from tests.helpers import drain

    working = mail_config._build
    stub = _failing_ses(monkeypatch, "TooManyRequestsException")
    sent = launch(outbox)
    stub.deactivate()
    monkeypatch.setattr(mail_config, "_build", working)
    later = time.time() + 3600
    assert dispatch(later, get_queue())["send"] == 1
    assert dispatch(later, get_queue())["send"] == 0  # held while it is in flight
    drain(lambda: later)
    assert len(read_outbox(outbox)) == 1
    assert invitation_of(sent, "ada@example.com").send_state == "sent"
    assert totals(sent.campaign.id)["sent"] == 1
