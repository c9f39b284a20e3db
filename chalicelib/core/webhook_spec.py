"""What a webhook endpoint is: the events it may subscribe to and the form of its signing secret
(Standard Webhooks' `whsec_` + base64). Pure, so campaigns can check endpoints without the sender
(chalicelib.loop.webhooks), which signs with these secrets and posts.
"""

from __future__ import annotations

import base64
import secrets

PREFIX = "whsec_"
EVENTS = ("response.created", "response.updated")


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()
