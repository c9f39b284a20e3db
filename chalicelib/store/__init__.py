"""DynamoDB through PynamoDB, bound lazily to the tables and endpoint the settings name.

`bind()` is the one `get_*()` helper: every model calls it before each use (models.Model), so
whatever a fresh process handles first finds the right tables; on a warm Lambda it compares a
tuple and returns; when the settings change (a test, another stage) it rebinds every model
and drops cached connections.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from chalicelib.core.config import Settings, store_location
from chalicelib.store.models import Invitation, bind


def table_name(model: type, settings: Settings | None = None) -> str:
    return (settings.table_prefix if settings else store_location()[0]) + model.TABLE


def raw_client() -> Any:
    """The botocore client PynamoDB uses, for the few operations models cannot express."""
    bind()
    return Invitation._get_connection().connection.client


def one_page(results: Any, limit: int) -> tuple[list, dict | None]:
    """At most `limit` items of a Query or Scan (a PynamoDB result iterator) asked for `limit + 1` in a
    request, and the key to read the next page from: None when nothing follows, so a full last page offers no
    empty next one. The item past the page comes in the same request; for a list without a filter, only a
    page DynamoDB cuts at 1 MB costs another."""
    items = list(islice(results, limit))
    after = results.last_evaluated_key
    if after is not None and next(results, None) is None:
        after = None
    return items, after
