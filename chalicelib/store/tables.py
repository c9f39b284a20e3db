"""Create the tables, idempotently: missing tables are created, missing indexes added.

On AWS the tables belong to the CDK stack in infra/; this command serves DynamoDB Local and
scratch accounts, and is safe to run any number of times.
"""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.models import Model

from chalicelib.store import bind, raw_client
from chalicelib.store.models import MODELS


def create_tables(log: Callable[[str], None] = lambda _msg: None) -> list[str]:
    """Create what is missing; returns the names of the tables created or changed."""
    bind()
    changed = []
    for model in MODELS:
        name = model.Meta.table_name
        if not model.exists():
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
            log(f"created {name}")
            changed.append(name)
        elif _add_missing_indexes(model):
            log(f"added indexes to {name}")
            changed.append(name)
        else:
            log(f"exists  {name}")
    return changed


def delete_tables() -> None:
    bind()
    for model in MODELS:
        if model.exists():
            model.delete_table()


def _add_missing_indexes(model: type[Model]) -> bool:
    client = raw_client()
    name = model.Meta.table_name
    existing = {
        i["IndexName"] for i in client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
    }
    schema = model._get_schema()
    wanted = [
        {
            "IndexName": index["index_name"],
            "KeySchema": index["key_schema"],
            "Projection": index["projection"],
        }
        for index in schema.get("global_secondary_indexes", [])
        if index["index_name"] not in existing
    ]
    for index in wanted:
        keys = {k["AttributeName"] for k in index["KeySchema"]}
        client.update_table(
            TableName=name,
            AttributeDefinitions=[a for a in schema["attribute_definitions"] if a["AttributeName"] in keys],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
    return bool(wanted)
