"""Concurrent submits for one invitation leave one response and counters equal to its final answer."""

from __future__ import annotations

import threading
import time

from chalicelib.answers import counting, responses, survey_pages
from chalicelib.campaigns.campaigns import get_campaign
from chalicelib.core import counters
from chalicelib.core.config import get_settings
from chalicelib.core.signing import read_invitation_token
from chalicelib.store.models import Invitation
from tests.helpers import csrf_of, invitation_of, launch, totals


def _submit_all(ref, campaign, scores: list[int]) -> list[str]:
    """Every thread waits at a barrier, then records its score at the same moment."""
    barrier = threading.Barrier(len(scores))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    settings = get_settings()

    def worker(score: int) -> None:
        try:
            barrier.wait()
            submission = responses.Submission({"nps": score}, f"score {score}", "submit")
            outcomes.append(responses.record(ref, campaign, submission, time.time(), settings).status)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in scores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return outcomes


def _ref(sent, email):
    token = sent.pages[email].rsplit("/", 1)[1]
    return read_invitation_token(token, get_settings().signing_secrets, time.time())


def test_two_concurrent_first_answers_leave_one_response_and_consistent_counters(db, outbox):
    recipients = [{"email": f"c{i}@example.com", "properties": {"plan": "pro"}} for i in range(10)]
    sent = launch(outbox, recipients)
    campaign = get_campaign(sent.campaign.id)
    for i in range(10):
        email = f"c{i}@example.com"
        outcomes = _submit_all(_ref(sent, email), campaign, [9, 3])
        assert outcomes == ["recorded", "recorded"]
        final = invitation_of(sent, email)
        assert final.answer_version == 2
        assert final.comment == f"score {final.score}"
    totals_all = totals(sent.campaign.id)
    finals = [invitation_of(sent, f"c{i}@example.com").score for i in range(10)]
    assert totals_all["responses"] == 10
    assert totals_all.get("promoters", 0) == finals.count(9)
    assert totals_all.get("detractors", 0) == finals.count(3)
    assert totals_all["q.nps.sum"] == sum(finals)
    pro = counters.segment_key("plan", "pro")
    assert totals(sent.campaign.id, pro)["responses"] == 10


def test_a_storm_of_edits_leaves_counters_equal_to_the_final_answer(db, outbox):
    sent = launch(outbox)
    campaign = get_campaign(sent.campaign.id)
    ref = _ref(sent, "ada@example.com")
    for _ in range(5):
        _submit_all(ref, campaign, [0, 5, 7, 8, 9, 10])
    counted = totals(sent.campaign.id)
    final = invitation_of(sent, "ada@example.com")
    assert final.answer_version == 30
    expected = counters.answer_counts(campaign.survey, {"nps": int(final.score)}, final.comment)
    # Whichever thread wrote last decides the score; a detractor's answer also opens a case.
    case = {"cases.opened": 1} if final.category == "detractor" else {}
    assert (final.alerted_at is not None) == bool(case)
    assert counted == {"invited": 1, "sent": 1, **expected, **case}


def test_twenty_simultaneous_answers_to_one_invitation_all_get_the_thank_you_page(db, outbox):
    sent = launch(outbox)
    token = sent.pages["ada@example.com"].rsplit("/", 1)[1]
    now = time.time()
    csrf = csrf_of(survey_pages.show(token, None, now).body)
    answers = [(score % 11, f"answer {score}") for score in range(20)]
    barrier = threading.Barrier(len(answers))
    replies, errors = [], []

    def worker(score: int, comment: str) -> None:
        form = {"csrf": [csrf], "evidence": ["submit"], "q_nps": [str(score)], "comment": [comment]}
        try:
            barrier.wait()
            replies.append(survey_pages.submit(token, form, {}, time.time()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=answer) for answer in answers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert [(r.status, "<h1>Thank you!</h1>" in r.body) for r in replies] == [(200, True)] * 20
    final = invitation_of(sent, "ada@example.com")
    assert (final.score, final.comment) in answers
    assert final.answers.as_dict() == {"nps": final.score}
    assert final.answer_version == 20
    counted = totals(sent.campaign.id)
    assert (counted["responses"], counted["q.nps.n"], counted[f"q.nps.v{final.score}"]) == (1, 1, 1)
    assert counted.get("q.nps.sum", 0) == final.score and counted["comments"] == 1  # a sum of 0 is no item


def test_two_appliers_that_read_the_same_pending_answers_count_them_once(db, outbox):
    """Two runs of the applier at once (import-delighted's own beside the schedule) read the same copies;
    the second to commit finds them applied: counted once, not twice."""
    recipients = [{"email": f"a{i}@example.com"} for i in range(5)]
    sent = launch(outbox, recipients)
    campaign = get_campaign(sent.campaign.id)
    settings = get_settings()
    for i in range(5):
        submission = responses.Submission({"nps": 3 * i % 11}, None, "submit")
        responses.record(_ref(sent, f"a{i}@example.com"), campaign, submission, time.time(), settings)
    ids = [invitation_of(sent, f"a{i}@example.com").id for i in range(5)]
    copies = list(Invitation.batch_get(ids, consistent_read=True))

    first = counting._apply(copies, settings, time.time())
    second = counting._apply(copies, settings, time.time())

    assert (first["applied"], second["applied"], second["moved"]) == (5, 0, 5)
    assert totals(sent.campaign.id)["responses"] == 5
