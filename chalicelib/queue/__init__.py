"""Background work: fan-out, sends and imports travel as queue messages."""

from chalicelib.queue.base import MAX_RECEIVES, WorkQueue
from chalicelib.queue.config import get_queue

__all__ = ["MAX_RECEIVES", "WorkQueue", "get_queue"]
