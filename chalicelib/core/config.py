"""Settings from `CLOSELOOP_*` environment variables, read on every call.

Chalice imports `app.py` to package it and its test client sets stage variables only
during a call, so nothing here runs at import time. `get_settings` reads the variables on
every call and builds its `Settings` once per distinct set of values (an answer reads them
a few times, and building them costs more than reading them); callers that build expensive
objects from settings cache those objects keyed on the settings they used. On AWS the
secrets come from SSM (`CLOSELOOP_SSM_PREFIX`, see chalicelib.core.secrets), cached in
memory, unless the environment gives them.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from chalicelib.core import i18n, secrets
from chalicelib.core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
N = TypeVar("N", int, float)
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    dynamodb_endpoint: str | None
    region: str
    mail_backend: str
    outbox_dir: Path
    sender: str
    base_url: str
    signing_secrets: tuple[str, ...]
    admin_token_hashes: frozenset[str]
    scanner_delivery_window: int
    scanner_trap_window: int
    invitation_ttl_days: int
    ack_delay: int
    campaign_cache_seconds: int
    ses_configuration_set: str | None
    queue_backend: str
    queue_dir: Path
    work_queue_url: str | None
    fatigue_days: int
    send_rate: float

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    def require_signing_secrets(self) -> tuple[str, ...]:
        if not self.signing_secrets:
            raise ConfigError(
                "CLOSELOOP_SIGNING_SECRETS is not set: give one or more secrets, comma-separated, "
                "newest first (`make run` generates one in .local/secrets.env)."
            )
        return self.signing_secrets


def token_hash(token: str) -> str:
    """Admin tokens are stored and configured only as SHA-256 hashes."""
    return hashlib.sha256(token.encode()).hexdigest()


def _env(name: str, default: str = "", source: Mapping[str, str] = os.environ) -> str:
    return source.get(f"CLOSELOOP_{name}", default).strip()


def _number(name: str, default: N, parse: Callable[[str], N], kind: str, source: Mapping[str, str] = os.environ) -> N:
    raw = _env(name, source=source)
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ConfigError(f"CLOSELOOP_{name} must be {kind}, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"CLOSELOOP_{name} must not be negative, got {value}")
    return value


def _int(name: str, default: int, source: Mapping[str, str] = os.environ) -> int:
    return _number(name, default, int, "a whole number", source)


def _float(name: str, default: float, source: Mapping[str, str] = os.environ) -> float:
    return _number(name, default, float, "a number", source)


def _list(name: str, source: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    return tuple(part.strip() for part in _env(name, source=source).split(",") if part.strip())


def store_location() -> tuple[str, str | None, str]:
    """(table prefix, endpoint, region): what the store binds to, read without building all settings,
    because every request binds the store a few times and that is on the customer's path."""
    stage = _env("STAGE", "local")
    return (_env("TABLE_PREFIX", f"closeloop-{stage}-"), _env("DYNAMODB_ENDPOINT") or None, _region())


def store_problem(longest_table: int = 20) -> str | None:
    """What keeps the store settings from naming a DynamoDB (a prefix DynamoDB refuses in a table name, an
    endpoint that is not an http(s) URL, a region botocore refuses), in a sentence naming the setting; None
    when they can. For commands, before their first request: not on the answer path, where they are trusted.
    Table names: 3-255 of letters, digits, `_`, `-` and `.` (DynamoDB's naming rules)."""
    prefix, endpoint, region = store_location()
    if len(prefix) + longest_table > 255 or any(not (c.isascii() and (c.isalnum() or c in "_-.")) for c in prefix):
        return (
            f"CLOSELOOP_TABLE_PREFIX “{prefix[:60]}” cannot begin a DynamoDB table name: use letters, digits, "
            f"_ - and . only, at most {255 - longest_table} characters"
        )
    if endpoint is not None:
        parts = urlsplit(endpoint)
        try:
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            return (
                f"CLOSELOOP_DYNAMODB_ENDPOINT “{endpoint[:100]}” is not an http(s) URL with a host and a port "
                "from 1 to 65535, e.g. http://127.0.0.1:8001"
            )
    if not region or any(not (c.isascii() and (c.islower() or c.isdigit() or c == "-")) for c in region):
        return f"The AWS region “{region[:40]}” (CLOSELOOP_REGION or AWS_REGION) is not a region name such as eu-west-1"
    return None


def settings_problem() -> str | None:
    """The first setting `make run` could not serve with (a number that is not one, a store it cannot
    name), read as every request would, so it is said at start and not by each request's 500; None when
    all can be used."""
    try:
        get_settings()
        campaign_cache_seconds()
        v1_rate_limit()
    except ConfigError as exc:
        return exc.message
    return store_problem()


def base_url() -> str:
    """The public base URL alone, for the links every page renders (see store_location)."""
    return _env("BASE_URL", DEFAULT_BASE_URL).rstrip("/")


def team_locale(options: Mapping[str, Any] | None = None) -> str:
    """The language of what the CX team gets by email (digest, alerts, sign-in links), a key of
    core.i18n.LANGUAGES: a campaign's `team_locale` option, else CLOSELOOP_TEAM_LOCALE (default "en");
    an unsupported value gives English rather than an error, since the mail must still go out."""
    return i18n.team_locale(options or {}, _env("TEAM_LOCALE", i18n.DEFAULT_LOCALE))


def campaign_cache_seconds() -> int:
    """How long a warm Lambda keeps a survey definition (see store_location)."""
    return _int("CAMPAIGN_CACHE_SECONDS", 60)


def v1_rate_limit() -> tuple[int, int]:
    """(calls, seconds): what one v1 API key may call in a window before a 429 (see store_location)."""
    return max(1, _int("V1_RATE_LIMIT", 600)), max(1, _int("V1_RATE_WINDOW", 60))


def _region() -> str:
    return _env("REGION") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


# Every variable the settings are built from: the cache key, and all `_build` can see.
_READ = (
    *(
        f"CLOSELOOP_{name}"
        for name in (
            "STAGE",
            "REGION",
            "SIGNING_SECRETS",
            "ADMIN_TOKEN_HASHES",
            "ADMIN_TOKEN",
            "OUTBOX_DIR",
            "TABLE_PREFIX",
            "DYNAMODB_ENDPOINT",
            "MAIL_BACKEND",
            "SENDER",
            "BASE_URL",
            "SCANNER_DELIVERY_WINDOW",
            "SCANNER_TRAP_WINDOW",
            "INVITATION_TTL_DAYS",
            "ACK_DELAY",
            "CAMPAIGN_CACHE_SECONDS",
            "SES_CONFIGURATION_SET",
            "QUEUE_BACKEND",
            "QUEUE_DIR",
            "WORK_QUEUE_URL",
            "FATIGUE_DAYS",
            "SEND_RATE",
        )
    ),
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)


def get_settings() -> Settings:
    """The settings as the environment (and, on AWS, SSM) gives them now; raises ConfigError for a
    malformed value. Built once per distinct set of values, so a changed variable takes effect at once."""
    values = tuple(map(os.environ.get, _READ))
    stored = None
    ssm_prefix = _env("SSM_PREFIX")
    if ssm_prefix and not (_list("SIGNING_SECRETS") and _list("ADMIN_TOKEN_HASHES")):
        stored = secrets.stored(ssm_prefix, _region())
    return _build(values, stored)


@functools.lru_cache(maxsize=16)
def _build(values: tuple[str | None, ...], stored: secrets.Stored | None) -> Settings:
    source = {name: value for name, value in zip(_READ, values, strict=True) if value is not None}
    stage = _env("STAGE", "local", source)
    region = (
        _env("REGION", source=source) or source.get("AWS_REGION") or source.get("AWS_DEFAULT_REGION") or "us-east-1"
    )
    signing_secrets, hash_list = _list("SIGNING_SECRETS", source), _list("ADMIN_TOKEN_HASHES", source)
    if stored is not None:
        signing_secrets = signing_secrets or stored.signing_secrets
        hash_list = hash_list or stored.admin_token_hashes
    hashes = set(hash_list)
    plain = _env("ADMIN_TOKEN", source=source)
    if plain:
        hashes.add(token_hash(plain))
    outbox = Path(_env("OUTBOX_DIR", source=source) or PROJECT_ROOT / ".local" / "outbox")
    return Settings(
        stage=stage,
        table_prefix=_env("TABLE_PREFIX", f"closeloop-{stage}-", source),
        dynamodb_endpoint=_env("DYNAMODB_ENDPOINT", source=source) or None,
        region=region,
        mail_backend=_env("MAIL_BACKEND", "file" if stage == "local" else "ses", source),
        outbox_dir=outbox,
        sender=_env("SENDER", "Closeloop <feedback@closeloop.localhost>", source),
        base_url=_env("BASE_URL", DEFAULT_BASE_URL, source).rstrip("/"),
        signing_secrets=signing_secrets,
        admin_token_hashes=frozenset(hashes),
        scanner_delivery_window=_int("SCANNER_DELIVERY_WINDOW", 10, source),
        scanner_trap_window=_int("SCANNER_TRAP_WINDOW", 120, source),
        invitation_ttl_days=_int("INVITATION_TTL_DAYS", 180, source),
        ack_delay=_int("ACK_DELAY", 1800, source),
        campaign_cache_seconds=_int("CAMPAIGN_CACHE_SECONDS", 60, source),
        ses_configuration_set=_env("SES_CONFIGURATION_SET", source=source) or None,
        queue_backend=_env("QUEUE_BACKEND", "local" if stage == "local" else "sqs", source),
        queue_dir=Path(_env("QUEUE_DIR", source=source) or PROJECT_ROOT / ".local" / "queue"),
        work_queue_url=_env("WORK_QUEUE_URL", source=source) or None,
        fatigue_days=_int("FATIGUE_DAYS", 30, source),
        send_rate=_float("SEND_RATE", 5.0, source),
    )
