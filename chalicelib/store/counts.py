"""Low-level reads and updates of counter items, whose attribute names are data."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from decimal import Decimal

from chalicelib.store import bind, raw_client, table_name
from chalicelib.store.models import Counter

_KEY_ATTRS = ("campaign_id", "key")


def add_op(campaign_id: str, key: str, deltas: Mapping[str, int]) -> dict:
    """One `Update` of a TransactWriteItems call: ADD each delta (negative ones subtract)."""
    names = {f"#c{i}": name for i, name in enumerate(deltas)}
    values = {f":c{i}": {"N": str(int(v))} for i, v in enumerate(deltas.values())}
    return {
        "TableName": table_name(Counter),
        "Key": {"campaign_id": {"S": campaign_id}, "key": {"S": key}},
        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(deltas))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def add(campaign_id: str, keys: Iterable[str], deltas: Mapping[str, int]) -> None:
    """Outside a transaction: one UpdateItem per key."""
    if not deltas:
        return
    client = raw_client()
    for key in keys:
        client.update_item(**add_op(campaign_id, key, deltas))


def _counts(raw: Mapping[str, dict]) -> dict[str, int]:
    return {name: int(Decimal(value["N"])) for name, value in raw.items() if name not in _KEY_ATTRS and "N" in value}


def _query(params: dict) -> dict[str, dict[str, int]]:
    client = raw_client()
    items: dict[str, dict[str, int]] = {}
    while True:
        page = client.query(**params)
        for raw in page.get("Items", []):
            items[raw["key"]["S"]] = _counts(raw)
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def read(campaign_id: str, key_prefix: str = "", consistent: bool = False) -> dict[str, dict[str, int]]:
    """Counter items of a campaign whose key starts with `key_prefix`, as {key: {name: count}}."""
    bind()
    params: dict = {
        "TableName": table_name(Counter),
        "KeyConditionExpression": "campaign_id = :c" + (" AND begins_with(#k, :p)" if key_prefix else ""),
        "ExpressionAttributeValues": {":c": {"S": campaign_id}},
        "ConsistentRead": consistent,
    }
    if key_prefix:
        params["ExpressionAttributeNames"] = {"#k": "key"}
        params["ExpressionAttributeValues"][":p"] = {"S": key_prefix}
    return _query(params)


def read_between(campaign_id: str, low: str, high: str) -> dict[str, dict[str, int]]:
    """Counter items with low <= key <= high: 12 weeks of all segments (`W#2026-W36` to `W#2026-W47~`) in one Query."""
    bind()
    return _query(
        {
            "TableName": table_name(Counter),
            "KeyConditionExpression": "campaign_id = :c AND #k BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#k": "key"},
            "ExpressionAttributeValues": {":c": {"S": campaign_id}, ":low": {"S": low}, ":high": {"S": high}},
        }
    )


def read_keys(campaign_id: str, keys: Iterable[str]) -> dict[str, dict[str, int]]:
    """The named counter items that exist (BatchGetItem, 100 keys per request); one segment's days, say."""
    bind()
    client = raw_client()
    name = table_name(Counter)
    wanted = [{"campaign_id": {"S": campaign_id}, "key": {"S": key}} for key in dict.fromkeys(keys)]
    items: dict[str, dict[str, int]] = {}
    for start in range(0, len(wanted), 100):
        request: dict = {name: {"Keys": wanted[start : start + 100]}}
        for attempt in range(8):
            page = client.batch_get_item(RequestItems=request)
            for raw in page.get("Responses", {}).get(name, []):
                items[raw["key"]["S"]] = _counts(raw)
            request = page.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.05 * 2**attempt)  # throttled: DynamoDB asks us to come back for the rest
        else:
            raise RuntimeError(f"DynamoDB kept {len(request[name]['Keys'])} counter keys unprocessed")
    return items
