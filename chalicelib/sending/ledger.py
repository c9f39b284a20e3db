"""Exactly-once sending of anything keyed: claim, send, mark done; retry later on failure.

A key names one thing to send once: `alert#<event>#email`, `webhook#<endpoint>#<event>`,
`digest#<campaign>#<recipient>#<period>`. Claiming is a conditional write: only when the key
is new, or failed earlier and due again, or claimed by a worker whose lease ran out. A
failure records the error and the next attempt time in the sparse `retry-due` index, which
the dispatcher reads; after `max_attempts` the key stays failed and is reported.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from chalicelib.store import bind
from chalicelib.store.models import Delivery
from chalicelib.store.transact import ConditionFailed, update

LEASE_SECONDS = 120
KEEP_DAYS = 35
RETRY_PK = "retry"
MAX_ATTEMPTS = 8


def claim(key: str, now: float, payload: Any = None) -> Delivery | None:
    """The delivery, claimed for this worker; None if it is done, failed for good, or held by another."""
    bind()
    try:
        raw = update(
            Delivery,
            key,
            [
                Delivery.state.set("sending"),
                Delivery.lease_until.set(now + LEASE_SECONDS),
                Delivery.attempts.add(1),
                Delivery.created_at.set(Delivery.created_at | now),
                Delivery.expires.set(datetime.fromtimestamp(now + KEEP_DAYS * 86400, UTC)),
                *([Delivery.payload.set(payload)] if payload is not None else []),
            ],
            Delivery.key.does_not_exist()
            | ((Delivery.state == "retry") & (Delivery.next_at <= now))
            | ((Delivery.state == "sending") & (Delivery.lease_until < now)),
        )
    except ConditionFailed:
        return None
    return Delivery.from_raw_data(raw)


def done(key: str, now: float) -> None:
    update(
        Delivery,
        key,
        [
            Delivery.state.set("done"),
            Delivery.done_at.set(now),
            Delivery.lease_until.remove(),
            Delivery.retry_pk.remove(),
            Delivery.next_at.remove(),
        ],
    )


def backoff(attempt: int) -> float:
    """30 s, 2 min, 8 min, ... up to 6 h, with jitter: a receiver that is down is not hammered."""
    return min(6 * 3600, 30 * 4 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)


def failed(
    delivery: Delivery, now: float, error: str, permanent: bool = False, max_attempts: int = MAX_ATTEMPTS
) -> str:
    """Record a failure: due again after a backoff, or failed for good. Returns the new state."""
    attempt = int(delivery.attempts or 1)
    if permanent or attempt >= max_attempts:
        state, schedule = "failed", [Delivery.retry_pk.remove(), Delivery.next_at.remove()]
    else:
        state, schedule = "retry", [Delivery.retry_pk.set(RETRY_PK), Delivery.next_at.set(now + backoff(attempt))]
    update(
        Delivery,
        delivery.key,
        [Delivery.state.set(state), Delivery.last_error.set(error[:500]), Delivery.lease_until.remove(), *schedule],
    )
    return state


def due(now: float, limit: int = 500) -> list[Delivery]:
    """Deliveries whose next attempt is due: a Query on the sparse retry-due index."""
    bind()
    keys = [d.key for d in Delivery.retry_due.query(RETRY_PK, Delivery.next_at <= now, limit=limit)]
    return list(Delivery.batch_get(keys)) if keys else []


def get(key: str) -> Delivery | None:
    bind()
    try:
        return Delivery.get(key, consistent_read=True)
    except Delivery.DoesNotExist:
        return None
