"""Calls per key and window (bulk API calls per token and minute; dashboard sign-in requests per address
and per client and quarter hour), counted in DynamoDB so every Lambda sees the same count."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.core.errors import TooManyRequests
from chalicelib.store.models import RateWindow
from chalicelib.store.transact import ConditionFailed, update

LIMITS = {"import": 20, "send": 30, "preview": 120, "sign-in-address": 5, "sign-in-client": 30}
WINDOWS = {"sign-in-address": 900, "sign-in-client": 900}  # seconds; a minute when not listed


def check(caller_key: str, bucket: str, now: float, per: tuple[int, int] | None = None) -> None:
    """Count this call; TooManyRequests (429, with Retry-After in seconds) past the bucket's limit in its window.
    `per` (calls, seconds) replaces the bucket's limit and window when they are a setting (the v1 API's)."""
    limit, seconds = per or (LIMITS[bucket], WINDOWS.get(bucket, 60))
    window = int(now // seconds)
    try:
        update(
            RateWindow,
            f"{bucket}:{caller_key}:{window}" if seconds == 60 else f"{bucket}:{caller_key}:{seconds}:{window}",
            [RateWindow.calls.add(1), RateWindow.expires.set(datetime.fromtimestamp((window + 2) * seconds, UTC))],
            RateWindow.key.does_not_exist() | (RateWindow.calls < limit),
        )
    except ConditionFailed:
        retry_after = max(1, int((window + 1) * seconds - now) + 1)
        period = (
            "a minute per token"
            if seconds == 60
            else f"per {seconds // 60} minutes"
            if seconds % 60 == 0
            else f"per {seconds} seconds"
        )
        raise TooManyRequests(
            f"At most {limit} {bucket} calls {period}; try again in {retry_after} s.", retry_after
        ) from None
