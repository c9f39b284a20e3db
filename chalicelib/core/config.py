"""Settings from `CLOSELOOP_*` environment variables, read on every call.

Chalice imports `app.py` to package it and its test client sets stage variables only
during a call, so nothing here runs at import time. Reading a dozen variables costs
microseconds; callers that build expensive objects from settings cache those objects
keyed on the settings they used. On AWS the secrets come from SSM (`CLOSELOOP_SSM_PREFIX`,
see chalicelib.core.secrets), cached in memory, unless the environment gives them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"CLOSELOOP_{name}", default).strip()


def _number(name: str, default: N, parse: Callable[[str], N], kind: str) -> N:
    raw = _env(name)
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ConfigError(f"CLOSELOOP_{name} must be {kind}, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"CLOSELOOP_{name} must not be negative, got {value}")
    return value


def _int(name: str, default: int) -> int:
    return _number(name, default, int, "a whole number")


def _float(name: str, default: float) -> float:
    return _number(name, default, float, "a number")


def _list(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _env(name).split(",") if part.strip())


def store_location() -> tuple[str, str | None, str]:
    """(table prefix, endpoint, region): what the store binds to, read without building all settings,
    because every request binds the store a few times and that is on the customer's path."""
    stage = _env("STAGE", "local")
    return (_env("TABLE_PREFIX", f"closeloop-{stage}-"), _env("DYNAMODB_ENDPOINT") or None, _region())


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


def get_settings() -> Settings:
    stage = _env("STAGE", "local")
    region = _env("REGION") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    signing_secrets, hash_list = _list("SIGNING_SECRETS"), _list("ADMIN_TOKEN_HASHES")
    ssm_prefix = _env("SSM_PREFIX")
    if ssm_prefix and not (signing_secrets and hash_list):
        stored = secrets.stored(ssm_prefix, region)
        signing_secrets = signing_secrets or stored.signing_secrets
        hash_list = hash_list or stored.admin_token_hashes
    hashes = set(hash_list)
    plain = _env("ADMIN_TOKEN")
    if plain:
        hashes.add(token_hash(plain))
    outbox = Path(_env("OUTBOX_DIR") or PROJECT_ROOT / ".local" / "outbox")
    return Settings(
        stage=stage,
        table_prefix=_env("TABLE_PREFIX", f"closeloop-{stage}-"),
        dynamodb_endpoint=_env("DYNAMODB_ENDPOINT") or None,
        region=region,
        mail_backend=_env("MAIL_BACKEND", "file" if stage == "local" else "ses"),
        outbox_dir=outbox,
        sender=_env("SENDER", "Closeloop <feedback@closeloop.localhost>"),
        base_url=base_url(),
        signing_secrets=signing_secrets,
        admin_token_hashes=frozenset(hashes),
        scanner_delivery_window=_int("SCANNER_DELIVERY_WINDOW", 10),
        scanner_trap_window=_int("SCANNER_TRAP_WINDOW", 120),
        invitation_ttl_days=_int("INVITATION_TTL_DAYS", 180),
        ack_delay=_int("ACK_DELAY", 1800),
        campaign_cache_seconds=campaign_cache_seconds(),
        ses_configuration_set=_env("SES_CONFIGURATION_SET") or None,
        queue_backend=_env("QUEUE_BACKEND", "local" if stage == "local" else "sqs"),
        queue_dir=Path(_env("QUEUE_DIR") or PROJECT_ROOT / ".local" / "queue"),
        work_queue_url=_env("WORK_QUEUE_URL") or None,
        fatigue_days=_int("FATIGUE_DAYS", 30),
        send_rate=_float("SEND_RATE", 5.0),
    )
