"""Admin: the admin API's use cases, tokens, OpenAPI document and rate limits.

Owns the use cases behind `/api/...` (`api`), API tokens (`auth`), the OpenAPI document
(`openapi`) and rate windows (`ratelimit`). The dashboard and a second API (Delighted's v1)
will sit beside it, in this layer.

May use: every feature, core and the adapters. Only app.py and the CLI import it.
"""
