"""Outgoing mail: build a MIME message, hand it to the configured backend."""

from chalicelib.mail.config import get_mailer
from chalicelib.mail.exceptions import MailError, MailRejected, MailThrottled, MessageInvalid
from chalicelib.mail.message import build_message, header_problem

__all__ = [
    "MailError",
    "MailRejected",
    "MailThrottled",
    "MessageInvalid",
    "build_message",
    "get_mailer",
    "header_problem",
]
