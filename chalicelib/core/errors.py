"""Errors the domain raises; the edges turn them into status codes and messages."""

from __future__ import annotations


class CloseloopError(Exception):
    status = 500

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_json(self) -> dict:
        body: dict = {"message": self.message}
        if self.field:
            body["field"] = self.field
        return {"error": body}


class ConfigError(CloseloopError):
    """A setting is missing or malformed: an operator's mistake, never a customer's."""


class ValidationError(CloseloopError):
    status = 400


class Unauthorized(CloseloopError):
    status = 401


class NotFound(CloseloopError):
    status = 404


class Conflict(CloseloopError):
    status = 409


class PayloadTooLarge(CloseloopError):
    """A body larger than any valid request: refused before it is read, so it cannot fill a 400 KB DynamoDB item."""

    status = 413


class TooManyRequests(CloseloopError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(CloseloopError):
    """A dashboard viewer trying to change something, or a form whose CSRF token is missing or wrong."""

    status = 403


class Gone(CloseloopError):
    """A one-time link that was used or has expired."""

    status = 410
