"""Which AWS permission each Lambda function used while the tests ran, for tests/permission_proof.py.

Every botocore client (boto3's and PynamoDB's alike) reports each API call through its
`before-parameter-build` event; the local stand-ins for SES (the outbox) and SQS (the queue
directory) report the calls they replace, and reading the settings reports the SSM read that
`get_settings()` makes on AWS. Each call is attributed to the Lambda function running it: the
outermost frame on the stack that is either a function in app.py (a route view serves
`api_handler`; a queue, topic or schedule handler is its own function) or a chalicelib function
that exactly one of those functions calls (e.g. `work.handle` for `work_queue`), since most tests
call those directly. Calls no entry point makes (fixtures, test setup) are not recorded.

A use is a `Need`: the key of the `Grants` field in infra/permissions.py that permits it,
("tables", table, action) or ("send_mail",), ("read_secrets",), ("send_to_work_queue",),
("consume_work_queue",), or ("other", "service:Operation") for what no field covers.

Subprocesses (the CLI, `chalice local`, fresh Lambda processes) record through
tests/recorder_site/sitecustomize.py into the file named by RECORD_ENV.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECORD_ENV = "TEST_AWS_CALLS_LOG"  # a file subprocesses append their uses to, one JSON line each
API_HANDLER = "api_handler"  # the one function Chalice packages for every route
ROUTE_DECORATORS = {"route", "api_route", "middleware"}  # http middleware runs inside the API handler
Need = tuple[str, ...]
Sink = Callable[[str, Need], None]
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
OPERATION_NEEDS = {
    ("ses", "SendEmail"): ("send_mail",),
    ("ses", "SendRawEmail"): ("send_mail",),
    ("sesv2", "SendEmail"): ("send_mail",),
    ("ssm", "GetParameters"): ("read_secrets",),
    ("sqs", "SendMessage"): ("send_to_work_queue",),
    ("sqs", "SendMessageBatch"): ("send_to_work_queue",),
    ("sqs", "ChangeMessageVisibility"): ("consume_work_queue",),
}


@functools.cache
def entry_points() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """({app.py function: Lambda function}, {(chalicelib module, function): the one Lambda function calling it})."""
    tree = ast.parse((ROOT / "app.py").read_text())
    modules = {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib")
        for alias in node.names
    }
    modules.update(  # modules app.py loads on first use: `work = OnFirstUse("chalicelib.runtime.work")`
        {
            node.targets[0].id: node.value.args[0].value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "OnFirstUse"
        }
    )
    handlers: dict[str, str] = {}
    callers: dict[tuple[str, str], set[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.decorator_list:
            continue
        decorators = {_decorator_name(d) for d in node.decorator_list}
        function = API_HANDLER if decorators & ROUTE_DECORATORS else node.name
        handlers[node.name] = function
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id in modules
            ):
                callers.setdefault((modules[call.func.value.id], call.func.attr), set()).add(function)
    return handlers, {key: next(iter(names)) for key, names in callers.items() if len(names) == 1}


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")


_submitted = threading.local()  # .function: the Lambda function that handed this pool thread its task


def current_function() -> str | None:
    """The Lambda function whose entry point is the outermost on this thread's stack, or None; in a thread
    pool's thread (chalicelib.sending.imports writes a chunk's rows at once), the one that submitted the task."""
    handlers, callees = entry_points()
    found = getattr(_submitted, "function", None)
    frame = sys._getframe(1)
    while frame is not None:
        module, name = frame.f_globals.get("__name__"), frame.f_code.co_name
        if module == "app" and name != "<module>":
            found = handlers.get(name, API_HANDLER)  # helpers in app.py (guarded, _body...) serve routes
        elif (module, name) in callees:
            found = callees[(module, name)]
        frame = frame.f_back
    return found


def needs_of(service: str, operation: str, params: dict[str, Any], tables: tuple[str, ...]) -> list[Need]:
    """The grants one API call needs; DynamoDB tables by their suffix (the stage's prefix dropped)."""
    if service != "dynamodb":
        return [OPERATION_NEEDS.get((service, operation), ("other", f"{service}:{operation}"))]

    def table(name: str) -> str:
        return max((t for t in tables if name.endswith(t)), key=len, default=name)

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [("tables", table(name), operation) for name in params.get("RequestItems", {})]
    if operation == "TransactWriteItems":
        return [
            ("tables", table(body["TableName"]), TRANSACT_ACTIONS[kind])
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if operation == "TransactGetItems":
        return [("tables", table(item["Get"]["TableName"]), "GetItem") for item in params.get("TransactItems", [])]
    action = f"{operation}:{params['IndexName']}" if params.get("IndexName") else operation
    return [("tables", table(params.get("TableName", "?")), action)]


_installed = threading.Lock()
_sinks: list[Sink] = []  # the sink of the latest install()


def install(sink: Sink) -> None:
    """Report every AWS use made under a Lambda function to `sink(function, need)`. The hooks go in once per
    process; a later call only changes the sink (a pytest-xdist worker is a subprocess of the session, so
    sitecustomize gives it the file sink before its permission_proof plugin gives it the in-process one)."""
    with _installed:
        first = not _sinks
        _sinks[:] = [sink]
        if not first:
            return
    import botocore.session

    from chalicelib.core import config
    from chalicelib.mail.file import FileMailBackend
    from chalicelib.queue.local import LocalWorkQueue
    from chalicelib.store.models import MODELS

    tables = tuple(model.TABLE for model in MODELS)

    def report(*needs: Need) -> None:
        function = current_function()
        if function is not None:
            for need in needs:
                _sinks[0](function, need)

    def on_call(params: dict, model: Any, **_kwargs: Any) -> None:
        report(*needs_of(model.service_model.service_name, model.name, params, tables))

    create_client = botocore.session.Session.create_client

    @functools.wraps(create_client)
    def recorded_client(self, *args, **kwargs):
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", on_call)
        return client

    botocore.session.Session.create_client = recorded_client

    def stand_in(cls: type, method: str, need: Need, when: Callable[..., bool] = lambda *a: True) -> None:
        original = getattr(cls, method)

        @functools.wraps(original)
        def recorded(self, *args, **kwargs):
            if when(*args):
                report(need)
            return original(self, *args, **kwargs)

        setattr(cls, method, recorded)

    stand_in(FileMailBackend, "send", ("send_mail",))  # SES SendEmail on AWS
    stand_in(LocalWorkQueue, "send", ("send_to_work_queue",), lambda messages, *a: bool(messages))  # SQS
    stand_in(LocalWorkQueue, "retry_later", ("consume_work_queue",))  # SQS ChangeMessageVisibility
    env = config._env

    @functools.wraps(env)
    def recorded_env(name: str, *args, **kwargs) -> str:
        if name == "SSM_PREFIX":  # get_settings() reads the secrets from SSM on AWS
            report(("read_secrets",))
        return env(name, *args, **kwargs)

    config._env = recorded_env
    submit = ThreadPoolExecutor.submit

    @functools.wraps(submit)
    def attributed_submit(self, fn, /, *args, **kwargs):
        function = current_function()

        def attributed(*a, **k):
            _submitted.function = function
            try:
                return fn(*a, **k)
            finally:
                _submitted.function = None

        return submit(self, attributed, *args, **kwargs)

    ThreadPoolExecutor.submit = attributed_submit


def file_sink(path: str) -> Sink:
    """For subprocesses: append each new use, with the test that started the process, to `path`."""
    seen: set[tuple[str, Need]] = set()
    lock = threading.Lock()

    def sink(function: str, need: Need) -> None:
        with lock:
            if (function, need) in seen:
                return
            seen.add((function, need))
            line = json.dumps({"function": function, "need": need, "test": os.environ.get("PYTEST_CURRENT_TEST", "")})
            with open(path, "a") as handle:
                handle.write(line + "\n")

    return sink


def read_file(path: Path) -> list[tuple[str, Need, str]]:
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(row["function"], tuple(row["need"]), row["test"].rsplit(" ", 1)[0]) for row in rows]
