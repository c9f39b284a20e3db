"""Signing secrets and admin token hashes from SSM Parameter Store, when deployed on AWS.

The stack keeps them as SecureString parameters under `CLOSELOOP_SSM_PREFIX` (Parameter Store
is free when idle; Secrets Manager charges per secret and month). Both are read with one
GetParameters call and kept in memory for CACHE_SECONDS: a warm call costs a dictionary lookup,
and a rotated key reaches every warm Lambda within minutes. If SSM cannot be reached when the
values are due for a refresh, the last values keep working and the read is retried soon after.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core import aws
from chalicelib.core.errors import ConfigError

CACHE_SECONDS = 300
RETRY_SECONDS = 30
PARAMETERS = ("signing-secrets", "admin-token-hashes")  # under the prefix; infra/stack.py creates them
EMPTY = "-"  # SSM values cannot be empty: a lone "-" stands for "no entries"

_clock = time.monotonic
_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[float, Stored]] = {}


@dataclass(frozen=True)
class Stored:
    signing_secrets: tuple[str, ...]
    admin_token_hashes: tuple[str, ...]


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip() and part.strip() != EMPTY)


def _fetch(prefix: str, region: str) -> Stored:
    names = [prefix + name for name in PARAMETERS]
    reply = aws.client("ssm", region).get_parameters(Names=names, WithDecryption=True)
    if reply.get("InvalidParameters"):
        raise ConfigError(f"SSM parameters missing: {', '.join(sorted(reply['InvalidParameters']))}")
    values = {parameter["Name"]: parameter["Value"] for parameter in reply["Parameters"]}
    return Stored(_split(values[names[0]]), _split(values[names[1]]))


def stored(prefix: str, region: str) -> Stored:
    """The values under `prefix`, from memory while fresh."""
    key = (prefix, region)
    hit = _cache.get(key)
    if hit and _clock() < hit[0]:
        return hit[1]
    with _lock:
        hit = _cache.get(key)
        now = _clock()
        if hit and now < hit[0]:
            return hit[1]
        try:
            value, expires = _fetch(prefix, region), now + CACHE_SECONDS
        except (BotoCoreError, ClientError) as exc:
            if hit is None:
                raise ConfigError(f"cannot read the secrets under {prefix} from SSM: {exc}") from exc
            print(f"SSM unreachable ({exc}); keeping the secrets read earlier", flush=True)
            value, expires = hit[1], now + RETRY_SECONDS
        _cache[key] = (expires, value)
        return value
