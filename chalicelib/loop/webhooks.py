"""Outgoing webhooks signed as the Standard Webhooks specification describes (standardwebhooks.com).

Each delivery carries `webhook-id` (the event's id: the same on every retry, so receivers can
drop duplicates), `webhook-timestamp` (seconds) and `webhook-signature`:
`v1,` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), where the key is the base64
part of the endpoint's `whsec_...` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from chalicelib.core.webhook_spec import PREFIX

TIMEOUT_SECONDS = 5


def signature(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: dict[str, str], body: str) -> bool:
    """What a receiver does; used by our tests."""
    expected = signature(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())


@dataclass(frozen=True)
class Result:
    ok: bool
    permanent: bool
    detail: str


def post_json(url: str, payload: Any, headers: dict[str, str] | None = None) -> Result:
    """POST JSON; 2xx is success, 4xx other than 408/429 will not get better by retrying."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    request = urllib.request.Request(  # noqa: S310 - https only, checked when the URL is configured
        url,
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Closeloop-Webhooks/1", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return Result(True, False, f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        return Result(False, 400 <= exc.code < 500 and exc.code not in (408, 429), f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return Result(False, False, f"unreachable: {exc}")


def deliver(url: str, secret: str, webhook_id: str, timestamp: int, payload: dict) -> Result:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, webhook_id, timestamp, body),
    }
    return post_json(url, payload, headers)
