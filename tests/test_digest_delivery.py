"""Sending digests exactly once, the recipient list in the admin API, and each recipient's own choice."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import pytest

from chalicelib.answers import counting
from chalicelib.campaigns import suppression
from chalicelib.insight import digest, digest_recipients
from chalicelib.mail import config as mail_config
from chalicelib.mail.exceptions import MailError
from chalicelib.mail.file import FileMailBackend
from chalicelib.runtime.jobs import scheduled_jobs
from chalicelib.sending import ledger
from chalicelib.store.models import DigestSubscription
from tests.conftest import admin_headers, read_outbox
from tests.helpers import FORM_HEADERS, cli, create_campaign, csrf_of, launch, submit

MONDAY_8 = datetime(2026, 11, 23, 8, 5, tzinfo=UTC).timestamp()  # campaigns here are in UTC
HOUR = 3600


def digests(outbox) -> list:
    return [m for m in read_outbox(outbox) if str(m["To"]).endswith("@acme.example")]


def put_recipients(client, campaign_id: str, recipients: list) -> object:
    return client.http.put(
        f"/api/campaigns/{campaign_id}/digest-recipients",
        headers=admin_headers(),
        body=json.dumps({"recipients": recipients}),
    )


class Crash(BaseException):
    """The Lambda dies: no handler in the product catches this."""


class FlakyMailer(FileMailBackend):
    """The outbox, except for the addresses listed: MailError (SES down) or a crash of the whole run."""

    def __init__(self, outbox, fail: dict[str, type[BaseException]]) -> None:
        super().__init__(outbox)
        self.fail = fail

    def send(self, message, tags=None) -> str:
        failure = self.fail.get(str(message["To"]))
        if failure is not None:
            raise failure("SES unreachable")
        return super().send(message, tags)


@pytest.fixture
def campaign(client, outbox):
    # first sent two weeks before the digests of Monday 23 November: their week is after the first send
    first_send = MONDAY_8 - 14 * 86400
    sent = launch(
        outbox, [{"email": "ada@example.com", "properties": {"plan": "pro"}}], sent_ago=time.time() - first_send
    )
    return sent.campaign


def test_the_schedule_runs_hourly_and_the_job_runs_on_demand(db):
    job = scheduled_jobs()["send_digests"]
    assert job.every_seconds == HOUR
    assert isinstance(job.run(), dict)


def test_an_operator_previews_this_weeks_digest_from_the_cli(client, db, outbox):
    sent = launch(outbox)
    assert submit(client, next(iter(sent.pages.values())), {"q_nps": "3", "comment": "Too slow"}).status_code == 200
    counting.apply_pending()  # the apply_counts schedule, every minute
    result = cli("digest-preview", "--campaign", sent.campaign.id, "--so-far", env=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Subject: Test, week ")
    assert "NPS -100 (95% interval -100 to +49, 1 answer)" in result.stdout
    # first sent an hour ago: this week is the campaign's first (unless a Monday midnight came between)
    assert re.search(r"Responses: 1 \((nothing to compare: the campaign's first week|up 1 on week )", result.stdout)
    assert "from ada@example.com" in result.stdout and '"Too slow"' in result.stdout


def test_a_mail_error_is_retried_by_the_next_hourly_run_and_nothing_is_sent_twice(
    client, outbox, campaign, monkeypatch
):
    assert put_recipients(client, campaign.id, ["cx@acme.example", "lead@acme.example"]).status_code == 200
    flaky = FlakyMailer(outbox, {"lead@acme.example": MailError})
    monkeypatch.setattr(mail_config, "_build", lambda *args: flaky)
    assert digest.send_due(MONDAY_8) == {"sent": 1, "retry": 1}
    flaky.fail = {}
    assert digest.send_due(MONDAY_8 + 10) == {"already_claimed": 2}  # the backoff (about 30 s) has not passed
    assert digest.send_due(MONDAY_8 + HOUR) == {"already_claimed": 1, "sent": 1}
    assert sorted(str(m["To"]) for m in digests(outbox)) == ["cx@acme.example", "lead@acme.example"]
    assert ledger.get(f"digest#{campaign.id}#lead@acme.example#W#2026-W47").attempts == 2


def test_a_run_that_dies_midway_leaves_a_lease_and_a_later_run_sends_the_rest(client, outbox, campaign, monkeypatch):
    assert (
        put_recipients(client, campaign.id, ["a@acme.example", "b@acme.example", "c@acme.example"]).status_code == 200
    )
    flaky = FlakyMailer(outbox, {"b@acme.example": Crash})
    monkeypatch.setattr(mail_config, "_build", lambda *args: flaky)
    with pytest.raises(Crash):
        digest.send_due(MONDAY_8)
    assert [str(m["To"]) for m in digests(outbox)] == ["a@acme.example"]
    flaky.fail = {}
    # a second delivery of the same event a minute later: b is still leased to the dead run
    assert digest.send_due(MONDAY_8 + 60) == {"already_claimed": 2, "sent": 1}
    # the 09:00 run: the lease ran out, b is sent; nobody gets a second copy
    assert digest.send_due(MONDAY_8 + HOUR) == {"already_claimed": 2, "sent": 1}
    assert sorted(str(m["To"]) for m in digests(outbox)) == ["a@acme.example", "b@acme.example", "c@acme.example"]
    assert digest.send_due(MONDAY_8 + 4 * HOUR) == {}  # after noon nothing is due any more


def test_an_address_that_bounced_or_complained_gets_no_digest(client, outbox, campaign):
    assert put_recipients(client, campaign.id, ["cx@acme.example", "old@acme.example"]).status_code == 200
    suppression.suppress("old@acme.example", "bounced", MONDAY_8 - HOUR, source="ses")
    assert digest.send_due(MONDAY_8) == {"sent": 1, "suppressed": 1}
    assert digest.send_due(MONDAY_8 + HOUR) == {"already_claimed": 2}
    assert [str(m["To"]) for m in digests(outbox)] == ["cx@acme.example"]
    assert ledger.get(f"digest#{campaign.id}#old@acme.example#W#2026-W47").last_error == "suppressed: bounced"


def test_nothing_is_sent_outside_the_morning_or_for_a_draft_campaign(client, outbox, campaign):
    draft = create_campaign([{"email": "bob@example.com"}])
    for campaign_id in (campaign.id, draft.id):
        assert put_recipients(client, campaign_id, ["cx@acme.example"]).status_code == 200
    assert digest.send_due(MONDAY_8 - HOUR) == {}  # 07:05
    assert digest.send_due(MONDAY_8 + 24 * HOUR) == {}  # Tuesday
    assert digest.send_due(MONDAY_8) == {"sent": 1}
    assert [m["Subject"] for m in digests(outbox)] == ["Test, week 47: no answers, so no NPS"]


def test_the_recipient_list_is_managed_through_the_admin_api(client, campaign):
    path = f"/api/campaigns/{campaign.id}/digest-recipients"
    bad = put_recipients(client, campaign.id, ["cx@acme.example", "not an address"])
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "recipients[1].email"
    bad = put_recipients(client, campaign.id, [{"email": "cx@acme.example", "frequency": "hourly"}])
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "recipients[0].frequency"
    missing = put_recipients(client, "nope", ["cx@acme.example"])
    assert missing.status_code == 404
    unauthenticated = client.http.get(path)
    assert unauthenticated.status_code == 401

    put = put_recipients(client, campaign.id, ["CX@Acme.example", {"email": "lead@acme.example", "frequency": "daily"}])
    assert [(r["email"], r["frequency"]) for r in put.json_body["recipients"]] == [
        ("cx@acme.example", "weekly"),
        ("lead@acme.example", "daily"),
    ]
    # lead stops it through the link in a digest; an admin sending the list again does not restart it
    link = digest_recipients.link(campaign.id, "lead@acme.example")
    client.http.post(link.replace("http://127.0.0.1:8000", ""), body="List-Unsubscribe=One-Click", headers=FORM_HEADERS)
    again = put_recipients(
        client, campaign.id, [{"email": "lead@acme.example", "frequency": "weekly"}, "new@acme.example"]
    )
    assert [(r["email"], r["frequency"], r["stopped_by"]) for r in again.json_body["recipients"]] == [
        ("lead@acme.example", "stopped", "recipient"),
        ("new@acme.example", "weekly", None),
    ]
    listed = client.http.get(path, headers=admin_headers()).json_body["recipients"]
    assert [r["email"] for r in listed] == ["lead@acme.example", "new@acme.example"]
    # left out, cx is removed; lead, who stopped it themselves, stays listed as stopped
    final = put_recipients(client, campaign.id, [])
    assert [(r["email"], r["frequency"]) for r in final.json_body["recipients"]] == [("lead@acme.example", "stopped")]


def test_a_recipient_changes_how_often_on_the_page_behind_the_link(client, campaign):
    assert put_recipients(client, campaign.id, ["cx@acme.example"]).status_code == 200
    path = digest_recipients.link(campaign.id, "cx@acme.example").replace("http://127.0.0.1:8000", "")
    page = client.http.get(path)
    body = page.body.decode()
    assert page.status_code == 200 and 'value="weekly" checked' in body and "Sent to cx@acme.example" in body
    assert page.headers["Cache-Control"] == "no-store"
    # a GET changes nothing (scanners open links), a form without its CSRF token changes nothing
    forged = client.http.post(path, body="frequency=stopped&csrf=nope", headers=FORM_HEADERS)
    assert forged.status_code == 403
    assert DigestSubscription.get(campaign.id, "cx@acme.example").frequency == "weekly"
    saved = client.http.post(path, body=f"frequency=monthly&csrf={csrf_of(body)}", headers=FORM_HEADERS)
    assert saved.status_code == 200 and "Saved: monthly, on the first of the month." in saved.body.decode()
    assert 'value="monthly" checked' in saved.body.decode()
    assert DigestSubscription.get(campaign.id, "cx@acme.example").frequency == "monthly"
    assert digest.send_due(MONDAY_8) == {}  # a monthly digest waits for the 1st
    first_of_december = datetime(2026, 12, 1, 8, 30, tzinfo=UTC).timestamp()
    assert digest.send_due(first_of_december) == {"sent": 1}


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
def test_the_one_click_post_stops_the_digest_at_once(client, outbox, campaign, content_type, body):
    assert put_recipients(client, campaign.id, ["cx@acme.example", "lead@acme.example"]).status_code == 200
    digest.send_due(MONDAY_8 - 7 * 24 * HOUR)  # last Monday's digest carries the headers
    (message, _) = sorted(digests(outbox), key=lambda m: str(m["To"]))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    target = message["List-Unsubscribe"].strip("<>").replace("http://127.0.0.1:8000", "")
    stopped = client.http.post(target, body=body, headers={"Content-Type": content_type})
    assert stopped.status_code == 200 and "Done: you will get no more digests." in stopped.body.decode()
    assert DigestSubscription.get(campaign.id, "cx@acme.example").stopped_by == "recipient"
    assert digest.send_due(MONDAY_8) == {"sent": 1}
    assert [str(m["To"]) for m in digests(outbox)].count("cx@acme.example") == 1


def test_a_forged_or_foreign_link_finds_nothing(client, campaign):
    good = digest_recipients.link(campaign.id, "cx@acme.example").replace("http://127.0.0.1:8000", "")
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert client.http.get(forged).status_code == 404
    assert client.http.post(forged, body="List-Unsubscribe=One-Click", headers=FORM_HEADERS).status_code == 404
    # a genuine link for someone an admin removed from the list: the page says so and changes nothing
    page = client.http.get(good)
    assert "cx@acme.example is not on this digest's list" in page.body.decode()
    gone = client.http.post(good, body="List-Unsubscribe=One-Click", headers=FORM_HEADERS)
    assert gone.status_code == 404
    assert list(DigestSubscription.query(campaign.id)) == []


def test_no_digest_covers_a_period_before_the_first_send(client, outbox):
    # first sent on Wednesday 25 November: the weekly digest of Monday 23 November (week 47) is not sent,
    # the daily one of Thursday 26 November (covering the day of the first send) is, its trend from week 48
    first_send = datetime(2026, 11, 25, 10, 0, tzinfo=UTC).timestamp()
    sent = launch(outbox, [{"email": "ada@example.com"}], sent_ago=time.time() - first_send)
    put_recipients(client, sent.campaign.id, ["cx@acme.example", {"email": "lead@acme.example", "frequency": "daily"}])
    counting.apply_pending()
    assert digest.send_due(MONDAY_8) == {}
    assert digest.send_due(MONDAY_8 + 2 * 86400) == {}  # Wednesday: yesterday was before the first send
    assert digest.send_due(MONDAY_8 + 3 * 86400) == {"sent": 1}
    [daily] = digests(outbox)
    text = daily.get_body(("plain",)).get_content()
    assert "NPS, last 1 week:\n  W48 (up to Wed 25 Nov): no answers" in text  # the week up to the day covered
    assert "Invitations sent: 1 (nothing to compare: the campaign's first day)" in text
