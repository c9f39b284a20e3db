"""What a webhook endpoint is: the events it may subscribe to and the form of its signing secret
(Standard Webhooks' `whsec_` + base64). Pure, so campaigns can check endpoints without the sender
(chalicelib.loop.webhooks), which signs with these secrets and posts.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

PREFIX = "whsec_"
MIN_KEY_BYTES = 16
EVENTS = ("response.created", "response.updated")


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_key(secret: Any) -> bytes:
    """The signing key of a `whsec_` secret: strict base64 of at least 16 bytes; ValueError otherwise.

    A lenient decoder drops the characters it does not know, which once left an empty key that
    anyone could sign with."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        raise ValueError("A secret is whsec_ followed by base64 (omit it to get one).")
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("A secret is whsec_ followed by base64 (omit it to get one).") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"A secret's key is at least {MIN_KEY_BYTES} bytes ({len(key)} given).")
    return key
