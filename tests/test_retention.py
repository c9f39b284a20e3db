"""A campaign's retention removes comments, text answers and properties of old responses; counts stay."""

from __future__ import annotations

import itertools

import pytest

from chalicelib.answers import counting, responses
from chalicelib.campaigns import campaigns
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ValidationError
from chalicelib.core.signing import InvitationRef
from chalicelib.insight import rebuild, stats
from chalicelib.loop import followups
from chalicelib.privacy import retention
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from chalicelib.sending.invitations import invitation_id
from chalicelib.store.counts import read
from chalicelib.store.models import Invitation
from tests.helpers import drain

T0 = 1_794_787_200  # Monday 2026-11-16 00:00 UTC
DAY = 86400
SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
        {"id": "why", "type": "text", "text": "Anything else?"},
    ]
}
_emails = itertools.count()


def start(options: dict, n: int = 3) -> tuple[campaigns.CampaignView, list[str]]:
    body = {
        "name": "Retention",
        "survey": SURVEY,
        "segments": ["plan"],
        "options": {"themes": {"pricing": ["expensive"]}, **options},
    }
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), T0)
    emails = [f"keep{next(_emails)}@example.com" for _ in range(n)]
    rows = [{"email": e, "properties": {"plan": "pro", "phone": "+44 20 7946 0000"}} for e in emails]
    imports.start(campaign, list(enumerate(rows)), "recipients", T0, get_settings(), get_queue())
    campaigns.start_sending(campaign.id, T0, None, get_queue())
    drain(lambda: T0)
    return campaigns.get_view(campaign.id), emails


def answer(campaign, email: str, score: int, comment: str | None, why: str, at: float) -> None:
    ref = InvitationRef(campaign.id, invitation_id(campaign.id, email), 2**40)
    submission = responses.Submission({"nps": score, "why": why}, comment, "submit")
    assert responses.record(ref, campaign, submission, at, get_settings()).status == "recorded"


def invitation(campaign, email: str) -> Invitation:
    return Invitation.get(invitation_id(campaign.id, email), consistent_read=True)


def no_differences(campaign) -> bool:
    rebuild.apply_all()
    report = rebuild.check(campaign, lambda _line: None)
    return (report.differences, report.outdated, report.pending) == ([], [], 0)


def test_old_comments_text_answers_and_properties_go_and_every_count_stays(db):
    campaign, (a, b, c) = start({"retention_days": 30})
    answer(campaign, a, 2, "far too expensive", "call me on +44 20 7946 0000", T0 + 3600)
    answer(campaign, b, 10, None, "", T0 + 7200)
    answer(campaign, c, 8, "fine", "ok", T0 + 40 * DAY)  # younger than 30 days at the first run
    counting.apply_pending()
    counters_before, totals_before = read(campaign.id), stats.totals(campaign.id)
    assert totals_before["comments"] == 2 and totals_before["theme.pricing"] == 1

    assert retention.apply_retention(T0 + 31 * DAY) == {"campaigns": 1, "responses": 2, "moved": 0}

    old, quiet, young = invitation(campaign, a), invitation(campaign, b), invitation(campaign, c)
    assert old.comment is None and old.answers.as_dict() == {"nps": 2, "why": ""}
    assert old.properties.as_dict() == {"plan": "pro"} and old.retained_at == T0 + 31 * DAY
    assert quiet.properties.as_dict() == {"plan": "pro"}
    assert young.comment == "fine" and young.properties.as_dict()["phone"]
    assert read(campaign.id) == counters_before and stats.totals(campaign.id) == totals_before
    assert no_differences(campaign)
    assert retention.apply_retention(T0 + 32 * DAY)["responses"] == 0  # done once

    # a later change of an anonymised response (a CX lead resolves the case) counts as before
    followups.set_loop_status(old.id, {"status": "resolved", "note": "refunded"}, "cx", T0 + 33 * DAY)
    counting.apply_pending()
    after = stats.totals(campaign.id)
    assert (after["comments"], after["theme.pricing"], after["detractors"]) == (2, 1, 1)
    assert no_differences(campaign)

    assert retention.apply_retention(T0 + 71 * DAY)["responses"] == 1
    assert invitation(campaign, c).comment is None
    assert stats.totals(campaign.id)["comments"] == 2 and no_differences(campaign)


def test_a_new_comment_on_an_anonymised_response_counts_and_goes_at_the_next_run(db):
    campaign, (a,) = start({"retention_days": 1}, n=1)
    answer(campaign, a, 9, "lovely", "", T0 + 3600)
    counting.apply_pending()
    retention.apply_retention(T0 + 2 * DAY)
    answer(campaign, a, 3, "too expensive now", "", T0 + 3 * DAY)  # the link is still valid: an edit
    counting.apply_pending()
    assert stats.totals(campaign.id)["theme.pricing"] == 1 and no_differences(campaign)

    assert retention.apply_retention(T0 + 3 * DAY + 60)["responses"] == 1
    assert invitation(campaign, a).comment is None
    assert stats.totals(campaign.id)["theme.pricing"] == 1 and no_differences(campaign)


def test_a_campaign_without_retention_keeps_everything(db):
    campaign, (a,) = start({}, n=1)
    answer(campaign, a, 5, "too expensive", "call me", T0 + 3600)
    counting.apply_pending()
    assert retention.apply_retention(T0 + 3650 * DAY) == {"campaigns": 0, "responses": 0, "moved": 0}
    assert invitation(campaign, a).comment == "too expensive"


def test_retention_can_be_set_on_a_campaign_that_has_gone_out(db):
    campaign, (a,) = start({}, n=1)
    answer(campaign, a, 5, "too expensive", "call me", T0 + 3600)
    counting.apply_pending()
    campaigns.update_campaign(campaign.id, {"options": {"retention_days": 90}}, T0 + 2 * DAY)
    assert campaigns.get_view(campaign.id).options["themes"] == {"pricing": ["expensive"]}  # merged, kept
    assert retention.apply_retention(T0 + 91 * DAY)["responses"] == 1
    assert invitation(campaign, a).comment is None


@pytest.mark.parametrize("value", [0, 3651, "30", True, 1.5])
def test_retention_days_is_a_whole_number_of_days(value):
    body = {"name": "R", "survey": SURVEY, "options": {"retention_days": value}}
    with pytest.raises(ValidationError) as raised:
        campaigns.parse_campaign(body)
    assert raised.value.field == "options.retention_days" and "1 to 3650" in raised.value.message
