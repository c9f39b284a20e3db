"""The mail port: one method, so SES and the local outbox are interchangeable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from email.message import EmailMessage


class MailBackend(ABC):
    name: str

    @abstractmethod
    def send(self, message: EmailMessage, tags: Mapping[str, str] | None = None) -> str:
        """Hand the message over for delivery; returns the provider's message id.

        `tags` come back with the provider's bounce and complaint events (SES message tags).

        Raises MailThrottled, MailRejected or MailError (see exceptions.py).
        """
