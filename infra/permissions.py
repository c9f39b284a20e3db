"""What each Lambda function may do: the one place its IAM role comes from.

Every function Chalice packages (every `AWS::Serverless::Function` in its template) must have
an entry here, under its name in app.py (`api_handler` serves every route). A function that is
missing fails synthesis, so adding a function forces declaring its permissions; an entry grants
only the DynamoDB actions listed, on the tables (and indexes) listed, and mail, secrets and the
work queue only when asked for. IAM evaluates a TransactWriteItems call as the Put, Update,
Delete and ConditionCheck actions on each item's table, so those are what a transaction needs.
`make test` proves the entries match the calls the code makes (tests/permission_proof.py; README,
"Permissions proven from the calls the code makes"): it lists what to add and what no test uses.

DynamoDB actions are their API names; `Query:<index>` queries one index of the table, `Query`
the table itself (PynamoDB's `Model.count(key)` is a Query too). `Scan:<index>` reads one index
whole, page by page: only for a sparse index (what it holds waits to be worked off, so it stays
small however large the table grows); a Scan of a table is never granted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from infra.tables import TableSpec

DYNAMODB_ACTIONS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "ConditionCheckItem",
    }
)


INDEX_ACTIONS = frozenset({"Query", "Scan"})
"""What a function may do on an index: `Query:<index>`, and `Scan:<index>` for a sparse one."""


@dataclass(frozen=True)
class Grants:
    """One function's permissions; anything not granted here is denied."""

    tables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    send_mail: bool = False  # SES SendEmail as the stage's identity, through its configuration set
    read_secrets: bool = False  # the stage's signing secrets and admin token hashes in SSM
    send_to_work_queue: bool = False
    consume_work_queue: bool = False  # must match an `@app.on_sqs_message(queue="closeloop-work")`


PERMISSIONS: dict[str, Grants] = {
    # every route: answers, unsubscribes, the admin API (imports run inline when small), the dashboard
    # (sign-in links go out by mail from here)
    "api_handler": Grants(
        tables={
            "campaigns": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "Query:all-campaigns"),
            "contacts": (
                "GetItem",
                "BatchGetItem",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "Query:contact-id",
                "Query:all-contacts",
                "Query:contact-delighted-id",
            ),
            "invitations": (
                "GetItem",
                "BatchGetItem",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "Query:campaign-invitations",
                "Query:email-invitations",
                "Query:campaign-skipped",
                "Query:campaign-responses",
                "Query:open-cases",
                "Query:campaign-held",
                "Scan:campaign-held",  # the dashboard's held answers of every campaign
            ),
            "members": ("PutItem", "UpdateItem", "BatchGetItem", "DeleteItem", "Query"),
            "imports": ("GetItem", "PutItem", "UpdateItem", "Query:running-imports"),
            "import-rejects": ("BatchWriteItem", "Query"),
            "counters": ("Query", "BatchGetItem", "UpdateItem"),
            "suppressions": ("GetItem", "BatchGetItem", "PutItem", "Query:suppression-list"),
            "api-tokens": ("GetItem", "PutItem", "DeleteItem", "Query:all-tokens"),
            "rate-limits": ("UpdateItem",),
            "deliveries": ("BatchGetItem", "BatchWriteItem"),
            "digest-subscriptions": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"),
            "dashboard-users": ("GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"),
            "sign-in-links": ("GetItem", "PutItem", "UpdateItem"),
            "dashboard-sessions": ("GetItem", "PutItem", "UpdateItem", "DeleteItem"),
            # deleting a person (chalicelib.privacy.deletion): who, when and how many items, never the address
            "deletions": ("PutItem",),
        },
        send_mail=True,
        read_secrets=True,
        send_to_work_queue=True,
    ),
    # fan-out, send batches, reminders, recurring rounds, import chunks, alerts and webhooks
    "work_queue": Grants(
        tables={
            "campaigns": ("GetItem", "UpdateItem"),
            "contacts": ("PutItem", "UpdateItem"),
            "invitations": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "Query:campaign-invitations"),
            "members": ("GetItem", "PutItem", "UpdateItem"),
            "imports": ("GetItem", "UpdateItem"),
            "suppressions": ("BatchGetItem",),
            "deliveries": ("UpdateItem",),
        },
        send_mail=True,
        read_secrets=True,
        send_to_work_queue=True,
        consume_work_queue=True,
    ),
    # SES bounces and complaints
    "ses_events": Grants(
        tables={
            "suppressions": ("PutItem",),
            "invitations": ("UpdateItem",),
        },
    ),
    # scheduled campaigns, due sends, reminders, recurring rounds, delivery retries
    "dispatch_due": Grants(
        tables={
            "campaigns": ("UpdateItem", "Query:scheduled-campaigns"),
            "imports": ("Query:running-imports",),
            "invitations": ("UpdateItem", "Query:send-due"),
            "deliveries": ("BatchGetItem", "Query:retry-due"),
        },
        read_secrets=True,  # get_settings(), for the queue's settings
        send_to_work_queue=True,
    ),
    # the counting applier: counters, the responses index, acknowledgement schedule, events
    "apply_counts": Grants(
        tables={
            "campaigns": ("GetItem",),
            "invitations": ("BatchGetItem", "UpdateItem", "Query:count-pending"),
            "counters": ("UpdateItem",),
        },
        read_secrets=True,  # get_settings(), for the acknowledgement delay and the events' settings
        send_to_work_queue=True,
    ),
    "acknowledge": Grants(
        tables={
            "campaigns": ("GetItem",),
            "invitations": ("UpdateItem", "Query:ack-due"),
            "suppressions": ("GetItem",),
        },
        send_mail=True,
        read_secrets=True,
    ),
    "send_digests": Grants(
        tables={
            "campaigns": ("Query:all-campaigns",),
            "counters": ("Query",),
            "invitations": ("Query:campaign-responses", "Query:open-cases"),
            "digest-subscriptions": ("Query",),
            "suppressions": ("GetItem",),
            "deliveries": ("UpdateItem",),
        },
        send_mail=True,
        read_secrets=True,
    ),
    # retention: comments and properties of old responses removed, counts kept (chalicelib.privacy.retention)
    "apply_retention": Grants(
        tables={
            "campaigns": ("Query:all-campaigns",),
            "invitations": ("UpdateItem", "Query:campaign-responses"),
        },
    ),
}


class PermissionsError(ValueError):
    """The map and the app disagree; raised during synthesis, before anything reaches AWS."""


@dataclass(frozen=True)
class TableAccess:
    table: str
    actions: tuple[str, ...]  # DynamoDB actions on the table itself
    indexes: tuple[str, ...]  # indexes the function queries
    scanned: tuple[str, ...] = ()  # indexes the function scans (sparse ones)


def grants_for(function: str, permissions: Mapping[str, Grants] = PERMISSIONS) -> Grants:
    try:
        return permissions[function]
    except KeyError:
        raise PermissionsError(
            f"Lambda function {function!r} has no entry in PERMISSIONS (infra/permissions.py). Declare what it "
            f"uses, e.g. {function!r}: Grants(tables={{'invitations': ('GetItem', 'UpdateItem')}}, send_mail=True); "
            "it gets nothing else."
        ) from None


def table_access(function: str, grants: Grants, specs: Mapping[str, TableSpec]) -> list[TableAccess]:
    """The DynamoDB part of `grants`, checked against the tables and indexes the models define."""
    access = []
    for table, actions in sorted(grants.tables.items()):
        where = f"PERMISSIONS[{function!r}].tables[{table!r}]"
        if table not in specs:
            raise PermissionsError(f"{where}: no model has TABLE = {table!r}; tables are {sorted(specs)}")
        if not isinstance(actions, tuple) or not actions:
            raise PermissionsError(f"{where} must be a non-empty tuple of actions, got {actions!r}")
        plain, indexes, scanned = [], [], []
        for action in actions:
            name, _, index = action.partition(":")
            if not (name in INDEX_ACTIONS if index else name in DYNAMODB_ACTIONS):
                raise PermissionsError(
                    f"{where}: {action!r} is not one of {sorted(DYNAMODB_ACTIONS)}, Query:<index> or Scan:<index>"
                )
            if index:
                known = [i.name for i in specs[table].indexes]
                if index not in known:
                    raise PermissionsError(f"{where}: {table} has no index {index!r}; it has {known}")
                (scanned if name == "Scan" else indexes).append(index)
            else:
                plain.append(name)
        access.append(
            TableAccess(table, tuple(sorted(set(plain))), tuple(sorted(set(indexes))), tuple(sorted(set(scanned))))
        )
    return access
