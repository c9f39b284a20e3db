"""Delighted's own Python SDK (delighted 4.2.0, from PyPI) against the app served by `chalice local`:
an app that changes its base URL and API key keeps working."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chalicelib.admin import api as admin_api
from chalicelib.answers import counting
from chalicelib.campaigns import suppression
from chalicelib.core.config import token_hash
from chalicelib.delighted import keys
from chalicelib.store.models import RateWindow
from localdev import dynamodb
from tests.browser_support import start_app
from tests.conftest import read_outbox
from tests.helpers import drain, launch

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)  # "Delighted is being sunset": the reason for this API
    import delighted
    from delighted.errors import ResourceValidationError, TooManyRequestsError

RATE_WINDOW = 2  # seconds: the served app's window, so the SDK's wait on Retry-After stays short


class Recording(delighted.HTTPAdapter):
    """The SDK's own adapter, keeping the status of every answer it received."""

    def __init__(self) -> None:
        self.statuses: list[int] = []

    def request(self, method, uri, headers=None, data=None, params=None):
        response = super().request(method, uri, headers or {}, data, params)
        self.statuses.append(response.status_code)
        return response


@pytest.fixture
def served(db, monkeypatch, tmp_path, outbox) -> Iterator[tuple[str, str, str]]:
    """(base URL, key, campaign id): `chalice local` on this test's tables, a sending campaign, a key."""
    sent = launch(outbox, segments=("plan",))
    key, _ = keys.mint_key("storefront", sent.campaign.id, time.time())
    monkeypatch.setenv("CLOSELOOP_V1_RATE_LIMIT", "1000")
    monkeypatch.setenv("CLOSELOOP_V1_RATE_WINDOW", str(RATE_WINDOW))
    process, base = start_app(db, tmp_path / "chalice.log")
    monkeypatch.setenv("CLOSELOOP_BASE_URL", base)
    try:
        yield base, key, sent.campaign.id
    finally:
        dynamodb.stop(process)


def test_an_app_on_delighteds_sdk_works_by_changing_its_base_url_and_key(served, outbox):
    base, key, campaign_id = served
    adapter = Recording()
    client = delighted.Client(api_key=key, api_base_url=f"{base}/v1/", http_adapter=adapter)

    # people with properties, surveyed at once
    before = len(read_outbox(outbox))
    created = [
        delighted.Person.create(
            client=client,
            email=f"buyer{n}@example.com",
            name=f"Buyer {n}",
            properties={"plan": ("pro", "free")[n % 2], "order_id": 1000 + n},
        )
        for n in range(5)
    ]
    assert all(isinstance(p, delighted.Person) and p.id for p in created)
    assert created[0].email == "buyer0@example.com" and created[0].survey_scheduled_at is not None
    quiet = delighted.Person.create(client=client, email="quiet@example.com", send=False)
    assert quiet.survey_scheduled_at is None
    drain()
    mailed = sorted(str(m["To"]) for m in read_outbox(outbox)[before:])
    assert mailed == [f"buyer{n}@example.com" for n in range(5)]

    # every person, two per page, through the Link headers
    people = list(delighted.Person.list(client=client, per_page=2).auto_paging_iter())
    assert [p.email for p in people] == ["ada@example.com"] + [f"buyer{n}@example.com" for n in range(5)] + [
        "quiet@example.com"
    ]
    assert people[1].name == "Buyer 0" and people[1].properties == {"plan": "pro", "order_id": 1000}

    # answers posted by the app, listed with the person expanded
    for person, score in zip(created, [10, 9, 8, 6, 2], strict=True):
        response = delighted.SurveyResponse.create(client=client, person=person.id, score=score, comment="Fine")
        assert isinstance(response, delighted.SurveyResponse) and response.score == score
    counting.apply_pending()
    listed = delighted.SurveyResponse.all(client=client, expand=["person"], order="desc")
    assert [r.score for r in listed] == [2, 6, 8, 9, 10]
    assert isinstance(listed[0].person, delighted.Person) and listed[0].person.email == "buyer4@example.com"
    one = delighted.SurveyResponse.retrieve(listed[-1].id, client=client, expand=["person"])
    assert one.person.id == created[0].id and one.comment == "Fine"
    one.tags = ["follow-up"]
    saved = one.save(client=client)
    assert saved.tags == ["follow-up"]

    # metrics over a range equal ours: the admin API's for the same day, from the nps module
    today = datetime.now(UTC).date()
    start = int(datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp())
    metrics = delighted.Metrics.retrieve(client=client, since=start, until=start + 86399)
    ours = admin_api.metrics(campaign_id, {"since": today.isoformat(), "until": today.isoformat()}, time.time())[1]
    assert (metrics.promoter_count, metrics.passive_count, metrics.detractor_count) == (
        ours["nps"]["promoters"],
        ours["nps"]["passives"],
        ours["nps"]["detractors"],
    )
    assert metrics.response_count == ours["nps"]["n"] == 5
    assert metrics.nps == round(ours["nps"]["score"]) == 0
    assert metrics.promoter_percent == 40.0
    assert delighted.Metrics.retrieve(client=client, since=start + 86400).response_count == 0

    # unsubscribes and bounces, and what a refused request raises
    delighted.Unsubscribe.create(client=client, person_email="buyer1@example.com")
    assert [u.email for u in delighted.Unsubscribe.all(client=client)] == ["buyer1@example.com"]
    suppression.suppress("buyer2@example.com", "bounced", time.time(), "ses")
    bounces = delighted.Bounce.all(client=client)
    assert [(b.email, b.person_id) for b in bounces] == [("buyer2@example.com", created[2].id)]
    with pytest.raises(ResourceValidationError):
        delighted.Person.create(client=client, email="not an address")
    assert delighted.SurveyRequest.delete_pending(client=client, person_email="quiet@example.com") == {"ok": True}
    assert delighted.Person.delete(client=client, email="quiet@example.com") == {"ok": True}
    assert delighted.Person.delete(client=client, id=created[4].id) == {"ok": True}
    assert [p.email for p in delighted.Person.list(client=client, email="quiet@example.com").auto_paging_iter()] == []

    # a 429 with Retry-After, raised to the app, or waited out by the SDK's auto_handle_rate_limits
    def spend_this_window_and_the_next() -> None:
        window = int(time.time() // RATE_WINDOW)
        for full in (window, window + 1):
            expires = datetime.fromtimestamp((full + 2) * RATE_WINDOW, UTC)
            RateWindow(f"v1:{token_hash(key)}:{RATE_WINDOW}:{full}", calls=1000, expires=expires).save()

    spend_this_window_and_the_next()
    with pytest.raises(TooManyRequestsError) as refused:
        next(delighted.Person.list(client=client, per_page=100).auto_paging_iter())
    assert 1 <= refused.value.retry_after <= RATE_WINDOW + 1
    spend_this_window_and_the_next()
    adapter.statuses.clear()
    everyone = list(delighted.Person.list(client=client, per_page=100).auto_paging_iter(auto_handle_rate_limits=True))
    assert len(everyone) == 5
    assert adapter.statuses[0] == 429 and adapter.statuses[-1] == 200
