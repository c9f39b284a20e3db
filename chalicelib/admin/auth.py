"""Bearer tokens for the admin API, stored and configured only as SHA-256 hashes."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DeleteError

from chalicelib.core.config import get_settings, token_hash
from chalicelib.core.errors import Unauthorized
from chalicelib.core.signing import new_id
from chalicelib.store import bind
from chalicelib.store.models import ApiToken

_DIGEST = re.compile(r"[0-9a-f]{64}")

CACHE_SECONDS = 60
V1_KEY_ROLE = "delighted"  # the role of the v1 API's keys (chalicelib.delighted.keys), kept in the same table
PREFIX_CHARS = 7  # "cl_" and 4 random characters
_cache: dict[tuple[str, str], tuple[float, str]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Caller:
    name: str
    key: str  # the token's hash: what rate limits are counted against


def authenticate(headers: Mapping[str, str]) -> Caller:
    """Who is calling; Unauthorized when the token is missing or unknown."""
    header = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an admin token as 'Authorization: Bearer <token>'.", "Authorization")
    digest = token_hash(token.strip())
    settings = get_settings()
    if digest in settings.admin_token_hashes:
        return Caller("configured token", digest)
    key = (settings.table_prefix, digest)
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return Caller(hit[1], digest)
    bind(settings)
    try:
        token = ApiToken.get(digest)
    except ApiToken.DoesNotExist:
        raise Unauthorized("That admin token is not valid.", "Authorization") from None
    if token.role == V1_KEY_ROLE:  # a Delighted v1 API key opens the v1 API only
        raise Unauthorized("That admin token is not valid.", "Authorization")
    name = token.name
    with _lock:
        _cache[key] = (time.monotonic(), name)
    return Caller(name, digest)


def mint_token(name: str, now: float, role: str = "admin", created_by: str | None = None) -> str:
    """A new token, shown once; only its hash and its first PREFIX_CHARS characters are kept."""
    bind()
    token = f"cl_{new_id(24)}"
    ApiToken(
        token_hash(token),
        name=name,
        role=role,
        created_at=now,
        created_by=created_by,
        list_pk="token",
        prefix=prefix_of(token),
    ).save()
    return token


def prefix_of(token: str) -> str:
    """What tells a token apart in lists ("cl_y755"): `cl_` and 4 of its 32 random characters, i.e. 24 of its
    192 random bits, which leaves 168 unknown: no help in guessing it."""
    return token[:PREFIX_CHARS]


def list_tokens() -> list[ApiToken]:
    """Tokens stored in the table, newest first (tokens minted before the listing index existed and
    tokens configured through CLOSELOOP_ADMIN_TOKEN_HASHES are not listed)."""
    bind()
    return list(ApiToken.all_tokens.query("token", scan_index_forward=False))


def revoke_token(digest: str) -> ApiToken | None:
    """Delete a stored token by its hash and return it as it was (its name and prefix say which went); None
    when there was none. Warm Lambdas that checked it in the last CACHE_SECONDS may accept it until their
    cache entry ages out. Anything but a SHA-256 hex digest names no token (and is never used as a key)."""
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        return None
    bind()
    with _lock:
        for key in [k for k in _cache if k[1] == digest]:
            del _cache[key]
    try:
        connection = ApiToken._get_connection()
        old = connection.delete_item(digest, condition=ApiToken.token_hash.exists(), return_values=ALL_OLD)
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return None
    return ApiToken.from_raw_data(old["Attributes"])
