"""One TransactWriteItems call mixing model updates (typed, via PynamoDB) and counter updates.

An answer moves its response and its counters together or not at all. A failed condition
returns the item as it was (ReturnValuesOnConditionCheckFailure), so the caller can decide
what to do next without another read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.store import bind


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


def write(updates: Sequence[dict]) -> None:
    """Apply every update atomically; raise TransactionConflict when a condition fails."""
    bind()
    from chalicelib.store.models import Invitation

    connection = Invitation._get_connection().connection
    try:
        connection.transact_write_items([], [], [], list(updates))
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons
        if not reasons or not any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
            raise
        raise TransactionConflict(
            [r.raw_item if r is not None else None for r in reasons],
            [r.code if r is not None else None for r in reasons],
        ) from exc
