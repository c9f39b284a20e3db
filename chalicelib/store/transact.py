"""One TransactWriteItems call mixing model updates (typed, via PynamoDB) and counter updates.

An answer moves its response and its counters together or not at all. A failed condition
returns the item as it was (ReturnValuesOnConditionCheckFailure), so the caller can decide
what to do next without another read.
"""

from __future__ import annotations

import contextvars
import json
import random
import time
import weakref
from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.store import bind, raw_client
from chalicelib.store.models import Invitation


class TransactionConflict(Exception):
    """A condition failed; `old_items[i]` is item i as it was (raw), or None."""

    def __init__(self, old_items: list[dict | None], codes: list[str | None]) -> None:
        super().__init__(f"transaction cancelled: {codes}")
        self.old_items = old_items
        self.codes = codes


def update_op(model: type[Model], hash_key: Any, actions: Sequence[Action], condition: Condition | None = None) -> dict:
    """An Update entry for `write()`; returns the old item to the caller if `condition` fails."""
    bind()
    return model._get_connection().get_operation_kwargs(
        hash_key=hash_key,
        actions=list(actions),
        condition=condition,
        return_values_on_condition_failure="ALL_OLD" if condition is not None else None,
    )


class ConditionFailed(Exception):
    """A single-item write's condition failed; `old` is the item as it was (raw), or None if absent."""

    def __init__(self, old: dict | None) -> None:
        super().__init__("condition failed")
        self.old = old


def update(
    model: type[Model],
    hash_key: Any,
    actions: Sequence[Action],
    condition: Condition | None = None,
    range_key: Any = None,
) -> dict | None:
    """One UpdateItem returning the new item (raw); on a failed condition, raises ConditionFailed
    carrying the old item, so the caller needs no extra read to decide what to do."""
    from botocore.exceptions import ClientError

    bind()
    operation = model._get_connection().get_operation_kwargs(
        hash_key=hash_key,
        range_key=range_key,
        actions=list(actions),
        condition=condition,
        return_values="ALL_NEW",
        return_values_on_condition_failure="ALL_OLD" if condition is not None else None,
    )
    client = model._get_connection().connection.client
    try:
        return client.update_item(**operation).get("Attributes")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        raise ConditionFailed(exc.response.get("Item")) from exc


_RAW_ITEM = contextvars.ContextVar("raw_item", default=False)
_RAW_ITEM_CLIENTS: weakref.WeakSet = weakref.WeakSet()


def update_raw(params: dict) -> dict | None:
    """One UpdateItem from hand-built parameters (the answer's hot path); returns the `Attributes`
    the parameters asked for (raw), if any; ConditionFailed as `update`. Only for items without
    binary values (B, BS), which come back as their base64 text (see _keep_item_raw)."""
    from botocore.exceptions import ClientError

    client = raw_client()
    if client not in _RAW_ITEM_CLIENTS:  # once per client: botocore inspects a handler's signature on each register
        client.meta.events.register("before-parse.dynamodb.UpdateItem", _keep_item_raw, unique_id="closeloop-raw-item")
        _RAW_ITEM_CLIENTS.add(client)
    raw = _RAW_ITEM.set(True)
    try:
        return client.update_item(**params).get("Attributes")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        raise ConditionFailed(exc.response.get("Item")) from exc
    finally:
        _RAW_ITEM.reset(raw)


def _keep_item_raw(response_dict: dict, customized_response_dict: dict, **_: Any) -> None:
    """The returned item as DynamoDB sent it, for update_raw: botocore's parser walks it value by value
    against the service model (0.4 ms for an invitation's 25 attributes, a fifth of an answer's
    Python, bench/answer_latency.py), and gives the same dictionaries as the JSON itself but for
    binary values, which it decodes. Our own code, where the library cost the issue's latency budget
    (issue 21); botocore still parses the rest of the reply, and every error."""
    if not _RAW_ITEM.get() or response_dict.get("status_code") != 200:
        return
    body = json.loads(response_dict["body"])
    if "Attributes" in body:
        customized_response_dict["Attributes"] = body.pop("Attributes")
        response_dict["body"] = json.dumps(body).encode()


def _put_new_op(item: Model) -> dict:
    bind()
    model = type(item)
    hash_name = model._hash_keyname
    return model._get_connection().get_operation_kwargs(
        hash_key=getattr(item, hash_name),
        range_key=getattr(item, model._range_keyname) if model._range_keyname else None,
        key="Item",
        attributes=item.serialize(),
        condition=getattr(model, hash_name).does_not_exist(),
        return_values_on_condition_failure="ALL_OLD",
    )


def put_new(item: Model) -> dict | None:
    """Put `item` unless its key exists; returns None when written, else the existing item (raw)."""
    from botocore.exceptions import ClientError

    model = type(item)
    operation = _put_new_op(item)
    try:
        model._get_connection().connection.client.put_item(**operation)
        return None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return exc.response.get("Item") or {}


def write(updates: Sequence[dict], attempts: int = 6) -> None:
    """Apply every update atomically; raise TransactionConflict when a condition fails.

    A concurrent transaction on one of the items cancels this one with `TransactionConflict`;
    that is retried with jittered backoff, since nothing about the data was wrong.
    """
    bind()
    connection = Invitation._get_connection().connection
    for attempt in range(attempts):
        try:
            connection.transact_write_items([], [], [], list(updates))
            return
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons
            codes = [r.code if r is not None else None for r in reasons]
            if "ConditionalCheckFailed" in codes:
                raise TransactionConflict([r.raw_item if r is not None else None for r in reasons], codes) from exc
            retryable = exc.cause_response_code == "TransactionConflictException" or any(
                code in ("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded") for code in codes
            )
            if not retryable or attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.02 * 2**attempt))


MAX_TRANSACTION_ITEMS = 100


def put_new_all(items: Sequence[Model]) -> list[bool]:
    """Put each item unless its key exists; for each, whether it was written. Keys must differ.

    Up to 100 new items go in one TransactWriteItems (a bulk import's first pass: one round trip, not
    a hundred); when one of them exists or the transaction conflicts, each is put on its own condition,
    so an item is never written over, whatever ran meanwhile.
    """
    if not items:
        return []
    if len(items) <= MAX_TRANSACTION_ITEMS:
        connection = type(items[0])._get_connection().connection
        try:
            connection.transact_write_items([], [], [_put_new_op(item) for item in items], [])
            return [True] * len(items)
        except TransactWriteError:
            pass
    return [put_new(item) is None for item in items]
