"""Local outbox: each message becomes one `.eml` file, exactly the bytes SES would get."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path

from chalicelib.mail.base import MailBackend
from chalicelib.mail.exceptions import MailError
from chalicelib.mail.message import wire_bytes


class FileMailBackend(MailBackend):
    name = "file"

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def send(self, message: EmailMessage, tags: Mapping[str, str] | None = None) -> str:
        message_id = message["Message-ID"].strip("<>")
        self.outbox.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{message_id.split('@')[0]}.eml"
        partial = self.outbox / f".{name}.part"
        try:
            partial.write_bytes(wire_bytes(message))
            os.replace(partial, self.outbox / name)
        except OSError as exc:
            raise MailError(f"cannot write to the outbox {self.outbox}: {exc}") from exc
        return message_id
