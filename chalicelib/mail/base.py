"""The mail port: one method, so SES and the local outbox are interchangeable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from email.message import EmailMessage


class MailBackend(ABC):
    name: str

    @abstractmethod
    def send(self, message: EmailMessage) -> str:
        """Hand the message over for delivery; returns the provider's message id.

        Raises MailThrottled, MailRejected or MailError (see exceptions.py).
        """
