"""When to send: weekday-morning windows in a contact's time zone. Pure functions."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WINDOW_START_HOUR = 9
WINDOW_HOURS = 2  # 09:00-11:00 local


def valid_timezone(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def weekday_morning(after: float, timezone: str, spread_key: str = "") -> float:
    """The first moment at or after `after` inside a weekday 09:00-11:00 window in `timezone`.

    People answer surveys that arrive on a working morning; `spread_key` (an invitation id)
    places each send at a stable minute of the window, so a large round does not arrive at
    09:00 sharp.
    """
    zone = ZoneInfo(timezone)
    offset = int.from_bytes(hashlib.sha256(spread_key.encode()).digest()[:4], "big") % (WINDOW_HOURS * 3600)
    moment = datetime.fromtimestamp(after, zone)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(8):
        start = (day + timedelta(hours=WINDOW_START_HOUR)).replace(tzinfo=zone)
        end = start + timedelta(hours=WINDOW_HOURS)
        if day.weekday() < 5 and moment < end:
            slot = start + timedelta(seconds=offset)
            return max(slot, moment).timestamp() if moment >= start else slot.timestamp()
        day = (day + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    raise AssertionError("a weekday always comes within 8 days")
