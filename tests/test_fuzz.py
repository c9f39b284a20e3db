"""Schemathesis against the real app: every documented operation, generated input, no 5xx, answers as documented.

`chalice local` serves fresh tables on the session's DynamoDB Local, seeded with the demo
campaign (id `demo`, the example the document gives for `campaign_id`), sent to its four
recipients, so generated requests reach real campaigns, imports and invitations as well as
unknown ids. Every check schemathesis has runs: no server error, status codes, content
types, headers and bodies as the document declares them, and bad input refused.

`make test` runs a fixed seed with a few examples per operation; `make fuzz` runs many more
with a random seed and prints it (FUZZ_SEED=... make fuzz replays a run).

Bulk calls are limited per token and minute (429 with Retry-After, declared in the
document), so a long run mostly meets 429 on imports, sends and previews after the first
minute's allowance; the fixed-seed run stays within it.

Two checks are left out, each for a reason: `positive_data_acceptance`, because JSON Schema
cannot say everything a valid request needs (unique question ids, a template that compiles,
an IANA time zone, a cursor the API signed), so schema-valid requests are rightly refused;
and TRACE among the undeclared methods, because chalice local's HTTP server answers it 501
itself before the app sees it (API Gateway answers it on AWS).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import seed as hypothesis_seed

from chalicelib.admin import openapi
from chalicelib.core.surveys import MAX_LABEL, MAX_QUESTION_TEXT
from localdev import dynamodb
from tests.browser_support import start_app
from tests.conftest import ADMIN_TOKEN, local_settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SEED = int(os.environ.get("FUZZ_SEED") or (random.randrange(2**32) if os.environ.get("FUZZ_RANDOM") else 20261124))


@pytest.fixture(scope="module")
def base_url(dynamodb_endpoint, tmp_path_factory) -> Iterator[str]:
    """`chalice local` on a free port, serving the seeded tables."""
    from chalicelib.queue import get_queue
    from chalicelib.runtime import demo, work
    from chalicelib.store.tables import create_tables, delete_tables

    scratch = tmp_path_factory.mktemp("fuzz")
    values = local_settings(dynamodb_endpoint, scratch / "outbox", scratch)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        create_tables()
        try:
            demo.seed(time.time())
            get_queue().drain(lambda event, _context: [work.handle(r) for r in event["Records"]])
            process, base = start_app(values, scratch / "chalice.log")
            print(f"\nschemathesis: seed {SEED}, {EXAMPLES} examples per operation (FUZZ_SEED={SEED} replays)")
            try:
                yield base
            finally:
                dynamodb.stop(process)
        finally:
            delete_tables()


def _call(base_url: str, method: str, path: str, body: bytes | str | None = None, content_type="application/json"):
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    if content_type:
        headers["Content-Type"] = content_type
    return requests.request(method, base_url + path, data=body, headers=headers, timeout=60)


def _draft(base_url: str, **extra) -> str:
    body = {"name": "Input", "survey": {"questions": [{"id": "nps", "type": "nps", "text": "Recommend us?"}]}, **extra}
    created = _call(base_url, "POST", "/api/campaigns", json.dumps(body))
    assert created.status_code == 201, created.text
    return created.json()["campaign"]["id"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("GET", "/api/campaigns/demo/imports/0", None, 404, "No import '0'."),
        ("GET", "/api/campaigns/demo/imports/%FF%FE", None, 404, None),
        ("GET", "/api/campaigns/%C3%28/stats", None, 404, None),
        ("GET", "/api/campaigns/demo/responses?category=%FF", None, 400, None),
        (
            "GET",
            "/api/campaigns?cursor=eyJpZCI6IHsiUyI6ICJ4In19",
            None,
            400,
            "That cursor belongs to another list or other filters, or was changed: start from the first page, "
            "without cursor.",
        ),
        ("POST", "/api/campaigns/demo/send", "{}", 409, "Only a draft campaign can be sent. This campaign is sent."),
        ("POST", "/api/campaigns/demo/send", "[]", 400, None),
        ("POST", "/api/campaigns/demo/recipients", "\x00", 400, "The request body is not valid JSON."),
        ("POST", "/api/campaigns/demo/recipients", "[" * 100_000, 400, "The JSON body nests deeper than 32 levels."),
        ("POST", "/api/campaigns/demo/preview", '{"email": "a@example.com", "properties": {"a": NaN}}', 400, None),
        ("POST", "/api/campaigns/demo/preview", '{"email": "a@example.com", "properties": {"a": 1e-200}}', 400, None),
        ("POST", "/api/campaigns/demo/preview", '{"email": "\\ud800@example.com"}', 400, None),
        ("POST", "/api/campaigns/demo/preview", '{"email": "", "properties": {"": {}}}', 400, None),
        ("PUT", "/api/campaigns/demo/digest-recipients", '{"recipients": [{"email": {"a": 1}}]}', 400, None),
        ("PUT", "/api/campaigns/demo/digest-recipients", '{"recipients": [["a@example.com"]]}', 400, None),
    ],
)
def test_inputs_that_once_gave_server_errors_get_the_right_4xx(base_url, method, path, body, status, message):
    response = _call(base_url, method, path, body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] == message if message else error["message"]


def test_a_question_text_too_large_for_a_dynamodb_item_is_refused_with_its_size(base_url):
    body = {"name": "Huge", "survey": {"questions": [{"id": "nps", "type": "nps", "text": "x" * 10_000_000}]}}
    response = _call(base_url, "POST", "/api/campaigns", json.dumps(body))
    assert response.status_code == 413
    assert response.json() == {
        "error": {"message": "The body is 9.5 MB; this endpoint takes at most 120 KB.", "field": "body"}
    }
    long = {"name": "Long", "survey": {"questions": [{"id": "nps", "type": "nps", "text": "😀" * 30_000}]}}
    refused = _call(base_url, "POST", "/api/campaigns", json.dumps(long, ensure_ascii=False))
    assert (refused.status_code, refused.json()["error"]["field"]) == (400, "survey.questions[0].text")
    # every question at its limits, in a script of 4 bytes a character: near the body's limit, and stored
    limits = {"text": "😀" * MAX_QUESTION_TEXT, "low_label": "😀" * MAX_LABEL, "high_label": "😀" * MAX_LABEL}
    near = {"name": "Near", "survey": {"questions": [{"id": f"q{n}", "type": "nps", **limits} for n in range(20)]}}
    raw = json.dumps(near, ensure_ascii=False)
    assert len(raw.encode()) > 110 * 1024
    assert _call(base_url, "POST", "/api/campaigns", raw).status_code == 201


def test_a_body_without_a_json_content_type_gets_415_in_the_same_error_shape(base_url):
    """What `curl -d` sends: application/x-www-form-urlencoded."""
    form = "application/x-www-form-urlencoded"
    for method, path in [
        ("POST", "/api/campaigns"),
        ("PATCH", "/api/campaigns/demo"),
        ("POST", "/api/campaigns/demo/send"),
    ]:
        response = _call(base_url, method, path, "name=x", content_type=form)
        assert response.status_code == 415
        assert response.json() == {
            "error": {"message": f"Send the body as application/json, not {form}.", "field": "Content-Type"}
        }
    imports = _call(base_url, "POST", "/api/campaigns/demo/recipients", "x", content_type="text/plain")
    assert imports.json()["error"]["message"] == (
        "Send the body as application/json or text/csv or multipart/form-data, not text/plain."
    )


def test_a_send_time_in_the_past_is_refused_naming_the_time_in_the_campaigns_zone(base_url):
    campaign_id = _draft(base_url, timezone="America/New_York")
    response = _call(base_url, "POST", f"/api/campaigns/{campaign_id}/send", '{"at": "2020-01-01T09:00:00+01:00"}')
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "at"
    assert error["message"].startswith(
        "2020-01-01T09:00:00+01:00 is in the past: 2020-01-01 03:00 in the campaign's time zone America/New_York, "
        "where it is now "
    )
    assert _call(base_url, "GET", f"/api/campaigns/{campaign_id}").json()["campaign"]["status"] == "draft"


def test_creating_a_campaign_to_send_at_a_past_time_creates_nothing(base_url):
    before = _call(base_url, "GET", "/api/campaigns?limit=200").json()["campaigns"]
    body = {"name": "Typo", "survey": {"questions": [{"id": "nps", "type": "nps", "text": "Recommend us?"}]}}
    response = _call(base_url, "POST", "/api/campaigns", json.dumps({**body, "at": "2020-01-01T09:00:00Z"}))
    assert response.status_code == 400
    assert "in the campaign's time zone UTC" in response.json()["error"]["message"]
    assert _call(base_url, "GET", "/api/campaigns?limit=200").json()["campaigns"] == before


def test_a_send_time_within_the_clock_skew_grace_sends_now(base_url):
    campaign_id = _draft(base_url, recipients=[{"email": "ana@example.com"}])
    moment = datetime.fromtimestamp(time.time() - 30, UTC).isoformat()
    response = _call(base_url, "POST", f"/api/campaigns/{campaign_id}/send", json.dumps({"at": moment}))
    assert response.status_code == 202
    assert response.json()["status"] == "sending"


# Last in this file, since it changes the demo campaign the tests above rely on.
# The document app.py serves at /api/openapi.json (tests/test_openapi.py proves they agree); the
# server's address is known only once it runs, so each call is given it.
schema = schemathesis.openapi.from_dict(
    openapi.document("http://127.0.0.1"),
    config=schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
            "seed": SEED,
            "checks": {"positive_data_acceptance": {"enabled": False}},
            "phases": {"coverage": {"unexpected-methods": ["get", "put", "post", "delete", "options", "patch"]}},
        }
    ),
)


@schema.parametrize()
@hypothesis_seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_no_input_gets_a_server_error_and_every_answer_is_as_documented(case, base_url):
    case.call_and_validate(base_url=base_url)
