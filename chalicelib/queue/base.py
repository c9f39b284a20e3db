"""The work-queue port: SQS on AWS, a directory on this machine; the same handler drains both."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

MAX_RECEIVES = 5  # then a message goes to the dead-letter queue


class WorkQueue(ABC):
    name: str

    @abstractmethod
    def send(self, messages: Sequence[dict]) -> None:
        """Enqueue JSON-serialisable messages, in batches the backend accepts."""

    @abstractmethod
    def retry_later(self, receipt: str, delay_seconds: int) -> None:
        """Make a received message visible again after `delay_seconds` (backoff)."""
