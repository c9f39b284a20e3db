"""Outgoing mail: build a MIME message, hand it to the configured backend."""

from chalicelib.mail.config import get_mailer
from chalicelib.mail.exceptions import MailError, MailRejected, MailThrottled
from chalicelib.mail.message import build_message

__all__ = ["MailError", "MailRejected", "MailThrottled", "build_message", "get_mailer"]
