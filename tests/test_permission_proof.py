"""The permission proof (tests/permission_proof.py) finds a call the grants lack, and a grant no call uses."""

from __future__ import annotations

import dataclasses
import time

from chalicelib.campaigns import campaigns
from chalicelib.queue import get_queue
from infra.permissions import PERMISSIONS, Grants
from tests.aws_calls import current_function, entry_points
from tests.conftest import admin_headers
from tests.helpers import create_campaign, drain, people
from tests.permission_proof import compare, recording


def _without(function: str, action: str, *tables: str) -> dict[str, Grants]:
    """PERMISSIONS with `action` taken from `function` on `tables`."""
    grants = PERMISSIONS[function]
    kept = {t: tuple(a for a in actions if a != action or t not in tables) for t, actions in grants.tables.items()}
    return {**PERMISSIONS, function: dataclasses.replace(grants, tables=kept)}


def test_a_send_batch_needs_batch_get_on_invitations_and_suppressions_and_the_proof_says_so(db, outbox):
    campaign = create_campaign(people(3))
    campaigns.start_sending(campaign.id, time.time(), None, get_queue())
    with recording() as uses:
        drain()
    assert ("work_queue", ("tables", "suppressions", "BatchGetItem")) in uses
    before = _without("work_queue", "BatchGetItem", "invitations", "suppressions")  # as infra/permissions.py was
    report = [line.split("  #")[0] for line in compare(uses, before, whole_suite=False)]
    assert report == [
        "missing  PERMISSIONS['work_queue'].tables['invitations']: add 'BatchGetItem'",
        "missing  PERMISSIONS['work_queue'].tables['suppressions']: add 'BatchGetItem'",
    ]
    assert compare(uses, PERMISSIONS, whole_suite=False) == []


def test_a_grant_no_test_uses_is_reported_only_for_the_whole_suite():
    uses = {("ses_events", ("tables", "suppressions", "PutItem")): "tests/test_x.py::test_y"}
    permissions = {"ses_events": Grants(tables={"suppressions": ("PutItem", "GetItem")}, send_mail=True)}
    assert compare(uses, permissions, whole_suite=False) == []
    assert [line.split("  #")[0] for line in compare(uses, permissions, whole_suite=True)] == [
        "unused   PERMISSIONS['ses_events']: send_mail=False",
        "unused   PERMISSIONS['ses_events'].tables['suppressions']: remove 'GetItem'",
    ]


def test_a_route_s_calls_belong_to_the_api_handler(client):
    with recording() as uses:
        response = client.http.get("/api/campaigns", headers=admin_headers())
    assert response.status_code == 200
    assert {function for function, _ in uses} == {"api_handler"}
    assert {need for _, need in uses} >= {("tables", "campaigns", "Query:all-campaigns"), ("read_secrets",)}


def test_every_queue_topic_and_schedule_handler_is_its_own_function_and_tests_outside_them_are_none():
    handlers, callees = entry_points()
    assert {name: handlers[name] for name in ("work_queue", "ses_events", "dispatch_due", "send_digests")} == {
        "work_queue": "work_queue",
        "ses_events": "ses_events",
        "dispatch_due": "dispatch_due",
        "send_digests": "send_digests",
    }
    assert handlers["create_campaign"] == "api_handler"
    assert callees[("chalicelib.runtime.work", "handle")] == "work_queue"
    assert current_function() is None
