"""Held answers accepted or dismissed once, and the campaign pages that show a campaign's numbers.

A held answer comes from the real survey pages: the trap link is fetched, then a person presses
Submit within its window (as in tests/test_held_answers.py).
"""

from __future__ import annotations

import time

import pytest

from chalicelib.answers import counting, held, survey_pages
from chalicelib.core.config import get_settings
from chalicelib.core.counters import plain
from chalicelib.core.errors import Conflict
from chalicelib.loop import followups
from tests.conftest import read_outbox
from tests.helpers import csrf_of, drain, invitation_of, launch, totals

EMAIL = "ada@example.com"
CX = "cx@acme.example"
LEAD = "lead@closeloop-demo.example"


def token_of(sent, email: str = EMAIL) -> str:
    return sent.pages[email].rsplit("/", 1)[1]


def press(token: str, fields: dict[str, str], now: float, evidence: str = "submit"):
    """What the browser posts when a person presses Submit (or, with no evidence, what a script sends)."""
    csrf = csrf_of(survey_pages.show(token, None, now).body)
    form = {"csrf": csrf, "evidence": evidence, **fields}
    return survey_pages.submit(token, {k: [v] for k, v in form.items()}, {}, now)


def held_answer(outbox, score: str = "3", comment: str = "Too slow", **options):
    """A campaign whose one invitation holds a person's answer caught by the trap window."""
    sent = launch(outbox, options={"alert_emails": [CX], **options})
    token, now = token_of(sent), time.time()
    survey_pages.trap(token, now)
    assert press(token, {"q_nps": score, "comment": comment}, now + 5).status == 200
    return sent, token, now


def acknowledge_everything() -> dict:
    """Run the acknowledgement job once the quiet period of every answer is over."""
    settings = get_settings()
    return dict(followups.acknowledge_due(time.time() + settings.ack_delay + 60, settings))


def mail_to(outbox, address: str) -> list:
    return [m for m in read_outbox(outbox) if str(m["To"]) == address]


# --- the use case: chalicelib.answers.held -----------------------------------------------------


def test_a_held_answer_is_listed_with_its_reason_and_time(db, outbox):
    sent, _, now = held_answer(outbox)
    [entry], cursor = held.list_held(sent.campaign.id, 50)
    assert cursor is None
    assert (entry.email, entry.kind, entry.reason, entry.at) == (EMAIL, "held", "trap", now + 5)
    assert (entry.answers, entry.comment, entry.answered) == ({"nps": 3}, "Too slow", False)
    assert "hidden link" in entry.reason_text


def test_accepting_counts_once_acknowledges_and_alerts_once(db, outbox):
    sent, _, _ = held_answer(outbox)
    invitation_id = invitation_of(sent, EMAIL).id
    before = totals(sent.campaign.id)
    assert "responses" not in before and before["held"] == 1

    held.accept(invitation_id, LEAD, time.time(), get_settings())
    with pytest.raises(Conflict):
        held.accept(invitation_id, LEAD, time.time(), get_settings())
    counting.apply_pending()
    drain()
    counting.apply_pending()
    drain()

    after = totals(sent.campaign.id)
    assert (after["responses"], after["detractors"], after.get("held", 0)) == (1, 1, 0)
    assert acknowledge_everything() == {"sent": 1}
    assert acknowledge_everything() == {}
    assert len(mail_to(outbox, EMAIL)) == 2  # the invitation, then one acknowledgement
    assert len(mail_to(outbox, CX)) == 1  # one detractor alert
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.comment, invitation.evidence) == (3, "Too slow", "accepted")
    assert (invitation.held, invitation.held_at) == (None, None)
    [accepted, acknowledged] = [plain(e) for e in invitation.loop_history]
    assert (accepted["status"], accepted["by"]) == ("accepted", LEAD)
    assert acknowledged["status"] == "acknowledged"
    assert held.list_held(sent.campaign.id, 50)[0] == []


def test_accepting_after_the_person_confirmed_counts_nothing_more(db, outbox):
    sent, token, now = held_answer(outbox, score="9", comment="")
    invitation_id = invitation_of(sent, EMAIL).id
    assert press(token, {"q_nps": "9"}, now + 300).status == 200  # the person answers again, after the window
    with pytest.raises(Conflict):
        held.accept(invitation_id, LEAD, time.time(), get_settings())
    counts = totals(sent.campaign.id)
    assert (counts["responses"], counts["promoters"]) == (1, 1)
    assert invitation_of(sent, EMAIL).answer_version == 1


def test_dismissing_keeps_it_out_of_the_scores_and_writes_the_history(db, outbox):
    sent, _, _ = held_answer(outbox)
    invitation_id = invitation_of(sent, EMAIL).id
    held.dismiss(invitation_id, LEAD, time.time())
    with pytest.raises(Conflict):
        held.accept(invitation_id, LEAD, time.time(), get_settings())
    counts = totals(sent.campaign.id)
    assert "responses" not in counts and counts.get("held", 0) == 0 and counts["filtered"] == 1
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.held, invitation.held_token, invitation.answered_at) == (None, None, None)
    [entry] = [plain(e) for e in invitation.loop_history]
    assert (entry["status"], entry["by"]) == ("dismissed", LEAD) and "scanner" in entry["note"]
    assert held.list_held(sent.campaign.id, 50)[0] == []


def test_a_submission_without_evidence_is_listed_and_can_be_accepted_once(db, outbox):
    sent = launch(outbox)
    now = time.time()
    assert press(token_of(sent), {"q_nps": "10"}, now, evidence="").status == 400
    [entry], _ = held.list_held(sent.campaign.id, 50)
    assert (entry.kind, entry.reason, entry.answers) == ("filtered", "no-evidence", {"nps": 10})
    held.accept(entry.invitation_id, LEAD, now + 1, get_settings())
    with pytest.raises(Conflict):
        held.accept(entry.invitation_id, LEAD, now + 2, get_settings())
    assert totals(sent.campaign.id)["promoters"] == 1


def test_a_submission_without_evidence_cannot_replace_a_persons_answer(db, outbox):
    sent = launch(outbox)
    now = time.time()
    assert press(token_of(sent), {"q_nps": "8"}, now).status == 200
    assert press(token_of(sent), {"q_nps": "0"}, now + 1, evidence="").status == 400
    [entry], _ = held.list_held(sent.campaign.id, 50)
    with pytest.raises(Conflict):
        held.accept(entry.invitation_id, LEAD, now + 2, get_settings())
    held.dismiss(entry.invitation_id, LEAD, now + 3)
    assert invitation_of(sent, EMAIL).score == 8
