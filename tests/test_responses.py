"""The first answer's hand-built write stores exactly what PynamoDB's own actions would."""

from __future__ import annotations

import time

import pytest

from chalicelib.answers import responses
from chalicelib.core.config import get_settings
from chalicelib.core.signing import read_invitation_token
from chalicelib.store import count_pending
from chalicelib.store.models import Invitation
from chalicelib.store.transact import update
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
