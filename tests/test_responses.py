"""The answer's hand-built write stores exactly what PynamoDB's own actions would, in one request."""

from __future__ import annotations

import time

import pytest

from chalicelib.answers import responses
from chalicelib.core.config import get_settings
from chalicelib.core.signing import read_invitation_token
from chalicelib.store import count_pending, raw_client, table_name
from chalicelib.store.models import Invitation
from chalicelib.store.transact import update, update_raw
from tests.helpers import invitation_of, launch

FIELDS = (
    "answers",
    "comment",
    "score",
    "category",
    "evidence",
    "updated_at",
    "answered_at",
    "answer_version",
    "rev",
    "count_pk",
    "campaign_id",
)


@pytest.mark.parametrize(
    ("answers", "comment"),
    [({"nps": 9, "reason": "Support"}, "Great <b>support</b> — thanks"), ({"nps": 0}, None)],
)
def test_the_hand_built_first_answer_matches_pynamodbs_actions(db, outbox, answers, comment):
    sent = launch(outbox, [{"email": "raw@example.com"}, {"email": "orm@example.com"}])
    settings = get_settings()
    now = time.time()
    submission = responses.Submission(answers, comment, "submit")

    def ref(email):
        token = sent.pages[email].rsplit("/", 1)[1]
        return read_invitation_token(token, settings.signing_secrets, now)

    assert responses.record(ref("raw@example.com"), sent.campaign, submission, now, settings).first
    orm = invitation_of(sent, "orm@example.com")
    update(Invitation, orm.id, [*pynamodb_actions(orm.id, sent.campaign, answers, comment, now)])
    raw, orm = invitation_of(sent, "raw@example.com"), invitation_of(sent, "orm@example.com")
    for field in FIELDS:
        if field == "count_pk":
            continue  # a shard of the invitation's own id
        assert plain(getattr(raw, field)) == plain(getattr(orm, field)), field
    assert raw.count_pk.startswith("count#")
    assert raw.answers.as_dict() == answers


def pynamodb_actions(invitation_id, campaign, answers, comment, now) -> list:
    """The same first answer as PynamoDB's own actions."""
    score, category = responses.headline(campaign, answers)
    return [
        Invitation.answers.set(answers),
        Invitation.comment.set(comment) if comment else Invitation.comment.remove(),
        Invitation.score.set(score) if score is not None else Invitation.score.remove(),
        Invitation.category.set(category) if category else Invitation.category.remove(),
        Invitation.evidence.set("submit"),
        Invitation.updated_at.set(now),
        Invitation.answered_at.set(now),
        Invitation.answer_version.add(1),
        *count_pending.changed(invitation_id),
    ]


def plain(value):
    return value.as_dict() if hasattr(value, "as_dict") else value


def _writes(table: str):
    """The write requests on `table` through the shared client, by operation, as they happen."""
    seen: list[str] = []

    def count(params, model, **kwargs):
        if params.get("TableName") == table and model.name in ("PutItem", "UpdateItem", "TransactWriteItems"):
            seen.append(model.name)

    raw_client().meta.events.register("provide-client-params.dynamodb", count)
    return seen, lambda: raw_client().meta.events.unregister("provide-client-params.dynamodb", count)


def test_a_first_answer_and_each_edit_cost_one_write_request(db, outbox):
    sent = launch(outbox)
    settings = get_settings()
    now = time.time()
    ref = read_invitation_token(sent.pages["ada@example.com"].rsplit("/", 1)[1], settings.signing_secrets, now)
    writes, stop = _writes(table_name(Invitation))
    try:
        first = responses.record(ref, sent.campaign, responses.Submission({"nps": 9}, None, "submit"), now, settings)
        assert (first.status, first.first, writes) == ("recorded", True, ["UpdateItem"])
        edit = responses.Submission({"reason": "Support"}, "Quick replies", "submit")
        again = responses.record(ref, sent.campaign, edit, now + 60, settings)
        assert (again.status, again.first, writes) == ("recorded", False, ["UpdateItem"] * 2)
        assert (again.answers, again.comment) == ({"nps": 9, "reason": "Support"}, "Quick replies")
        last = responses.record(ref, sent.campaign, responses.Submission({"nps": 3}, "", "submit"), now + 90, settings)
        assert (last.first, last.answers, last.comment, writes) == (
            False,
            {"nps": 3, "reason": "Support"},
            None,
            ["UpdateItem"] * 3,
        )
    finally:
        stop()
    final = invitation_of(sent, "ada@example.com")
    assert (final.answered_at, final.updated_at, final.answer_version) == (now, now + 90, 3)
    assert (final.score, final.category, final.comment) == (3, "detractor", None)


def test_an_invitation_made_before_answers_maps_existed_takes_its_first_answer_and_edits(db, outbox):
    sent = launch(outbox)
    settings = get_settings()
    now = time.time()
    ref = read_invitation_token(sent.pages["ada@example.com"].rsplit("/", 1)[1], settings.signing_secrets, now)
    update(Invitation, ref.invitation_id, [Invitation.answers.remove()])
    assert invitation_of(sent, "ada@example.com").answers is None
    writes, stop = _writes(table_name(Invitation))
    try:
        first = responses.record(ref, sent.campaign, responses.Submission({"nps": 9}, "Good", "submit"), now, settings)
        assert (first.status, first.first, len(writes)) == ("recorded", True, 2)  # a refused write, then the map
        edit = responses.record(ref, sent.campaign, responses.Submission({"nps": 10}, None, "submit"), now, settings)
        assert (edit.first, edit.answers, edit.comment, len(writes)) == (False, {"nps": 10}, "Good", 3)
    finally:
        stop()
    final = invitation_of(sent, "ada@example.com")
    assert (final.answers.as_dict(), final.score, final.answer_version) == ({"nps": 10}, 10, 2)


def test_the_raw_write_hands_back_the_item_as_botocore_reads_it(db):
    """update_raw takes the returned item from the reply's JSON (store.transact._keep_item_raw): every
    type an invitation can hold comes back as a read through botocore gives it."""
    item = {
        "id": {"S": "raw-1"},
        "campaign_id": {"S": "c1"},
        "answers": {"M": {"nps": {"N": "9"}, "why": {"L": [{"S": "Price"}, {"S": "Support"}]}, "x": {"NULL": True}}},
        "properties": {"M": {"plan": {"S": "pro"}, "vip": {"BOOL": True}, "tags": {"SS": ["a", "b"]}}},
        "sent_at": {"N": "1764500000.25"},
    }
    client = raw_client()
    client.put_item(TableName=table_name(Invitation), Item=item)
    old = update_raw(
        {
            "TableName": table_name(Invitation),
            "Key": {"id": {"S": "raw-1"}},
            "UpdateExpression": "SET #score = :score",
            "ExpressionAttributeNames": {"#score": "score"},
            "ExpressionAttributeValues": {":score": {"N": "9"}},
            "ReturnValues": "ALL_OLD",
        }
    )
    assert old == item
    read = client.get_item(TableName=table_name(Invitation), Key={"id": {"S": "raw-1"}})["Item"]
    assert read == {**item, "score": {"N": "9"}}
