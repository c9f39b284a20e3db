"""The work queue's handler: one message, one kind of work, retried by the queue when it must be.

Kinds: `fanout` (page through a campaign, enqueue batches), `send` and `remind` (a batch of
up to 50 invitations), `place` (first rounds of a recurring campaign), `import` (a chunk of
recipients), `event` (alerts and webhooks for one answer, each destination through the
ledger). Every kind is idempotent, so a message delivered twice does no harm; a batch
that met SES throttling asks the queue to show it again after a backoff, and a message that
keeps failing ends in the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from chalicelib.campaigns.contacts import Recipient
from chalicelib.core.config import Settings, get_settings
from chalicelib.loop import alerts
from chalicelib.queue import WorkQueue, get_queue
from chalicelib.sending import delivery, imports

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """Raised after asking the queue to show the message again later; the queue redelivers it."""


def handle(record: dict, clock: Callable[[], float] = time.time, settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    queue = get_queue(settings)
    message = json.loads(record["body"])
    kind = message.get("kind")
    if kind in ("send", "remind"):
        return _send(record, message, kind == "remind", clock, settings, queue)
    if kind == "fanout":
        return delivery.fanout(message["campaign_id"], message.get("cursor"), queue)
    if kind == "place":
        return f"placed {delivery.place(message['campaign_id'], message['ids'], clock())}"
    if kind == "import":
        recipients = [
            Recipient(r["email"], r.get("properties", {}), r.get("guessed", {})) for r in message["recipients"]
        ]
        return imports.process_chunk(message["import_id"], message["chunk"], recipients, clock(), settings, queue)
    if kind == "event":
        outcomes = alerts.deliver_event(message, clock(), settings)
        return ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    raise ValueError(f"unknown work message kind {kind!r}")


def _send(record: dict, message: dict, reminder: bool, clock, settings: Settings, queue: WorkQueue) -> str:
    pacer = delivery.Pacer(settings.send_rate)
    result = delivery.send_batch(message["campaign_id"], message["ids"], reminder, clock, settings, pacer)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(result.outcomes.items()))
    if result.retry_after is not None:
        queue.retry_later(record["receiptHandle"], result.retry_after)
        log.warning("batch for %s will be retried in %ss: %s", message["campaign_id"], result.retry_after, summary)
        raise RetryLater(summary)
    return summary
