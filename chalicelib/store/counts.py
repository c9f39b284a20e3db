"""Low-level reads and updates of counter items, whose attribute names are data."""

from __future__ import annotations

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


def read(campaign_id: str, key_prefix: str = "", consistent: bool = False) -> dict[str, dict[str, int]]:
    """Counter items of a campaign whose key starts with `key_prefix`, as {key: {name: count}}."""
    bind()
    client = raw_client()
    params: dict = {
        "TableName": table_name(Counter),
        "KeyConditionExpression": "campaign_id = :c" + (" AND begins_with(#k, :p)" if key_prefix else ""),
        "ExpressionAttributeValues": {":c": {"S": campaign_id}},
        "ConsistentRead": consistent,
    }
    if key_prefix:
        params["ExpressionAttributeNames"] = {"#k": "key"}
        params["ExpressionAttributeValues"][":p"] = {"S": key_prefix}
    items: dict[str, dict[str, int]] = {}
    while True:
        page = client.query(**params)
        for raw in page.get("Items", []):
            items[raw["key"]["S"]] = {
                name: int(Decimal(value["N"])) for name, value in raw.items() if name not in _KEY_ATTRS and "N" in value
            }
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
