"""DynamoDB through PynamoDB, bound lazily to the tables and endpoint the settings name.

`bind()` is the one `get_*()` helper: every model calls it before each use (models.Model), so
whatever a fresh process handles first finds the right tables; on a warm Lambda it compares a
tuple and returns; when the settings change (a test, another stage) it rebinds every model
and drops cached connections.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.config import Settings, store_location
from chalicelib.store.models import Invitation, bind


def table_name(model: type, settings: Settings | None = None) -> str:
    return (settings.table_prefix if settings else store_location()[0]) + model.TABLE


def raw_client() -> Any:
    """The botocore client PynamoDB uses, for the few operations models cannot express."""
    bind()
    return Invitation._get_connection().connection.client
