"""The delivery ledger: each key is sent at most once, retried after failures, given up on in the end."""

from __future__ import annotations

from chalicelib.sending import ledger


def test_a_key_is_claimed_once_until_its_lease_runs_out(db):
    assert ledger.claim("digest#c1#a@example.com#W#2026-W48", 1000) is not None
    assert ledger.claim("digest#c1#a@example.com#W#2026-W48", 1001) is None
    assert ledger.claim("digest#c1#a@example.com#W#2026-W48", 1000 + ledger.LEASE_SECONDS + 1) is not None


def test_a_done_key_is_never_claimed_again(db):
    ledger.claim("alert#e1#email", 1000)
    ledger.done("alert#e1#email", 1001)
    assert ledger.claim("alert#e1#email", 10**10) is None
    assert ledger.get("alert#e1#email").state == "done"


def test_a_failure_is_retried_after_a_backoff_then_given_up(db):
    delivery = ledger.claim("webhook#w1#e1", 1000, payload={"event": "response.created"})
    assert ledger.failed(delivery, 1000, "HTTP 503") == "retry"
    assert ledger.claim("webhook#w1#e1", 1001) is None  # not due yet
    assert [d.key for d in ledger.due(1000 + 3600)] == ["webhook#w1#e1"]
    now = 1000.0
    state = "retry"
    while state == "retry":
        now += 8 * 3600  # past the longest backoff (6 h, +20% jitter)
        delivery = ledger.claim("webhook#w1#e1", now)
        state = ledger.failed(delivery, now, "HTTP 503")
    assert delivery.attempts == ledger.MAX_ATTEMPTS
    assert ledger.get("webhook#w1#e1").state == "failed"
    assert ledger.get("webhook#w1#e1").payload == {"event": "response.created"}
    assert ledger.due(10**10) == []


def test_a_permanent_failure_is_not_retried(db):
    delivery = ledger.claim("alert#e2#email", 1000)
    assert ledger.failed(delivery, 1000, "address bounced", permanent=True) == "failed"
    assert ledger.claim("alert#e2#email", 10**10) is None
