"""Nobody who unsubscribed, bounced or complained is mailed again; nobody is asked too often."""

from __future__ import annotations

import re
import time

import pytest

import app as app_module
from chalicelib.answers import counting
from chalicelib.campaigns import campaigns
from chalicelib.core.config import get_settings
from chalicelib.queue import get_queue
from chalicelib.runtime.jobs import find_job
from tests.conftest import admin_headers, html_links, local_path, read_outbox
from tests.helpers import create_campaign, drain, launch, people, sns_event


def _send(campaign) -> None:
    campaigns.start_sending(campaign.id, time.time(), None, get_queue())
    drain()


def _stats(client, campaign_id: str) -> dict:
    find_job("apply_counts").run()
    return client.http.get(f"/api/campaigns/{campaign_id}/stats", headers=admin_headers()).json_body["stats"]


def test_every_email_carries_the_one_click_unsubscribe_headers_and_a_visible_link(db, outbox):
    sent = launch(outbox, [{"email": "a@example.com"}, {"email": "b@example.com"}], options={"reminders": [3]})
    from chalicelib.sending.delivery import dispatch

    later = time.time() + 4 * 86400
    dispatch(later, get_queue())
    drain(lambda: later)
    messages = read_outbox(outbox)
    assert len(messages) == 4  # two invitations, two reminders
    for message in messages:
        url = message["List-Unsubscribe"].strip("<>")
        assert url.startswith("http://127.0.0.1:8000/u/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert url in html_links(message)
        assert f"Unsubscribe: {url}" in message.get_body(("plain",)).get_content()
    assert sum(1 for m in messages if str(m["Subject"]).startswith("Reminder: ")) == 2
    for raw in sorted(outbox.glob("*.eml")):  # as mailbox providers read it: the plain <URL>, never RFC 2047-encoded
        header = re.search(rb"^List-Unsubscribe: (.*)$", raw.read_bytes(), re.MULTILINE).group(1)
        assert header.startswith(b"<http://127.0.0.1:8000/u/") and header.endswith(b">") and b"=?" not in header
    assert sent.campaign.id


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"),
        (
            "multipart/form-data; boundary=XyZ",
            '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n',
        ),
    ],
)
def test_the_one_click_post_unsubscribes_at_once_and_a_later_campaign_skips_them(client, outbox, content_type, body):
    sent = launch(outbox, [{"email": "ada@example.com", "properties": {"plan": "pro"}}])
    url = local_path(read_outbox(outbox)[0]["List-Unsubscribe"].strip("<>"))
    page = client.http.get(url)
    assert page.status_code == 200 and "Stop these emails?" in page.body.decode()
    assert _stats(client, sent.campaign.id)["unsubscribed"] == 0  # a GET only asks
    response = client.http.post(url, body=body, headers={"Content-Type": content_type})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.body.decode()
    assert _stats(client, sent.campaign.id)["unsubscribed"] == 1
    later = create_campaign([{"email": "ada@example.com"}, {"email": "grace@example.com"}])
    _send(later)
    assert [str(m["To"]) for m in read_outbox(outbox)[1:]] == ["grace@example.com"]
    stats = _stats(client, later.id)
    assert (stats["sent"], stats["suppressed"], stats["skipped"]) == (1, 1, {"total": 1, "reasons": {"suppressed": 1}})
    skipped = client.http.get(f"/api/campaigns/{later.id}/skipped", headers=admin_headers()).json_body["skipped"]
    assert [(s["email"], s["reason"]) for s in skipped] == [("ada@example.com", "suppressed:unsubscribed")]


def test_the_unsubscribed_page_thanks_for_answers_only_someone_who_gave_one(client, outbox):
    from tests.helpers import submit

    sent = launch(outbox, [{"email": "ada@example.com"}, {"email": "bob@example.com"}])
    assert submit(client, sent.pages["bob@example.com"], {"q_nps": "9"}).status_code == 200
    links = {str(m["To"]): local_path(m["List-Unsubscribe"].strip("<>")) for m in read_outbox(outbox)}
    form = {"body": "List-Unsubscribe=One-Click", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    silent = client.http.post(links["ada@example.com"], **form).body.decode()
    answered = client.http.post(links["bob@example.com"], **form).body.decode()
    assert "We will not send you surveys again." in silent and "answers you gave" not in silent
    assert "We will not send you surveys again. Thank you for the answers you gave us." in answered


def test_an_unsubscribe_post_without_the_one_click_body_does_nothing(client, outbox):
    launch(outbox)
    url = local_path(read_outbox(outbox)[0]["List-Unsubscribe"].strip("<>"))
    response = client.http.post(url, body="", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    later = create_campaign([{"email": "ada@example.com"}])
    _send(later)
    assert len(read_outbox(outbox)) == 1  # ada is still not unsubscribed... but was surveyed recently
    assert _stats(client, later.id)["skipped"]["reasons"] == {"fatigue": 1}


def _ses_event(kind: str, email: str, invitation_id: str, campaign_id: str, bounce_type: str = "Permanent") -> dict:
    event = {
        "eventType": kind,
        "mail": {
            "messageId": "ses-1",
            "destination": [email],
            "tags": {"invitation": [invitation_id], "campaign": [campaign_id]},
        },
    }
    if kind == "Bounce":
        event["bounce"] = {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": email}],
        }
    else:
        event["complaint"] = {"complainedRecipients": [{"emailAddress": email}]}
    return event


def test_ses_bounces_and_complaints_suppress_the_address_for_good(client, outbox, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_FATIGUE_DAYS", "0")
    sent = launch(
        outbox,
        [
            {"email": "bounce@example.com"},
            {"email": "angry@example.com"},
            {"email": "soft@example.com"},
            {"email": "fine@example.com"},
        ],
    )
    from tests.helpers import invitation_of

    def ids(email):
        return invitation_of(sent, email).id

    assert app_module.ses_events(
        sns_event(_ses_event("Bounce", "bounce@example.com", ids("bounce@example.com"), sent.campaign.id)), None
    )
    app_module.ses_events(
        sns_event(_ses_event("Complaint", "Angry@Example.com", ids("angry@example.com"), sent.campaign.id)), None
    )
    done = app_module.ses_events(
        sns_event(_ses_event("Bounce", "soft@example.com", ids("soft@example.com"), sent.campaign.id, "Transient")),
        None,
    )
    assert done == ["transient bounce ignored: General"]
    stats = _stats(client, sent.campaign.id)
    assert (stats["bounced"], stats["complained"]) == (1, 1)
    later = create_campaign(
        [{"email": e} for e in ("bounce@example.com", "angry@example.com", "soft@example.com", "fine@example.com")]
    )
    _send(later)
    assert sorted(str(m["To"]) for m in read_outbox(outbox)[4:]) == ["fine@example.com", "soft@example.com"]
    assert _stats(client, later.id)["suppressed"] == 2


def test_a_contact_is_not_surveyed_again_within_the_fatigue_window(client, outbox, monkeypatch):
    first = create_campaign(people(3))
    _send(first)
    second = create_campaign([*people(3), {"email": "new@example.com"}])
    _send(second)
    assert [str(m["To"]) for m in read_outbox(outbox)[3:]] == ["new@example.com"]
    assert _stats(client, second.id)["skipped"] == {"total": 3, "reasons": {"fatigue": 3}}
    monkeypatch.setenv("CLOSELOOP_FATIGUE_DAYS", "0")
    third = create_campaign(people(3))
    _send(third)
    assert len(read_outbox(outbox)) == 3 + 1 + 3


def test_unsubscribe_links_are_signed(client, outbox):
    launch(outbox)
    url = local_path(read_outbox(outbox)[0]["List-Unsubscribe"].strip("<>"))
    forged = re.sub(r".$", lambda m: "A" if m.group(0) != "A" else "B", url)
    response = client.http.post(
        forged, body="List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 404
    assert client.http.get(forged).status_code == 404


DAY = 86400


def test_an_unsubscribe_link_sent_late_works_a_year_later_after_a_key_rotation(db, outbox, monkeypatch):
    """An acknowledgement 179 days after the invitation, opened a year later, once a new key signs: it unsubscribes."""
    from chalicelib.answers import responses, survey_pages
    from chalicelib.campaigns import suppression
    from chalicelib.core.signing import read_invitation_token
    from chalicelib.loop.followups import acknowledge_due

    sent = launch(outbox, [{"email": "ada@example.com"}])
    settings = get_settings()
    day_179 = time.time() + 179 * DAY
    survey_token = sent.pages["ada@example.com"].rsplit("/", 1)[1]
    ref = read_invitation_token(survey_token, settings.signing_secrets, day_179)
    answer = responses.Submission({"nps": 9}, "Late but glad", "submit")
    assert responses.record(ref, sent.campaign, answer, day_179, settings).status == "recorded"
    counting.apply_pending()
    acknowledge_due(day_179 + settings.ack_delay + 1, settings)
    ack = read_outbox(outbox)[1]
    assert "Late but glad" in ack.get_body(("plain",)).get_content()
    token = ack["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    monkeypatch.setenv("CLOSELOOP_SIGNING_SECRETS", f"a-new-key,{db['CLOSELOOP_SIGNING_SECRETS']}")
    a_year_later = day_179 + 365 * DAY

    assert survey_pages.show(survey_token, None, a_year_later).status == 404  # the survey link has expired
    page = survey_pages.unsubscribe_page(token, a_year_later)
    assert page.status == 200 and "Stop these emails?" in page.body
    assert suppression.reason_for("ada@example.com") is None  # a GET only asks
    done = survey_pages.unsubscribe(
        token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded", a_year_later
    )
    assert done.status == 200 and "You are unsubscribed" in done.body
    assert suppression.reason_for("ada@example.com") == "unsubscribed"
    later = create_campaign([{"email": "ada@example.com"}, {"email": "grace@example.com"}])
    _send(later)
    assert [str(m["To"]) for m in read_outbox(outbox)[2:]] == ["grace@example.com"]


def test_the_acknowledgement_link_unsubscribes_for_400_days_and_no_longer(db, outbox, monkeypatch):
    from chalicelib.answers import survey_pages
    from chalicelib.core.signing import UNSUBSCRIBE_DAYS
    from chalicelib.loop.followups import render_ack
    from tests.helpers import invitation_of

    sent = launch(outbox)
    answered_at = time.time() + 100 * DAY
    ack = render_ack(sent.campaign, invitation_of(sent, "ada@example.com"), get_settings(), answered_at)
    token = ack["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert survey_pages.unsubscribe_page(token, answered_at + (UNSUBSCRIBE_DAYS - 1) * DAY).status == 200
    assert survey_pages.unsubscribe_page(token, answered_at + UNSUBSCRIBE_DAYS * DAY).status == 404
    assert survey_pages.show(token, None, answered_at).status == 404  # unsubscribing only: it opens no survey
    assert ack["List-Unsubscribe"].strip("<>") in ack.get_body(("plain",)).get_content()


def test_an_unsubscribe_link_sent_before_unsubscribe_tokens_keeps_working_until_its_own_expiry(db, outbox):
    """Messages already in inboxes carry the survey token in their /u/ link: honoured as before."""
    from chalicelib.answers import survey_pages
    from chalicelib.sending.invitations import token_for
    from tests.helpers import invitation_of

    sent = launch(outbox)
    invitation = invitation_of(sent, "ada@example.com")
    legacy = token_for(invitation, get_settings())
    assert survey_pages.unsubscribe_page(legacy, invitation.expires_at - 1).status == 200
    assert survey_pages.unsubscribe_page(legacy, invitation.expires_at).status == 404
    done = survey_pages.unsubscribe(legacy, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded", 0)
    assert done.status == 200 and "You are unsubscribed" in done.body


def test_a_campaigns_fatigue_days_replaces_the_global_window(client, outbox, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_FATIGUE_DAYS", "0")
    _send(create_campaign(people(2)))
    strict = create_campaign([*people(2), {"email": "new@example.com"}], options={"fatigue_days": 7})
    _send(strict)
    assert [str(m["To"]) for m in read_outbox(outbox)[2:]] == ["new@example.com"]
    assert _stats(client, strict.id)["skipped"] == {"total": 2, "reasons": {"fatigue": 2}}
    monkeypatch.setenv("CLOSELOOP_FATIGUE_DAYS", "30")
    lenient = create_campaign(people(2), options={"fatigue_days": 0})
    _send(lenient)
    assert sorted(str(m["To"]) for m in read_outbox(outbox)[3:]) == ["p0@example.com", "p1@example.com"]
