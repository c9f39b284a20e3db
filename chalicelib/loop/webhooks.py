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

from chalicelib.core.webhook_spec import secret_key
from chalicelib.web.outbound import Result, post_json


def signature(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """`v1,` + base64 HMAC-SHA256; ValueError when the secret is not a valid `whsec_` secret."""
    digest = hmac.new(secret_key(secret), f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: dict[str, str], body: str) -> bool:
    """What a receiver does; used by our tests."""
    expected = signature(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())


def deliver(
    url: str,
    secret: str,
    webhook_id: str,
    timestamp: int,
    payload: dict,
    *,
    local: bool,
) -> Result:
    """One signed POST through chalicelib.web.outbound; a secret saved before it was checked fails for good."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        signed = signature(secret, webhook_id, timestamp, body)
    except ValueError as exc:
        return Result(False, True, f"refused: {exc}")
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp), "webhook-signature": signed}
    return post_json(url, payload, headers, local=local)
