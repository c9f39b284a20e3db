"""Which work queue the settings name, built once per distinct setting."""

from __future__ import annotations

import functools
from pathlib import Path

from chalicelib.core import aws
from chalicelib.core.config import Settings, get_settings
from chalicelib.core.errors import ConfigError
from chalicelib.queue.base import WorkQueue


def get_queue(settings: Settings | None = None) -> WorkQueue:
    settings = settings or get_settings()
    return _build(settings.queue_backend, settings.queue_dir, settings.work_queue_url, settings.region)


@functools.lru_cache(maxsize=8)
def _build(kind: str, directory: Path, url: str | None, region: str) -> WorkQueue:
    if kind == "local":
        from chalicelib.queue.local import LocalWorkQueue  # lazy, for cold start: only the configured backend loads

        return LocalWorkQueue(directory)
    if kind == "sqs":
        if not url:
            raise ConfigError("CLOSELOOP_WORK_QUEUE_URL is not set (the SQS work queue's URL).")
        from chalicelib.queue.sqs import SqsWorkQueue  # lazy, for cold start: its AWS client only where it runs

        return SqsWorkQueue(aws.client("sqs", region), url)
    raise ConfigError(f"CLOSELOOP_QUEUE_BACKEND must be 'local' or 'sqs', not {kind!r}")
