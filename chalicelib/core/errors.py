"""Errors the domain raises; the edges turn them into status codes and messages."""

from __future__ import annotations

from typing import Any

# What to_json returns, declared once: chalicelib.admin.openapi publishes it as every error response.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {"type": "string", "description": "what is wrong and how to correct it"},
                "field": {
                    "type": "string",
                    "description": "the field at fault, as a path into the body or a parameter's name",
                    "example": "survey.questions[0].type",
                },
            },
        }
    },
}


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


class CursorRefused(ValidationError):
    """A page link's cursor this list did not give out with these filters: another list's, the same list's
    with other filters, one given out before cursors said what they were for, or one changed by hand. One
    message for all, naming the parameter that carried it (`cursor`, the v1 API's `page_info`)."""

    def __init__(self, field: str) -> None:
        super().__init__(
            f"That {field} belongs to another list or other filters, or was changed: "
            f"start from the first page, without {field}.",
            field,
        )


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
