"""Which backend the settings ask for, built once per distinct setting."""

from __future__ import annotations

import functools
from pathlib import Path

from chalicelib.core import aws
from chalicelib.core.config import Settings, get_settings
from chalicelib.core.errors import ConfigError
from chalicelib.mail.base import MailBackend


def get_mailer(settings: Settings | None = None) -> MailBackend:
    settings = settings or get_settings()
    return _build(settings.mail_backend, settings.outbox_dir, settings.region, settings.ses_configuration_set)


@functools.lru_cache(maxsize=8)
def _build(kind: str, outbox: Path, region: str, configuration_set: str | None) -> MailBackend:
    if kind == "file":
        from chalicelib.mail.file import FileMailBackend  # lazy, for cold start: only the configured backend loads

        return FileMailBackend(outbox)
    if kind == "ses":
        from chalicelib.mail.ses import SesMailBackend  # lazy, for cold start: its AWS client only where it runs

        return SesMailBackend(aws.client("sesv2", region), configuration_set)
    raise ConfigError(f"CLOSELOOP_MAIL_BACKEND must be 'file' or 'ses', not {kind!r}")
