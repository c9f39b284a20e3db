"""GET /v1/metrics over a span: whole days from the day counters, part-days answer by answer, one result."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.answers import counting
from chalicelib.delighted import keys
from chalicelib.insight import reports
from chalicelib.store.models import Invitation
from tests.helpers import launch
from tests.test_delighted_api import SURVEY, call

ZONE = ZoneInfo("Asia/Kolkata")  # +05:30: its days start at 18:30 UTC, so UTC days would miscount


def test_a_span_counts_exactly_the_answers_in_it_across_whole_and_part_days(client, db, outbox):
    sent = launch(outbox, survey=SURVEY, timezone="Asia/Kolkata")
    key, _ = keys.mint_key("metrics", sent.campaign.id, time.time())
    midnight = datetime.combine(datetime.now(ZONE).date() - timedelta(days=6), datetime.min.time(), ZONE).timestamp()
    moments = [midnight + day * 86400 + offset for day in range(6) for offset in (0, 1, 3600, 43200, 86399)]
    for n, at in enumerate(moments):
        _, person, _ = call(client, "POST", "/v1/people.json", key, {"email": f"p{n}@example.com", "send": False})
        body = {"person": person["id"], "score": n % 11, "created_at": int(at)}
        assert call(client, "POST", "/v1/survey_responses.json", key, body)[0] == 200
    counting.apply_pending()
    answered = [(float(i.answered_at), i.category) for i in Invitation.responses.query(sent.campaign.id)]
    assert len(answered) == len(moments)

    spans = [
        (midnight, midnight + 6 * 86400),  # six whole days
        (midnight + 1, midnight + 5 * 86400 - 1),  # part-days at both ends
        (midnight + 3600, midnight + 3600),  # one instant
        (midnight + 43200, midnight + 2 * 86400 + 43200),
        (0, midnight + 86400),  # from 1970: nothing read before the first answer
        (midnight + 2 * 86400, 10**11 - 1),
    ]
    for since, until in spans:
        expected = sum(1 for at, _ in answered if since <= at <= until)
        promoters = sum(1 for at, c in answered if since <= at <= until and c == "promoter")
        status, metrics, _ = call(client, "GET", f"/v1/metrics.json?since={int(since)}&until={int(until)}", key)
        assert status == 200
        assert (metrics["response_count"], metrics["promoter_count"]) == (expected, promoters), (since, until)


def test_a_span_without_answers_counts_none(client, db, outbox):
    sent = launch(outbox, survey=SURVEY)
    assert reports.categories_between(sent.campaign, 0, 10**11) == {"promoter": 0, "passive": 0, "detractor": 0}
