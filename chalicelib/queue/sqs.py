"""Amazon SQS: SendMessageBatch ten at a time; redrive to the dead-letter queue is configured in infra/."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalicelib.queue.base import WorkQueue


class SqsWorkQueue(WorkQueue):
    name = "sqs"

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url

    def send(self, messages: Sequence[dict]) -> None:
        for start in range(0, len(messages), 10):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))}
                for i, m in enumerate(messages[start : start + 10])
            ]
            pending = entries
            for _ in range(5):
                failed = self.client.send_message_batch(QueueUrl=self.url, Entries=pending).get("Failed", [])
                if not failed:
                    break
                ids = {f["Id"] for f in failed}
                pending = [e for e in pending if e["Id"] in ids]
            else:
                raise RuntimeError(f"SQS refused {len(pending)} messages: {failed}")

    def retry_later(self, receipt: str, delay_seconds: int) -> None:
        self.client.change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt, VisibilityTimeout=max(0, min(43200, delay_seconds))
        )
