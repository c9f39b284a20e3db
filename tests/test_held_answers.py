"""A person caught by a scanner window confirms once and is counted; a scanner records nothing.

Times are passed to the page functions (the app passes `time.time()`), so "25 seconds after
the trap was hit" needs no waiting.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from chalicelib.answers import counting, survey_pages
from chalicelib.insight import stats
from chalicelib.web import Reply
from tests.helpers import csrf_of, invitation_of, launch, totals

EMAIL = "ada@example.com"
JSON = {"Accept": "application/json"}


def token_of(sent, email: str = EMAIL) -> str:
    return sent.pages[email].rsplit("/", 1)[1]


def post(token: str, fields: dict[str, str], now: float, headers: dict | None = None) -> Reply:
    """What the browser posts: the page's CSRF token, the button's evidence, and `fields`."""
    csrf = csrf_of(survey_pages.show(token, None, now).body)
    form = {"csrf": csrf, "evidence": "submit", **fields}
    return survey_pages.submit(token, {k: [v] for k, v in form.items()}, headers or {}, now)


def confirm_of(reply: Reply) -> str:
    return re.search(r'<input type="hidden" name="confirm" value="([^"]+)">', reply.body).group(1)


def held_page(reply: Reply) -> bool:
    return reply.status == 200 and "your answer is not saved yet" in reply.body and "Confirm my answer" in reply.body


def thanks(reply: Reply) -> bool:
    return reply.status == 200 and "<h1>Thank you!</h1>" in reply.body


@pytest.mark.parametrize("after", [0, 5, 25, 119])
def test_a_press_after_a_trap_hit_is_recorded_once_confirmed(db, outbox, after):
    sent = launch(outbox)
    token, trapped = token_of(sent), time.time()
    survey_pages.trap(token, trapped)

    pressed = post(token, {"q_nps": "8", "comment": "Quick setup"}, trapped + after)
    assert held_page(pressed)
    assert invitation_of(sent, EMAIL).answered_at is None
    answer = {"q_nps": "8", "comment": "Quick setup", "confirm": confirm_of(pressed)}
    confirmed = post(token, answer, trapped + after + 2)

    assert thanks(confirmed) and "Quick setup" in confirmed.body
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.comment, invitation.answer_version) == (8, "Quick setup", 1)
    assert (invitation.held, invitation.held_token) == (None, None)
    counts = totals(sent.campaign.id)
    assert (counts["responses"], counts["passives"], counts["trap_hits"]) == (1, 1, 1)
    assert "held" not in counts


def test_the_first_gesture_then_one_confirm_is_recorded(db, outbox):
    sent = launch(outbox)
    token, trapped = token_of(sent), time.time()
    survey_pages.trap(token, trapped)
    saved = post(token, {"q_nps": "9", "evidence": "gesture"}, trapped + 3, JSON)
    assert saved.status == 202
    body = json.loads(saved.body)
    assert body["status"] == "held" and "Confirm my answer" in body["message"]

    confirmed = post(token, {"q_nps": "9", "confirm": body["confirm"]}, trapped + 9)

    assert thanks(confirmed)
    assert invitation_of(sent, EMAIL).score == 9
    assert totals(sent.campaign.id)["promoters"] == 1


def test_held_presses_count_once_per_invitation(db, outbox):
    sent = launch(outbox, [{"email": "a@example.com"}, {"email": "b@example.com"}])
    now = time.time()
    for email in ("a@example.com", "b@example.com"):
        survey_pages.trap(token_of(sent, email), now)
        for press in range(3):
            assert held_page(post(token_of(sent, email), {"q_nps": "7"}, now + press))
    assert invitation_of(sent, "a@example.com").filtered == 3
    assert totals(sent.campaign.id)["filtered"] == 2
    scanner = stats.campaign_stats(sent.campaign.id)["scanner"]
    assert scanner == {"answers_held": 2, "awaiting_confirmation": 2, "trap_hits": 2}

    last = post(token_of(sent, "a@example.com"), {"q_nps": "7"}, now + 4)
    assert thanks(post(token_of(sent, "a@example.com"), {"q_nps": "7", "confirm": confirm_of(last)}, now + 5))

    counting.apply_pending()
    scanner = stats.campaign_stats(sent.campaign.id)["scanner"]
    assert scanner == {"answers_held": 2, "awaiting_confirmation": 1, "trap_hits": 2}


def test_replayed_requests_and_self_submitting_forms_record_nothing(db, outbox):
    sent = launch(outbox, [{"email": EMAIL}, {"email": "other@example.com"}])
    token, now = token_of(sent), time.time()
    survey_pages.trap(token, now)
    pressed = post(token, {"q_nps": "10"}, now + 1)
    confirm = confirm_of(pressed)
    # a scanner replays the press: held again, with the same token the person already has
    for at in (now + 2, now + 3):
        replay = post(token, {"q_nps": "10"}, at)
        assert held_page(replay) and confirm_of(replay) == confirm
    # a script submits the held page's form itself: no button, no evidence, the token is not honoured
    assert post(token, {"q_nps": "10", "evidence": "", "confirm": confirm}, now + 4).status == 400
    # the gesture save cannot confirm, and neither can a forged token or another invitation's
    other = token_of(sent, "other@example.com")
    survey_pages.trap(other, now)
    foreign = confirm_of(post(other, {"q_nps": "10"}, now + 4))
    for fields in (
        {"evidence": "gesture", "confirm": confirm},
        {"confirm": confirm.split(".")[0] + ".forged"},
        {"confirm": foreign},
    ):
        assert post(token, {"q_nps": "10", **fields}, now + 5).status in (200, 202)
    invitation = invitation_of(sent, EMAIL)
    assert invitation.answered_at is None and invitation.answers.as_dict() == {}
    assert "responses" not in totals(sent.campaign.id)

    # the person's one confirm still counts, once; replaying it changes nothing
    confirmed = {"q_nps": "10", "confirm": confirm}
    assert thanks(post(token, confirmed, now + 6))
    before = totals(sent.campaign.id)
    for at in (now + 7, now + 60):
        assert thanks(post(token, confirmed, at))
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.answer_version, invitation.held) == (10, 1, None)
    assert totals(sent.campaign.id) == before
    assert before["responses"] == 1


def test_a_used_confirm_token_does_not_confirm_a_later_change(db, outbox):
    sent = launch(outbox)
    token, now = token_of(sent), time.time()
    survey_pages.trap(token, now)
    first = confirm_of(post(token, {"q_nps": "9"}, now))
    assert thanks(post(token, {"q_nps": "9", "confirm": first}, now + 1))
    # still within the window, a different score is held again, and needs its own confirmation
    changed = post(token, {"q_nps": "2", "confirm": first}, now + 2)
    assert held_page(changed) and confirm_of(changed) != first
    assert invitation_of(sent, EMAIL).score == 9
    assert thanks(post(token, {"q_nps": "2", "confirm": confirm_of(changed)}, now + 3))
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.category, invitation.answer_version) == (2, "detractor", 2)


def test_a_held_answer_stays_until_the_person_answers_again_and_is_replaced_by_that(db, outbox):
    sent = launch(outbox)
    token, now = token_of(sent), time.time()
    survey_pages.trap(token, now)
    post(token, {"q_nps": "4", "comment": "Slow"}, now + 1)
    held = invitation_of(sent, EMAIL).held.as_dict()
    assert held == {"answers": {"nps": 4}, "comment": "Slow", "reason": "trap", "evidence": "submit", "at": now + 1}
    # after the window a press counts without confirming, and the held answer is gone
    assert thanks(post(token, {"q_nps": "6"}, now + 300))
    invitation = invitation_of(sent, EMAIL)
    assert (invitation.score, invitation.held, invitation.held_token) == (6, None, None)
    assert "held" not in totals(sent.campaign.id)
