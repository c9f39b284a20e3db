"""DynamoDB through PynamoDB, bound lazily to the tables and endpoint the settings name.

`bind()` is the one `get_*()` helper every entry point calls: on a warm Lambda it compares
a tuple and returns; when the settings change (a test, another stage) it rebinds every
model and drops cached connections.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from chalicelib.core.config import Settings, store_location
from chalicelib.store.models import MODELS, Invitation

_lock = threading.Lock()
_bound: tuple | None = None


def bind(settings: Settings | None = None) -> tuple[str, str | None, str]:
    """Point every model at the tables the settings name; returns (table prefix, endpoint, region)."""
    global _bound
    prefix, endpoint, region = (
        (settings.table_prefix, settings.dynamodb_endpoint, settings.region) if settings else store_location()
    )
    key = (prefix, endpoint, region, os.environ.get("AWS_ACCESS_KEY_ID"))
    if key != _bound:
        with _lock:
            for model in MODELS:
                model.Meta.table_name = prefix + model.TABLE
                model.Meta.host = endpoint
                model.Meta.region = region
                model._connection = None
            _bound = key
    return prefix, endpoint, region


def table_name(model: type, settings: Settings | None = None) -> str:
    return (settings.table_prefix if settings else store_location()[0]) + model.TABLE


def raw_client() -> Any:
    """The botocore client PynamoDB uses, for the few operations models cannot express."""
    bind()
    return Invitation._get_connection().connection.client
