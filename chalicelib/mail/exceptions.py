"""Failures a mail backend reports, sorted by what the caller should do next."""

from __future__ import annotations


class MailError(Exception):
    """Transient: try again later."""


class MailThrottled(MailError):
    """The provider asks us to slow down: back off, then retry."""


class MailRejected(MailError):
    """Permanent for this message or address: mark it failed, never retry."""


class MessageInvalid(MailRejected):
    """The message cannot be built for this recipient (a header that cannot carry its value):
    mark it failed with the reason; sending it again as it is would fail again."""
