"""A work queue in a directory, with SQS's semantics where they matter here.

One JSON file per message. Receiving renames a file out of view until its visibility
timeout; deleting removes it; a message received MAX_RECEIVES times without being deleted
moves to `dead/`. `chalice local` (which enqueues) and the local runner (which drains) are
separate processes, so the queue lives on disk, not in memory.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chalicelib.queue.base import MAX_RECEIVES, WorkQueue

VISIBILITY_SECONDS = 120
log = logging.getLogger(__name__)


class LocalWorkQueue(WorkQueue):
    name = "local"

    def __init__(self, root: Path, clock: Callable[[], float] = time.time) -> None:
        self.root = root
        self.clock = clock

    @property
    def dead(self) -> Path:
        return self.root / "dead"

    def send(self, messages: Sequence[dict]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for message in messages:
            body = json.dumps(message, separators=(",", ":"))
            self._write(f"{self.clock():017.6f}-0-0-{uuid.uuid4().hex}.json", body)

    def _write(self, name: str, body: str) -> None:
        partial = self.root / f".{name}.part"
        partial.write_text(body)
        os.replace(partial, self.root / name)

    def receive(self, limit: int = 10) -> list[dict]:
        """Up to `limit` visible messages as SQS-shaped records, hidden until deleted or timed out."""
        records = []
        if not self.root.is_dir():
            return records
        now = self.clock()
        for path in sorted(self.root.glob("*.json")):
            visible_at, receives, _, ident = path.stem.split("-", 3)
            if float(visible_at) > now:
                continue
            count = int(receives) + 1
            hidden = self.root / f"{now + VISIBILITY_SECONDS:017.6f}-{count}-0-{ident}.json"
            try:
                os.replace(path, hidden)
            except FileNotFoundError:
                continue  # another drainer took it
            if count > MAX_RECEIVES:
                self.dead.mkdir(exist_ok=True)
                os.replace(hidden, self.dead / hidden.name)
                continue
            records.append(self._record(hidden, count))
            if len(records) >= limit:
                break
        return records

    def _record(self, path: Path, count: int) -> dict:
        return {
            "messageId": path.stem.split("-", 3)[3],
            "receiptHandle": path.name,
            "body": path.read_text(),
            "attributes": {"ApproximateReceiveCount": str(count)},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:local:000000000000:closeloop-work",
        }

    def delete(self, receipt: str) -> None:
        (self.root / receipt).unlink(missing_ok=True)

    def retry_later(self, receipt: str, delay_seconds: int) -> None:
        path = self.root / receipt
        if path.exists():
            _, receives, _, ident = path.stem.split("-", 3)
            os.replace(path, self.root / f"{self.clock() + delay_seconds:017.6f}-{receives}-0-{ident}.json")

    def depth(self) -> int:
        return len(list(self.root.glob("*.json"))) if self.root.is_dir() else 0

    def drain(self, handler: Callable[[dict, Any], Any], max_rounds: int = 1000) -> int:
        """Deliver visible messages one per invocation (batch size 1, as deployed) until none is visible.

        A handler that raises leaves its message to reappear after the visibility timeout
        (or the backoff it asked for), like SQS. Returns the number of invocations.
        """
        invocations = 0
        for _ in range(max_rounds):
            records = self.receive(limit=1)
            if not records:
                return invocations
            for record in records:
                invocations += 1
                try:
                    handler({"Records": [record]}, None)
                except Exception:
                    log.exception("work message %s failed; it will be redelivered", record["messageId"])
                    continue
                self.delete(record["receiptHandle"])
        return invocations
