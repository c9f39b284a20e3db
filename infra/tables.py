"""DynamoDB tables as CloudFormation wants them, derived from the PynamoDB models.

The models in chalicelib/store/models.py are the single source of truth for tables, keys and
indexes: DynamoDB Local gets them through `create_tables`, AWS gets them through this module,
so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from chalicelib.store.models import MODELS

KEY_ORDER = {"HASH": 0, "RANGE": 1}


@dataclass(frozen=True)
class Index:
    name: str
    key_schema: list[dict[str, str]]
    projection: dict[str, str]


@dataclass(frozen=True)
class TableSpec:
    model: type[Model]
    suffix: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    indexes: tuple[Index, ...]
    ttl_attribute: str | None

    def name(self, prefix: str) -> str:
        return prefix + self.suffix


def _keys(schema: list[dict[str, str]]) -> list[dict[str, str]]:
    """CloudFormation wants the HASH key first; PynamoDB lists index keys in any order."""
    return sorted(
        ({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in schema),
        key=lambda k: KEY_ORDER[k["KeyType"]],
    )


def ttl_attribute(model: type[Model]) -> str | None:
    """The attribute DynamoDB should expire items by: the model's `TTLAttribute`, if it declares one."""
    names = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
    if len(names) > 1:
        raise ValueError(f"{model.__name__} declares {len(names)} TTL attributes; DynamoDB allows one per table")
    return names[0] if names else None


def table_spec(model: type[Model]) -> TableSpec:
    schema = model._get_schema()
    indexes = tuple(
        Index(i["index_name"], _keys(i["key_schema"]), dict(i["projection"]))
        for i in sorted(schema.get("global_secondary_indexes", []), key=lambda i: i["index_name"])
    )
    if schema.get("local_secondary_indexes"):
        raise ValueError(f"{model.__name__}: local secondary indexes are not supported by the stack")
    return TableSpec(
        model=model,
        suffix=model.TABLE,
        key_schema=_keys(schema["key_schema"]),
        attribute_definitions=sorted(schema["attribute_definitions"], key=lambda a: a["AttributeName"]),
        indexes=indexes,
        ttl_attribute=ttl_attribute(model),
    )


def table_specs(models: tuple[type[Model], ...] = MODELS) -> dict[str, TableSpec]:
    """Every table of the app, by its name suffix (`invitations`, `counters`, ...)."""
    return {model.TABLE: table_spec(model) for model in models}
