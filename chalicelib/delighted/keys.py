"""The v1 API's keys: HTTP Basic with the key as the user name, as Delighted's SDKs send it.

Kept in the admin tokens' table (`api-tokens`) as SHA-256 hashes with the role "delighted" and
the campaign a person posted without a `campaign` property is surveyed in; the admin API refuses
them (chalicelib.admin.auth), and this module refuses admin tokens.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from pynamodb.exceptions import DeleteError

from chalicelib.admin.auth import V1_KEY_ROLE
from chalicelib.campaigns import campaigns
from chalicelib.core.config import get_settings, token_hash
from chalicelib.core.errors import Unauthorized, ValidationError
from chalicelib.core.signing import new_id
from chalicelib.store import bind
from chalicelib.store.models import ApiToken

LIST_PK = "v1-key"  # their own partition of the all-tokens index, apart from the admin tokens the dashboard lists
CACHE_SECONDS = 60
_DIGEST = re.compile(r"[0-9a-f]{64}")
_cache: dict[tuple[str, str], tuple[float, str, str]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Key:
    name: str
    digest: str  # what the rate limit counts against
    campaign_id: str  # the default campaign


def authenticate(headers: Mapping[str, str]) -> Key:
    """The key of `Authorization: Basic base64(key:)` (the password is ignored, as Delighted did);
    Unauthorized when it is missing, malformed, unknown or revoked."""
    header = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, encoded = header.partition(" ")
    try:
        user = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[0].strip()
    except (binascii.Error, UnicodeDecodeError):
        user = ""
    if scheme.lower() != "basic" or not user:
        raise Unauthorized("Send your API key as the user name of HTTP Basic authentication.", "Authorization")
    digest = token_hash(user)
    settings = get_settings()
    cache_key = (settings.table_prefix, digest)
    hit = _cache.get(cache_key)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return Key(hit[1], digest, hit[2])
    bind(settings)
    try:
        stored = ApiToken.get(digest)
    except ApiToken.DoesNotExist:
        stored = None
    if stored is None or stored.role != V1_KEY_ROLE or not stored.campaign_id:
        raise Unauthorized("Invalid API key.", "Authorization")
    with _lock:
        _cache[cache_key] = (time.monotonic(), stored.name, stored.campaign_id)
    return Key(stored.name, digest, stored.campaign_id)


def mint_key(name: str, campaign_id: str, now: float, created_by: str | None = None) -> tuple[str, str]:
    """(key, its hash): a new key bound to an existing campaign, shown once; only its hash is kept.
    NotFound when there is no such campaign; ValidationError for an empty name."""
    if not name.strip():
        raise ValidationError("Name who the key is for.", "name")
    campaigns.get_view(campaign_id)
    key = f"dk_{new_id(24)}"
    digest = token_hash(key)
    bind()
    ApiToken(
        digest,
        name=name.strip(),
        role=V1_KEY_ROLE,
        campaign_id=campaign_id,
        created_at=now,
        created_by=created_by,
        list_pk=LIST_PK,
    ).save()
    return key, digest


def revoke_key(key_or_digest: str) -> bool:
    """Delete a v1 key, given itself or its hash; False when there is none. Warm Lambdas may accept it
    for up to CACHE_SECONDS more, as admin tokens."""
    given = key_or_digest.strip()
    digest = given if _DIGEST.fullmatch(given) else token_hash(given)
    bind()
    with _lock:
        for cached in [k for k in _cache if k[1] == digest]:
            del _cache[cached]
    try:
        ApiToken(digest).delete(ApiToken.token_hash.exists() & (ApiToken.role == V1_KEY_ROLE))
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True
