"""The answer page as a customer (and a scanner) meets it, through the Chalice app."""

from __future__ import annotations

import re

import pytest

from chalicelib.core import counters
from chalicelib.core.surveys import MAX_OPTION, MAX_OPTIONS, MAX_QUESTIONS
from tests.helpers import csrf_of, invitation_of, launch, open_page, submit, totals


def test_a_get_shows_the_clicked_score_preselected_and_records_nothing(client, outbox):
    sent = launch(outbox)
    status, body = open_page(client, sent.pages["ada@example.com"] + "?a=9")
    assert status == 200
    assert '<input type="radio" name="q_nps" value="9" checked required>' in body
    assert len(re.findall(r"<input[^>]* checked", body)) == 1
    assert "<legend>How likely are you to recommend us?" in body
    invitation = invitation_of(sent, "ada@example.com")
    assert invitation.answered_at is None and invitation.answers.as_dict() == {}
    assert totals(sent.campaign.id) == {"invited": 1, "sent": 1}


def test_every_score_link_in_the_email_opens_the_page_with_that_score(client, outbox):
    sent = launch(outbox)
    from tests.conftest import html_links, local_path

    links = [local_path(u) for u in html_links(sent.messages[0]) if "?a=" in u]
    assert len(links) == 11
    for value, link in enumerate(links):
        body = open_page(client, link)[1]
        assert f'value="{value}" checked' in body


def test_submit_records_the_answer_and_thanks_the_customer(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    response = submit(client, page, {"q_nps": "9", "q_reason": "Support", "comment": "Fast answers"})
    body = response.body.decode()
    assert response.status_code == 200
    assert "Thank you!" in body and "Fast answers" in body
    invitation = invitation_of(sent, "ada@example.com")
    assert invitation.answers.as_dict() == {"nps": 9, "reason": "Support"}
    assert (invitation.score, invitation.category, invitation.comment) == (9, "promoter", "Fast answers")
    assert invitation.ack_pk is None  # the write touches one item; the applier does the bookkeeping
    assert totals(sent.campaign.id)["promoters"] == 1
    invitation = invitation_of(sent, "ada@example.com")
    assert (invitation.ack_pk, invitation.ack_state, invitation.loop_status) == ("ack", "due", "new")
    assert invitation.ack_due_at == invitation.updated_at + 1800
    assert invitation.responded_campaign == sent.campaign.id
    assert totals(sent.campaign.id)["responses"] == 1
    assert totals(sent.campaign.id)["comments"] == 1


def test_segment_counters_move_with_the_answer(client, outbox):
    sent = launch(
        outbox,
        [
            {"email": "a@example.com", "properties": {"plan": "pro"}},
            {"email": "b@example.com", "properties": {"plan": "free"}},
        ],
    )
    submit(client, sent.pages["a@example.com"], {"q_nps": "10"})
    submit(client, sent.pages["b@example.com"], {"q_nps": "2"})
    pro = counters.segment_key("plan", "pro")
    free = counters.segment_key("plan", "free")
    assert pro == "plan=pro"
    assert totals(sent.campaign.id, pro) == {
        "invited": 1,
        "sent": 1,
        "responses": 1,
        "promoters": 1,
        "q.nps.n": 1,
        "q.nps.sum": 10,
        "q.nps.sq": 100,
        "q.nps.v10": 1,
    }
    assert totals(sent.campaign.id, free)["detractors"] == 1
    assert totals(sent.campaign.id)["responses"] == 2


def test_answering_again_updates_the_same_response_and_moves_the_counters_exactly(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    submit(client, page, {"q_nps": "9", "comment": "Nice"})
    before = totals(sent.campaign.id)
    submit(client, page, {"q_nps": "3"})
    after = totals(sent.campaign.id)
    assert before["promoters"] == 1 and "detractors" not in before
    assert after.get("promoters", 0) == 0 and after["detractors"] == 1
    assert after["responses"] == 1 and after["comments"] == 1
    invitation = invitation_of(sent, "ada@example.com")
    assert (invitation.score, invitation.comment, invitation.answer_version) == (3, "Nice", 2)


def test_a_submit_without_the_button_records_nothing(client, outbox):
    """A script calling form.submit() sends no submitter: no evidence of a person."""
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    csrf = csrf_of(open_page(client, page + "?a=9")[1])
    response = submit(client, page, {"q_nps": "9", "evidence": ""}, csrf=csrf)
    assert response.status_code == 400
    assert "Please press Submit" in response.body.decode()
    assert invitation_of(sent, "ada@example.com").answered_at is None
    assert totals(sent.campaign.id) == {"invited": 1, "sent": 1, "filtered": 1}


def test_a_trap_hit_holds_the_answers_that_follow_it_until_confirmed(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    assert client.http.get(page + "/t").status_code == 200
    response = submit(client, page, {"q_nps": "10"})
    body = response.body.decode()
    assert response.status_code == 200
    assert "your answer is not saved yet" in body and ">Confirm my answer</button>" in body
    invitation = invitation_of(sent, "ada@example.com")
    assert invitation.answered_at is None
    assert (invitation.trap_hits, invitation.filtered) == (1, 1)
    held = invitation.held.as_dict()
    assert (held["answers"], held["reason"], held["evidence"]) == ({"nps": 10}, "trap", "submit")
    assert totals(sent.campaign.id) == {"invited": 1, "sent": 1, "trap_hits": 1, "filtered": 1, "held": 1}
    # one press of the confirm button, still within the trap window, records it
    confirm = re.search(r'name="confirm" value="([^"]+)"', body).group(1)
    response = submit(client, page, {"q_nps": "10", "confirm": confirm}, csrf=csrf_of(body))
    assert "Thank you!" in response.body.decode()
    invitation = invitation_of(sent, "ada@example.com")
    assert (invitation.score, invitation.held, invitation.held_token) == (10, None, None)
    assert totals(sent.campaign.id)["promoters"] == 1


def test_activity_within_seconds_of_delivery_is_held(client, outbox):
    sent = launch(outbox, sent_ago=0)
    response = submit(client, sent.pages["ada@example.com"], {"q_nps": "0"})
    assert response.status_code == 200 and "Confirm my answer" in response.body.decode()
    assert invitation_of(sent, "ada@example.com").held["reason"] == "delivery"
    assert invitation_of(sent, "ada@example.com").answered_at is None
    assert totals(sent.campaign.id).get("detractors", 0) == 0
    assert totals(sent.campaign.id)["filtered"] == 1


@pytest.mark.parametrize("mangle", ["tamper", "unknown", "garbage"])
def test_bad_tokens_get_a_friendly_404_that_reveals_nothing(client, outbox, mangle):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    token = page.rsplit("/", 1)[1]
    bad = {
        "tamper": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        "unknown": token.replace(sent.campaign.id, "nosuchcamp", 1),
        "garbage": "not-a-token",
    }[mangle]
    for response in (client.http.get(f"/s/{bad}?a=9"), submit(client, f"/s/{bad}", {"q_nps": "9"}, csrf="x")):
        body = response.body.decode()
        assert response.status_code == 404
        assert "This link does not work" in body
        assert sent.campaign.id not in body and "ada@" not in body and "Traceback" not in body
    assert client.http.get(f"/s/{bad}/t").status_code == 404


def test_an_expired_token_gets_the_404(client, outbox, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_INVITATION_TTL_DAYS", "0")
    sent = launch(outbox, sent_ago=0)
    response = client.http.get(sent.pages["ada@example.com"])
    assert response.status_code == 404


def test_a_missing_or_forged_csrf_token_records_nothing(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    for csrf in ("", "123.forged"):
        response = submit(client, page, {"q_nps": "9"}, csrf=csrf)
        assert response.status_code == 403
        assert "press Submit again" in response.body.decode()
    assert invitation_of(sent, "ada@example.com").answered_at is None


def test_a_post_from_another_site_is_refused(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    for another_site in (
        {"Origin": "https://evil.example"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},  # a sandboxed frame on another site
        {"Sec-Fetch-Site": "cross-site"},  # Origin stripped by an extension
    ):
        response = submit(client, page, {"q_nps": "9"}, headers=another_site)
        assert response.status_code == 403, another_site
        assert invitation_of(sent, "ada@example.com").answered_at is None
    ours = submit(client, page, {"q_nps": "9"}, headers={"Sec-Fetch-Site": "same-origin", "Origin": "null"})
    assert ours.status_code == 200 and invitation_of(sent, "ada@example.com").score == 9


def test_a_page_reached_under_another_name_posts_back_to_itself_and_is_taken(client, outbox, monkeypatch):
    """A customer on www. (a developer on localhost) when the base URL names another host: the form posts to the
    host that served it (a content security policy of form-action 'self' allows nothing else), and the browser's
    Sec-Fetch-Site: same-origin says the page was ours."""
    monkeypatch.setenv("CLOSELOOP_BASE_URL", "https://feedback.example.com/api")
    sent = launch(outbox)
    link = sent.pages["ada@example.com"]
    assert link.startswith("https://feedback.example.com/api/s/")
    token = link.split("/s/")[1].split("?")[0]
    page = f"/s/{token}"  # as API Gateway hands the path to the app, without its stage
    status, html = open_page(client, page)
    assert status == 200 and f'action="/api/s/{token}"' in html
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": "https://www.feedback.example.com"}
    taken = submit(client, page, {"q_nps": "7"}, headers=headers)
    assert taken.status_code == 200 and invitation_of(sent, "ada@example.com").score == 7


def test_a_token_for_one_invitation_cannot_answer_another(client, outbox):
    sent = launch(outbox, [{"email": "a@example.com"}, {"email": "b@example.com"}])
    page_a = sent.pages["a@example.com"]
    page_b = sent.pages["b@example.com"]
    csrf_a = csrf_of(open_page(client, page_a)[1])
    response = submit(client, page_b, {"q_nps": "0"}, csrf=csrf_a)
    assert response.status_code == 403
    assert invitation_of(sent, "b@example.com").answered_at is None


def test_invalid_answers_come_back_with_messages_and_keep_what_was_typed(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    response = submit(client, page, {"q_nps": "12", "comment": "keep me"})
    body = response.body.decode()
    assert response.status_code == 400
    assert "12 is outside the scale: choose a score from 0 to 10." in body
    assert 'aria-describedby="err-nps"' in body
    assert ">keep me</textarea>" in body
    assert invitation_of(sent, "ada@example.com").answered_at is None


def test_html_in_a_comment_comes_out_escaped(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    body = submit(client, page, {"q_nps": "5", "comment": evil}).body.decode()
    assert evil not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in body
    # and in the form when it comes back with an error
    body = submit(client, page, {"q_nps": "99", "comment": evil}).body.decode()
    assert evil not in body and "&lt;script&gt;" in body


def test_a_form_too_large_for_an_answer_comes_back_empty_with_a_413(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    response = submit(client, page, {"q_nps": "9", "comment": "x" * 600_000})
    body = response.body.decode()
    assert response.status_code == 413
    assert "Too much data." in body and 'name="csrf"' in body  # the form again, to answer in fewer words
    assert invitation_of(sent, "ada@example.com").answered_at is None


def test_the_largest_answer_a_survey_allows_is_taken_whole(client, outbox):
    """Every text at its limit in a script of 3 UTF-8 bytes a character is three times 64 KB urlencoded."""
    texts = [{"id": f"t{n}", "type": "text", "text": f"Question {n}?"} for n in range(4)]
    sent = launch(outbox, survey={"questions": [{"id": "nps", "type": "nps", "text": "Recommend us?"}, *texts]})
    page = sent.pages["ada@example.com"]
    fields = {"q_nps": "9", **{f"q_t{n}": "中" * 2000 for n in range(4)}}

    response = submit(client, page, fields)

    assert response.status_code == 200 and "Thank you!" in response.body.decode()
    stored = counters.plain(invitation_of(sent, "ada@example.com").answers)
    assert stored == {"nps": 9, **{f"t{n}": "中" * 2000 for n in range(4)}}


def test_every_option_at_its_longest_ticked_in_every_question_is_taken_whole(client, outbox):
    """A multiple choice posts back each option ticked: 20 options of 100 characters are one text's share."""
    options = [f"{n:02d}" + "中" * (MAX_OPTION - 2) for n in range(MAX_OPTIONS)]
    choices = [
        {"id": f"m{n}", "type": "multi_choice", "text": f"Question {n}?", "options": options}
        for n in range(MAX_QUESTIONS - 1)
    ]
    sent = launch(outbox, survey={"questions": [{"id": "nps", "type": "nps", "text": "Recommend us?"}, *choices]})
    page = sent.pages["ada@example.com"]

    response = submit(client, page, {"q_nps": "9", **{f"q_m{n}": options for n in range(MAX_QUESTIONS - 1)}})

    assert response.status_code == 200 and "Thank you!" in response.body.decode()
    stored = counters.plain(invitation_of(sent, "ada@example.com").answers)
    assert stored == {"nps": 9, **{f"m{n}": options for n in range(MAX_QUESTIONS - 1)}}


def test_control_characters_in_what_a_customer_wrote_are_dropped(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    response = submit(client, page, {"q_nps": "3", "comment": "too\x00 slow\x1b[31m\r\nreally\x7f"})
    assert response.status_code == 200
    assert invitation_of(sent, "ada@example.com").comment == "too slow[31m\r\nreally"
    # nor a bidirectional override that would make it read otherwise where it is quoted; nor in an error
    submit(client, page, {"q_nps": "3", "comment": "\ufeffpaid \u202e001$\u202c, \u200fشكرا"})
    assert invitation_of(sent, "ada@example.com").comment == "paid 001$, \u200fشكرا"
    refused = submit(client, page, {"q_nps": "9\x00\u202e"}).body.decode()
    assert "“9\ufffd\ufffd” is not a whole number" in refused and "\x00" not in refused


def test_a_required_text_question_is_not_answered_by_invisible_characters(client, outbox):
    survey = {
        "questions": [
            {"id": "nps", "type": "nps", "text": "Recommend us?"},
            {"id": "why", "type": "text", "text": "Why?", "required": True},
        ]
    }
    sent = launch(outbox, survey=survey)
    page = sent.pages["ada@example.com"]
    for invisible in ("\ufeff", "\u202e", "\u2066\u2069", "\x00"):
        refused = submit(client, page, {"q_nps": "3", "q_why": invisible})
        assert refused.status_code == 400 and "Please answer this question." in refused.body.decode()
    assert invitation_of(sent, "ada@example.com").answered_at is None


def test_the_gesture_save_answers_json_and_records_the_first_question_only(client, outbox):
    sent = launch(outbox)
    page = sent.pages["ada@example.com"]
    csrf = csrf_of(open_page(client, page + "?a=8")[1])
    response = submit(
        client,
        page,
        {"q_nps": "8", "q_reason": "Price", "evidence": "gesture"},
        csrf=csrf,
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json_body["status"] == "recorded"
    invitation = invitation_of(sent, "ada@example.com")
    assert invitation.answers.as_dict() == {"nps": 8}
    assert invitation.evidence == "gesture"
    # the later Submit completes the same response
    submit(client, page, {"q_nps": "8", "q_reason": "Price", "comment": "ok"}, csrf=csrf)
    invitation = invitation_of(sent, "ada@example.com")
    assert invitation.answers.as_dict() == {"nps": 8, "reason": "Price"}
    assert totals(sent.campaign.id)["responses"] == 1 and totals(sent.campaign.id)["passives"] == 1


def test_pages_are_locked_down(client, outbox):
    sent = launch(outbox)
    response = client.http.get(sent.pages["ada@example.com"])
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert "script-src 'self';" in headers["content-security-policy"]
    assert "<script>" not in response.body.decode()  # no inline script: only our cached survey.js
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.body.decode()
