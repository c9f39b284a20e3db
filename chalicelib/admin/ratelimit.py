"""Bulk calls per token and minute, counted in DynamoDB so every Lambda sees the same count."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.core.errors import TooManyRequests
from chalicelib.store.models import RateWindow
from chalicelib.store.transact import ConditionFailed, update

LIMITS = {"import": 20, "send": 30, "preview": 120}


def check(caller_key: str, bucket: str, now: float) -> None:
    """Count this call; TooManyRequests (429, with Retry-After) past the bucket's limit this minute."""
    limit = LIMITS[bucket]
    window = int(now // 60)
    try:
        update(
            RateWindow,
            f"{bucket}:{caller_key}:{window}",
            [RateWindow.calls.add(1), RateWindow.expires.set(datetime.fromtimestamp((window + 2) * 60, UTC))],
            RateWindow.key.does_not_exist() | (RateWindow.calls < limit),
        )
    except ConditionFailed:
        retry_after = max(1, int((window + 1) * 60 - now) + 1)
        raise TooManyRequests(
            f"At most {limit} {bucket} calls a minute per token; try again in {retry_after} s.", retry_after
        ) from None
