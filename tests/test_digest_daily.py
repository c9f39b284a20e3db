"""A daily digest says nothing its own figures contradict: each sentence speaks of the days its figure counts.

A French CX team's campaign, first sent on Tuesday 1 December 2026 in Paris, answered that day
(2 promoters, 1 passive, 1 detractor: NPS +25, one with no plan) and on Thursday 3 December. Its
counters are written by the real applier; the digests are built from them as `digest-preview` builds
them, days later, when the week's counters hold answers after the day a digest covers.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from chalicelib.answers import counting, responses
from chalicelib.campaigns import campaigns
from chalicelib.core.config import get_settings
from chalicelib.core.signing import InvitationRef
from chalicelib.insight import digest
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from chalicelib.sending.invitations import invitation_id
from tests.helpers import drain
from tests.test_digest import text_of

PARIS = "Europe/Paris"
TUESDAY = date(2026, 12, 1)  # of ISO week 49, Monday 30 November to Sunday 6 December
SCORES = {"a@example.com": 10, "b@example.com": 9, "c@example.com": 8, "d@example.com": 3}


def at(day: date, hour: int) -> float:
    return datetime.combine(day, time(hour), ZoneInfo(PARIS)).timestamp()


@pytest.fixture
def french(db) -> campaigns.CampaignView:
    settings, queue = get_settings(), get_queue()
    body = {
        "name": "NPS",
        "survey": {"questions": [{"id": "nps", "type": "nps", "text": "Would you recommend us?"}]},
        "segments": ["plan"],
        "timezone": PARIS,
        "options": {"team_locale": "fr"},
    }
    created = at(TUESDAY, 9)
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), created)
    people = [{"email": email, "properties": {"plan": "pro"} if email != "d@example.com" else {}} for email in SCORES]
    people.append({"email": "late@example.com", "properties": {"plan": "pro"}})
    imports.start(campaign, list(enumerate(people)), "recipients", created, settings, queue)
    campaigns.start_sending(campaign.id, at(TUESDAY, 10), None, queue)
    drain(lambda: at(TUESDAY, 10))
    view = campaigns.get_view(campaign.id)
    answered = [(email, score, at(TUESDAY, 14)) for email, score in SCORES.items()]
    answered.append(("late@example.com", 0, at(date(2026, 12, 3), 11)))  # Thursday
    for email, score, moment in answered:
        ref = InvitationRef(campaign.id, invitation_id(campaign.id, email), 2**40)
        assert responses.record(ref, view, responses.Submission({"nps": score}, None, "submit"), moment, settings)
    while sum(counting.apply_pending().values()):
        pass
    return view


def daily(campaign: campaigns.CampaignView, day: date) -> tuple[digest.Digest, str]:
    built = digest.preview(campaign, digest.Period("daily", day, day), at(date(2026, 12, 4), 9))
    return built, text_of(built)


def test_a_day_before_the_first_send_has_no_answers_in_any_line_and_is_not_called_the_first_day(french):
    built, text = daily(french, date(2026, 11, 30))
    assert built.headline == "aucune réponse, donc pas de NPS"
    assert "premier jour" not in text
    assert "Réponses : 0 (rien à comparer : la campagne a été envoyée pour la première fois le mar. 1 déc.)" in text
    # the week's line counts the days of the week up to the digest's day, and says so: no answers on Monday
    assert "  S49 (jusqu’au lun. 30 nov.) : aucune réponse" in text
    assert "4 réponses" not in text and "+25" not in text


def test_the_first_day_compares_with_nothing_and_its_week_line_counts_that_day_alone(french):
    built, text = daily(french, TUESDAY)
    assert built.headline == "NPS +25"
    assert built.change == "rien à comparer : premier jour de la campagne"
    assert "  S49 (jusqu’au mar. 1 déc.) : +25 (-44 à +73), 4 réponses" in text  # not Thursday's detractor


def test_a_segment_value_nobody_gave_is_named_in_the_teams_language(french):
    built, text = daily(french, TUESDAY)
    assert [row.value for group in built.segments for row in group.rows] == ["pro", "(aucune)"]
    assert "    (aucune) : trop petit pour juger" in text and "(none)" not in text


def test_a_weekly_digest_counts_its_whole_week(french):
    built = digest.preview(french, digest.Period("weekly", date(2026, 11, 30), date(2026, 12, 6)), at(TUESDAY, 9))
    assert built.trend[-1].label == "S49 (30 nov.)" and built.trend[-1].n == 5
