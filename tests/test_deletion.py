"""Deleting a person: nothing about them stays in any table, counters equal a recomputation, and the address
is never mailed again."""

from __future__ import annotations

import itertools
import json
import time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.answers import counting, responses
from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.core.config import get_settings
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.signing import InvitationRef
from chalicelib.insight import digest_recipients, rebuild, stats
from chalicelib.loop import followups
from chalicelib.privacy import deletion
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from chalicelib.sending.invitations import invitation_id
from chalicelib.store import raw_client
from chalicelib.store.models import MODELS, DashboardUser, Deletion, Invitation, Member
from tests.conftest import admin_headers, local_path, read_outbox
from tests.helpers import FORM_HEADERS, cli, drain, launch

T0 = 1_794_787_200  # Monday 2026-11-16 00:00 UTC
SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
        {"id": "reason", "type": "single_choice", "text": "Why?", "options": ["Price", "Support"]},
    ]
}
PEOPLE = (("pro", "eu"), ("free", "eu"), ("free", "us"), ("pro", "us"))
OPTIONS = {"themes": {"pricing": ["expensive"]}, "alert_emails": ["cx@example.com"]}
_emails = itertools.count()


def start_campaign(emails: list[str], sent_at: float = T0, **extra) -> campaigns.CampaignView:
    """A campaign with segments plan and region, sent at `sent_at` to `emails`."""
    body = {"name": "Deletion", "survey": SURVEY, "segments": ["plan", "region"], "options": OPTIONS, **extra}
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), sent_at)
    rows = [
        {"email": e, "properties": {"plan": PEOPLE[i % 4][0], "region": PEOPLE[i % 4][1]}} for i, e in enumerate(emails)
    ]
    imports.start(campaign, list(enumerate(rows)), "recipients", sent_at, get_settings(), get_queue())
    campaigns.start_sending(campaign.id, sent_at, None, get_queue())
    drain(lambda: sent_at)
    return campaigns.get_view(campaign.id)


def fresh(n: int) -> list[str]:
    return [f"del{next(_emails)}@example.com" for _ in range(n)]


def answer(campaign, email: str, score: int, comment: str | None, now: float) -> str:
    ref = InvitationRef(campaign.id, invitation_id(campaign.id, email), 2**40)
    submission = responses.Submission({"nps": score, "reason": "Price"}, comment, "submit")
    return responses.record(ref, campaign, submission, now, get_settings()).status


def every_item() -> str:
    """Every item of every table as JSON text (a test may scan; product code never does)."""
    client, texts = raw_client(), []
    for model in MODELS:
        for page in client.get_paginator("scan").paginate(TableName=model.Meta.table_name):
            texts += [json.dumps(item, default=str) for item in page["Items"]]
    return "\n".join(texts)


def assert_counters_equal_a_recomputation(campaign) -> None:
    rebuild.apply_all()
    report = rebuild.check(campaign, lambda _line: None)
    assert (report.differences, report.outdated, report.moved, report.pending) == ([], [], [], 0)


# --- The property --------------------------------------------------------------------------------

COMMENTS = st.sampled_from([None, "", "too expensive", "great"])
GAPS = st.sampled_from([3, 3600, 2 * 86_400])  # within the scanner window (held), or later
STEPS = st.one_of(
    st.tuples(st.just("answer"), st.integers(0, 3), st.integers(0, 10), COMMENTS, GAPS),
    st.tuples(st.just("loop"), st.integers(0, 3), st.sampled_from(followups.LOOP_STATUSES), GAPS),
    st.tuples(st.just("unsubscribe"), st.integers(0, 3), GAPS),
    st.tuples(st.just("apply")),
)


@pytest.mark.slow
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(steps=st.lists(STEPS, min_size=1, max_size=10), deleted=st.sets(st.integers(0, 3), min_size=1, max_size=3))
def test_a_deleted_person_leaves_no_trace_and_counters_equal_a_recomputation(db, steps, deleted):
    emails = fresh(4)
    campaign = start_campaign(emails)
    now = T0 + 2.0
    for step in steps:
        if step[0] == "apply":
            counting.apply_pending()
            drain(lambda at=now: at)  # alerts of detractors: ledger items keyed by the invitation's events
            continue
        kind, who, *args, gap = step
        now += gap
        email = emails[who]
        if kind == "answer":
            answer(campaign, email, args[0], args[1], now)
        elif kind == "loop":
            invitation = Invitation.get(invitation_id(campaign.id, email), consistent_read=True)
            reopens_an_open_case = args[0] == followups.REOPEN and invitation.loop_status != "resolved"
            if invitation.answered_at is not None and not reopens_an_open_case:
                followups.set_loop_status(invitation.id, {"status": args[0], "note": "called them"}, "cx", now)
        else:
            suppression.unsubscribe(invitation_id(campaign.id, email), campaign.id, now)
    gone = [emails[i] for i in sorted(deleted)]
    gone_ids = [invitation_id(campaign.id, e) for e in gone]
    for email in gone:
        report = deletion.delete_person(email, actor="privacy@example.com", now=now + 60)
        assert report.items["invitations"] == 1 and report.items["contacts"] == 1

    text = every_item()
    for email, gone_id in zip(gone, gone_ids, strict=True):
        assert email not in text and gone_id not in text
        assert suppression.reason_for(email) == "deleted"
    assert_counters_equal_a_recomputation(campaign)
    assert stats.totals(campaign.id)["invited"] == 4 - len(gone)

    (keeper,) = fresh(1)
    again = start_campaign([*gone, keeper], sent_at=now + 86_400, options={})
    sent = {i.email: i for i in map(Invitation.get, (invitation_id(again.id, e) for e in [*gone, keeper]))}
    assert sent[keeper].send_state == "sent"
    assert {sent[e].send_error for e in gone} == {"suppressed:deleted"}


# --- Focused ---------------------------------------------------------------------------------------


def test_everything_about_a_person_goes_member_digest_recipient_and_dashboard_user(client):
    keep, gone = fresh(2)
    recurring = start_campaign([keep, gone], kind="recurring", interval_days=30)
    assert Member.get(recurring.id, gone)
    digest_recipients.set_recipients(recurring.id, {"recipients": [{"email": gone}, {"email": keep}]}, T0)
    DashboardUser("team", gone, role="viewer", created_at=T0, updated_at=T0).save()
    assert answer(recurring, gone, 2, "too expensive", T0 + 3600) == "recorded"
    counting.apply_pending()
    drain(lambda: T0 + 3600)

    # through the admin API, as a privacy request arrives: the API's function holds every grant it takes
    response = client.http.delete(f"/api/people/{quote(gone.upper(), safe='')}", headers=admin_headers())
    assert response.status_code == 200
    report = json.loads(response.body)["deletion"]

    assert report["items"] == {
        "contacts": 1,
        "invitations": 1,
        "deliveries": 1,  # the detractor's alert to cx@example.com
        "members": 1,
        "digest-subscriptions": 1,
        "dashboard-users": 1,
        "suppressions": 1,
    }
    assert gone not in every_item()
    assert keep in every_item()
    record = Deletion.get(report["id"])
    assert (record.actor, record.created_at, record.found, record.items.as_dict()) == (
        "configured token",
        report["deleted_at"],
        1,
        report["items"],
    )
    assert_counters_equal_a_recomputation(recurring)


def test_an_unsubscribed_person_keeps_only_the_hash_and_drops_out_of_the_suppression_search(db):
    (gone,) = fresh(1)
    campaign = start_campaign([gone])
    suppression.unsubscribe(invitation_id(campaign.id, gone), campaign.id, T0 + 60)
    assert [e.email for e in suppression.search(gone, 10)[0]] == [gone]

    report = deletion.delete_person(gone, actor="cx", now=T0 + 120)

    assert report.found and report.items["suppressions"] == 1
    assert suppression.search(gone.split("@")[0], 10)[0] == []
    assert suppression.find(gone).reason == "deleted"


def test_an_unknown_address_is_not_found_but_suppressed_and_recorded(db):
    with pytest.raises(NotFound) as raised:
        deletion.delete_person("nobody@example.com", actor="cx", now=T0)
    assert raised.value.field == "email" and "never mailed" in raised.value.message
    assert suppression.reason_for("nobody@example.com") == "deleted"
    assert "nobody@example.com" not in every_item()
    (record,) = Deletion.scan()
    assert record.found == 0 and record.items.as_dict()["suppressions"] == 1


def test_the_last_dashboard_admin_is_refused_before_anything_is_deleted(db):
    (gone,) = fresh(1)
    campaign = start_campaign([gone])
    DashboardUser("team", gone, role="admin", created_at=T0, updated_at=T0).save()
    with pytest.raises(Conflict):
        deletion.delete_person(gone, actor="cx", now=T0 + 60)
    assert Invitation.get(invitation_id(campaign.id, gone)).erased_at is None
    assert suppression.reason_for(gone) is None


def test_a_deletion_stopped_midway_finishes_when_run_again_with_the_same_counters(db):
    people = fresh(3)
    campaign = start_campaign(people)
    for i, email in enumerate(people):
        answer(campaign, email, (10, 3, 8)[i], "too expensive", T0 + 3600 * (i + 1))
    counting.apply_pending()
    gone = people[1]
    # stopped after marking the invitation, before the applier counted it out (a Lambda timing out)
    deletion._suppress(gone, T0 + 9000, "cx")
    deletion._mark(invitation_id(campaign.id, gone), T0 + 9000)
    assert_counters_equal_a_recomputation(campaign)  # the applier's schedule counts it out meanwhile
    after_crash = stats.totals(campaign.id)
    assert (after_crash["invited"], after_crash.get("detractors", 0)) == (2, 0)

    report = deletion.delete_person(gone, actor="cx", now=T0 + 9100)

    assert report.items["invitations"] == 1 and report.items["suppressions"] == 0
    assert stats.totals(campaign.id) == after_crash
    assert gone not in every_item()
    assert_counters_equal_a_recomputation(campaign)


def test_an_answer_arriving_while_marked_counts_for_nothing_and_the_invitation_still_goes(db):
    (gone,) = fresh(1)
    campaign = start_campaign([gone])
    deletion._mark(invitation_id(campaign.id, gone), T0 + 60)
    answer(campaign, gone, 0, "awful", T0 + 3600)  # the page was open when the deletion started
    deletion.delete_person(gone, actor="cx", now=T0 + 3700)
    assert_counters_equal_a_recomputation(campaign)
    assert stats.totals(campaign.id) == {}


# --- The admin API and the CLI --------------------------------------------------------------------


def test_admin_api_deletes_a_person_and_answers_404_for_an_unknown_one(client):
    (gone,) = fresh(1)
    start_campaign([gone])
    encoded = quote(contacts.normalize_email(gone), safe="")  # as a client percent-encodes it: %40 for @
    response = client.http.delete(f"/api/people/{encoded}", headers=admin_headers())
    assert response.status_code == 200
    body = json.loads(response.body)["deletion"]
    assert body["actor"] == "configured token" and body["items"]["invitations"] == 1
    again = client.http.delete(f"/api/people/{gone}", headers=admin_headers())
    assert again.status_code == 404
    assert json.loads(again.body)["error"]["field"] == "email"
    bad = client.http.delete("/api/people/not-an-address", headers=admin_headers())
    assert bad.status_code == 400
    assert client.http.delete(f"/api/people/{gone}").status_code == 401


def test_cli_deletes_a_person_and_prints_the_report(db):
    (gone,) = fresh(1)
    start_campaign([gone])
    done = cli("delete-person", "--email", gone, env=db)
    assert done.returncode == 0, done.stderr
    assert "invitations 1" in done.stdout and "contacts 1" in done.stdout and gone not in done.stdout
    unknown = cli("delete-person", "--email", gone, env=db)
    assert unknown.returncode == 1
    assert "Nothing is known about" in unknown.stderr


def test_a_deletion_says_who_asked_but_never_keeps_the_persons_address_as_that(db):
    (gone,) = fresh(1)
    start_campaign([gone])
    blank = cli("delete-person", "--email", gone, "--actor", "  ", env=db)
    assert blank.returncode == 1 and "Say who asked" in blank.stderr
    assert gone in every_item()  # refused before anything was deleted

    report = deletion.delete_person(gone, actor=f"self-service: {gone.upper()}", now=T0 + 60)

    assert report.actor == "self-service: the person"
    assert gone not in every_item() and gone.upper() not in every_item()


def test_an_alert_queued_before_the_deletion_is_not_sent_while_it_runs(db, outbox):
    (gone,) = fresh(1)
    campaign = start_campaign([gone])
    answer(campaign, gone, 1, "too expensive", T0 + 3600)
    counting.apply_pending()  # announces the detractor's alert on the work queue
    deletion._mark(invitation_id(campaign.id, gone), T0 + 3700)
    drain(lambda: T0 + 3700)
    assert [str(m["To"]) for m in read_outbox(outbox)] == [gone]  # the invitation only: no alert about them
    deletion.delete_person(gone, actor="cx", now=T0 + 3800)
    assert invitation_id(campaign.id, gone) not in every_item()


def test_an_address_known_only_as_unsubscribed_is_found_and_stripped(db):
    suppression.suppress("only-unsubscribed@example.com", "unsubscribed", T0, source="link")
    report = deletion.delete_person("only-unsubscribed@example.com", actor="cx", now=T0 + 60)
    assert report.found and report.items["suppressions"] == 1
    assert "only-unsubscribed@example.com" not in every_item()


def test_a_deleted_persons_one_click_unsubscribe_still_answers_unsubscribed(client, outbox):
    launch(outbox, [{"email": "gone@example.com"}])
    unsubscribe = read_outbox(outbox)[0]["List-Unsubscribe"].strip("<>")
    deletion.delete_person("gone@example.com", actor="cx", now=time.time())

    one_click = client.http.post(local_path(unsubscribe), body="List-Unsubscribe=One-Click", headers=FORM_HEADERS)

    assert one_click.status_code == 200 and "unsubscribed" in one_click.body.decode().lower()
    assert suppression.reason_for("gone@example.com") == "deleted"
