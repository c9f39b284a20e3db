"""DynamoDB through PynamoDB, bound lazily to the tables and endpoint the settings name.

`bind()` is the one `get_*()` helper every entry point calls: on a warm Lambda it compares
a tuple and returns; when the settings change (a test, another stage) it rebinds every
model and drops cached connections.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from chalicelib.config import Settings, get_settings
from chalicelib.store.models import MODELS, Invitation

_lock = threading.Lock()
_bound: tuple | None = None


def bind(settings: Settings | None = None) -> Settings:
    global _bound
    settings = settings or get_settings()
    key = (
        settings.table_prefix,
        settings.dynamodb_endpoint,
        settings.region,
        os.environ.get("AWS_ACCESS_KEY_ID"),
    )
    if key != _bound:
        with _lock:
            for model in MODELS:
                model.Meta.table_name = settings.table_prefix + model.TABLE
                model.Meta.host = settings.dynamodb_endpoint
                model.Meta.region = settings.region
                model._connection = None
            _bound = key
    return settings


def table_name(model: type, settings: Settings | None = None) -> str:
    return (settings or get_settings()).table_prefix + model.TABLE


def raw_client() -> Any:
    """The botocore client PynamoDB uses, for the few operations models cannot express."""
    bind()
    return Invitation._get_connection().connection.client
