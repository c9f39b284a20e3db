"""Counting DynamoDB requests and capacity, and estimating what real DynamoDB would charge.

`Meter` hooks every botocore client of the PynamoDB models: per phase it tallies operations,
items written per table, errors, and the ConsumedCapacity DynamoDB Local reports
(ReturnConsumedCapacity=INDEXES is added to each request). It also logs the key of every
item each write touched, so `estimate()` can price the writes item by item from snapshots of
the tables taken before and after the phase: DynamoDB Local reports a transaction's capacity
per table, not per item, and reports no index writes for most updates.

The estimate follows DynamoDB's rules: a write costs 1 WCU per started KB of the larger of
the item before and after (2 WCU per KB in a transaction); a failed conditional write costs
the existing item's size (at least 1 WCU); each global secondary index the write changes
costs 1 WCU per KB of the index entry, 2 writes when an index key changes (a delete and a
put). Index writes are priced as standard writes, also for transactions (assumed: the index
is updated asynchronously, outside the transaction).
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
KB = 1024


class Meter:
    """Tallies DynamoDB calls per phase: operation, items per table, capacity as reported, errors, keys."""

    def __init__(self) -> None:
        self.phase: str | None = None
        self.ops: dict[str, Counter] = defaultdict(Counter)
        self.items: dict[str, Counter] = defaultdict(Counter)  # table -> items in successful calls
        self.cancelled_items: dict[str, Counter] = defaultdict(Counter)
        self.rcu: Counter = Counter()
        self.wcu: Counter = Counter()
        self.wcu_parts: dict[str, Counter] = defaultdict(Counter)  # "table" or "table/index" -> WCU reported
        self.errors: dict[str, Counter] = defaultdict(Counter)
        # phase -> [(table, key or whole item, kind)], kind: single | transact | failed | cancelled
        self.written: dict[str, list[tuple[str, dict, str]]] = defaultdict(list)
        self.wire: Counter = Counter()  # phase -> seconds from sending a request to its parsed reply
        self.clients: list[Any] = []

    def attach(self, client: Any) -> None:
        if any(client is known for known in self.clients):
            return
        self.clients.append(client)
        client.meta.events.register("before-parameter-build.dynamodb.*", self._before)
        client.meta.events.register("before-call.dynamodb.*", self._sending)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _sending(self, context: dict, **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def _before(self, params: dict, model: Any, context: dict, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "INDEXES"  # TOTAL, broken down by table and index
        targets = []
        for entry in params.get("TransactItems", []):
            for kind, op in entry.items():
                if kind != "ConditionCheck":
                    targets.append((op["TableName"], op.get("Key") or op.get("Item") or {}))
        for table, requests in (params.get("RequestItems") or {}).items():
            for request in requests if isinstance(requests, list) else []:
                for op in request.values():
                    targets.append((table, op.get("Key") or op.get("Item") or {}))
        if not targets and "TableName" in params and model.name in WRITES:
            targets.append((params["TableName"], params.get("Key") or params.get("Item") or {}))
        context["bench_targets"] = targets

    def _after(self, parsed: dict, model: Any, context: dict, **_: Any) -> None:
        if self.phase is None:
            return
        phase, op = self.phase, model.name
        self.ops[phase][op] += 1
        if "bench_started" in context:
            self.wire[phase] += time.perf_counter() - context["bench_started"]
        error = parsed.get("Error", {}).get("Code")
        if error:
            self.errors[phase][f"{op}: {error}"] += 1
        if op in WRITES:
            items = self.cancelled_items if error else self.items
            if not error:
                kind = "transact" if op == "TransactWriteItems" else "single"
            elif error == "ConditionalCheckFailedException":
                kind = "failed"
            else:
                kind = "cancelled"
            for table, key in context.get("bench_targets", []):
                items[phase][short(table)] += 1
                self.written[phase].append((short(table), key, kind))
        used = parsed.get("ConsumedCapacity") or []
        for entry in [used] if isinstance(used, dict) else used:
            units = float(entry.get("CapacityUnits", 0))
            if op in READS:
                self.rcu[phase] += units
                continue
            self.wcu[phase] += units
            table = short(entry["TableName"])
            self.wcu_parts[phase][table] += float(entry.get("Table", {}).get("CapacityUnits", units))
            for index, used_by in (entry.get("GlobalSecondaryIndexes") or {}).items():
                self.wcu_parts[phase][f"{table}/{index}"] += float(used_by.get("CapacityUnits", 0))

    def reads(self, phase: str) -> int:
        return sum(n for op, n in self.ops[phase].items() if op in READS)

    def writes(self, phase: str) -> int:
        return sum(n for op, n in self.ops[phase].items() if op in WRITES)

    def others(self, phase: str) -> int:
        return sum(n for op, n in self.ops[phase].items() if op not in READS | WRITES)

    def requests(self, phase: str) -> int:
        return sum(self.ops[phase].values())

    def operations(self, phase: str) -> str:
        ops = ", ".join(f"{op} x{k}" for op, k in sorted(self.ops[phase].items())) or "none"
        errors = ", ".join(f"{k} {name.split(': ')[1]}" for name, k in sorted(self.errors[phase].items()))
        return ops + (f" ({errors})" if errors else "")


def short(table: str) -> str:
    """The table name without the bench's prefix."""
    return table.split("-", 1)[-1]


def item_size(item: dict | None) -> int:
    """DynamoDB's item size: attribute names plus values (numbers about 1 byte per 2 digits + 1)."""
    if not item:
        return 0

    def value_size(value: dict) -> int:
        ((kind, raw),) = value.items()
        if kind == "S":
            return len(raw.encode())
        if kind == "N":
            return len(raw.lstrip("-").replace(".", "").strip("0") or "0") // 2 + 2
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
        if kind == "L":
            return 3 + sum(value_size(v) + 1 for v in raw)
        return sum(len(str(v)) for v in raw)

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def units(size: int) -> int:
    """Started KBs, at least one."""
    return max(1, math.ceil(size / KB))


def attach_everywhere(meter: Meter) -> None:
    """Each PynamoDB model has its own connection and botocore client: meter all of them."""
    from chalicelib.store import bind, raw_client
    from chalicelib.store.models import MODELS

    bind()
    meter.attach(raw_client())
    for model in MODELS:
        meter.attach(model._get_connection().connection.client)


@dataclass
class Schema:
    keys: list[str]
    indexes: list[tuple[str, list[str], str, list[str]]]  # name, key attributes, projection type, non-key attributes


def schemas() -> dict[str, Schema]:
    """Key attributes and indexes of every table, from DescribeTable (call it while no phase is metered)."""
    from chalicelib.store import raw_client
    from chalicelib.store.models import MODELS

    client = raw_client()
    found = {}
    for model in MODELS:
        table = client.describe_table(TableName=model.Meta.table_name)["Table"]
        indexes = [
            (
                index["IndexName"],
                [k["AttributeName"] for k in index["KeySchema"]],
                index["Projection"]["ProjectionType"],
                list(index["Projection"].get("NonKeyAttributes", [])),
            )
            for index in table.get("GlobalSecondaryIndexes", [])
        ]
        found[short(model.Meta.table_name)] = Schema([k["AttributeName"] for k in table["KeySchema"]], indexes)
    return found


def key_of(item: dict, schema: Schema) -> str:
    return json.dumps({name: item[name] for name in schema.keys}, sort_keys=True)


def snapshot(schema: dict[str, Schema], tables: list[str] | None = None) -> dict[str, dict[str, dict]]:
    """{table: {key: raw item}} of `tables` (default: all) by full scans; call it while no phase is metered."""
    from chalicelib.store import raw_client, table_name
    from chalicelib.store.models import MODELS

    client = raw_client()
    models = {model.TABLE: model for model in MODELS}
    out: dict[str, dict[str, dict]] = {}
    for table in tables or list(schema):
        params: dict = {"TableName": table_name(models[table])}
        items: dict[str, dict] = {}
        while True:
            page = client.scan(**params)
            for raw in page.get("Items", []):
                items[key_of(raw, schema[table])] = raw
            if "LastEvaluatedKey" not in page:
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        out[table] = items
    return out


def _entry(item: dict | None, schema: Schema, index: tuple[str, list[str], str, list[str]]) -> dict | None:
    """The item as the index holds it, or None when it is not in the (possibly sparse) index."""
    _, index_keys, projection, extra = index
    if not item or any(name not in item for name in index_keys):
        return None
    if projection == "ALL":
        return item
    names = set(schema.keys) | set(index_keys) | (set(extra) if projection == "INCLUDE" else set())
    return {name: item[name] for name in names if name in item}


@dataclass
class Estimate:
    table: Counter = field(default_factory=Counter)  # table -> WCU of the table writes
    index: Counter = field(default_factory=Counter)  # "table/index" -> WCU of index writes
    index_writes: Counter = field(default_factory=Counter)  # "table/index" -> index writes
    failed: float = 0.0  # WCU of failed conditional writes (included in `table`)
    cancelled: int = 0  # items in cancelled transactions (not priced)
    tx_index: float = 0.0  # WCU of the index writes that follow transactional writes (included in `index`)
    largest: Counter = field(default_factory=Counter)  # table -> largest item written, bytes

    @property
    def total(self) -> float:
        return sum(self.table.values()) + sum(self.index.values())

    def scaled(self, n: float) -> dict[str, float]:
        parts = {**self.table, **self.index}
        return {part: value / n for part, value in sorted(parts.items()) if value}


def estimate(
    meter: Meter,
    phase: str,
    before: dict[str, dict[str, dict]],
    after: dict[str, dict[str, dict]],
    schema: dict[str, Schema],
) -> Estimate:
    """Real DynamoDB's WCU for the writes of `phase`, item by item (see the module docstring).

    Item sizes come from the snapshots before and after the phase: an item written several
    times within the phase is priced at the larger of those sizes each time.
    """
    result = Estimate()
    changed: dict[tuple[str, str], bool] = {}  # (table, key) -> written in a transaction
    for table, raw_key, kind in meter.written[phase]:
        if table not in schema or table not in before:
            raise KeyError(f"no snapshot of {table} for phase {phase}")
        key = key_of(raw_key, schema[table])
        old, new = before[table].get(key), after[table].get(key)
        size = max(item_size(old), item_size(new))
        result.largest[table] = max(result.largest[table], size)
        if kind == "cancelled":
            result.cancelled += 1
            continue
        if kind == "failed":
            cost = units(item_size(old))
            result.failed += cost
        else:
            cost = units(size) * (2 if kind == "transact" else 1)
            changed[table, key] = changed.get((table, key), False) or kind == "transact"
        result.table[table] += cost
    for (table, key), transactional in changed.items():
        old, new = before[table].get(key), after[table].get(key)
        for index in schema[table].indexes:
            was, now = _entry(old, schema[table], index), _entry(new, schema[table], index)
            if was is None and now is None:
                continue
            part = f"{table}/{index[0]}"
            if was is None or now is None:
                writes = [units(item_size(was or now))]
            elif any(was.get(name) != now.get(name) for name in index[1]):
                writes = [units(item_size(was)), units(item_size(now))]
            elif was != now:
                writes = [units(max(item_size(was), item_size(now)))]
            else:
                writes = []
            result.index_writes[part] += len(writes)
            result.index[part] += sum(writes)
            if transactional:
                result.tx_index += sum(writes)
    return result
