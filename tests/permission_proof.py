"""The permission proof: every AWS use a test makes under a Lambda function must be granted to that function in
infra/permissions.py, and, when the whole suite ran, every grant must have been used by some test.

Loaded by tests/conftest.py. It records from the start of the session (tests/aws_calls.py explains
how a call becomes a use and which function it belongs to), then checks at the end: a use not
granted fails the run whatever was selected; a grant no test used fails it only when every test
module was collected, nothing was deselected and every test passed, as in `make test`. The report
lists what to add to or remove from PERMISSIONS.

Under pytest-xdist (`make test` runs `-n 2`) each worker records its own uses and hands them, with what it
collected and deselected, to the controller (`workeroutput`), which checks them all at the end.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests import aws_calls
from tests.aws_calls import Need

SITE = Path(__file__).resolve().parent / "recorder_site"
# What the function's event source mapping does for it (Lambda reads and deletes the messages); the
# stack already checks consume_work_queue against the function's queue subscriptions.
NOT_CALLED_BY_CODE = {("consume_work_queue",)}

_lock = threading.Lock()
_uses: dict[tuple[str, Need], str] = {}  # (function, need) -> the first test that used it
_listeners: list[dict[tuple[str, Need], str]] = []
_state: dict[str, Any] = {"deselected": False, "report": [], "collected": set(), "workers_lost": False}


def _record(function: str, need: Need, test: str | None = None) -> None:
    test = test or os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    with _lock:
        for uses in (_uses, *_listeners):
            uses.setdefault((function, need), test)


@contextlib.contextmanager
def recording() -> Iterator[dict[tuple[str, Need], str]]:
    """The uses made in this process inside the block (they count for the session's check too)."""
    uses: dict[tuple[str, Need], str] = {}
    _listeners.append(uses)
    try:
        yield uses
    finally:
        _listeners.remove(uses)


def pytest_configure(config: pytest.Config) -> None:
    log = Path(tempfile.gettempdir()) / f"closeloop-aws-calls-{os.getpid()}.jsonl"
    log.unlink(missing_ok=True)
    config.stash[_LOG] = log
    os.environ[aws_calls.RECORD_ENV] = str(log)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(SITE), str(aws_calls.ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    aws_calls.install(_record)


_LOG = pytest.StashKey[Path]()


def pytest_deselected(items: list) -> None:
    if items:
        _state["deselected"] = True


def granted(permissions: Mapping) -> dict[str, set[Need]]:
    """{function: the needs its Grants cover}, in the vocabulary of tests/aws_calls.py."""
    result = {}
    for function, grants in permissions.items():
        needs = {("tables", table, action) for table, actions in grants.tables.items() for action in actions}
        for flag in ("send_mail", "read_secrets", "send_to_work_queue", "consume_work_queue"):
            if getattr(grants, flag):
                needs.add((flag,))
        result[function] = needs
    return result


def iam(need: Need) -> str:
    """The IAM action and resource infra/stack.py derives from a need."""
    if need[0] == "tables":
        table, action = need[1], need[2]
        name, _, index = action.partition(":")
        return f"dynamodb:{name} on table/{table}" + (f"/index/{index}" if index else "")
    return {
        "send_mail": "ses:SendEmail on the stage's identity and configuration set",
        "read_secrets": "ssm:GetParameters on the stage's secret parameters",
        "send_to_work_queue": "sqs:SendMessage on the work queue",
        "consume_work_queue": "sqs:ChangeMessageVisibility on the work queue",
    }.get(need[0], f"{need[-1]} (no Grants field covers it: add one to infra/permissions.py and infra/stack.py)")


def edit(function: str, need: Need, add: bool) -> str:
    """The change to PERMISSIONS that grants (add) or drops (not add) one need."""
    if need[0] == "tables":
        verb = "add" if add else "remove"
        return f"PERMISSIONS[{function!r}].tables[{need[1]!r}]: {verb} {need[2]!r}"
    if need[0] == "other":
        return f"PERMISSIONS[{function!r}]: nothing grants {need[1]}"
    return f"PERMISSIONS[{function!r}]: {need[0]}={add}"


def compare(uses: Mapping[tuple[str, Need], str], permissions: Mapping, whole_suite: bool) -> list[str]:
    """Lines of the report, empty when the grants and the uses agree."""
    grants = granted(permissions)
    lines = []
    for (function, need), test in sorted(uses.items()):
        if need not in grants.get(function, set()):
            lines.append(f"missing  {edit(function, need, True)}  # {iam(need)}; used by {test or 'a subprocess'}")
    if whole_suite:
        used = set(uses)
        for function, needs in sorted(grants.items()):
            for need in sorted(needs - NOT_CALLED_BY_CODE):
                if (function, need) not in used:
                    lines.append(f"unused   {edit(function, need, False)}  # {iam(need)}; no test needs it")
    return lines


def _whole_suite(session: pytest.Session) -> bool:
    every = {p.resolve() for p in (aws_calls.ROOT / "tests").glob("test_*.py")}
    collected = {Path(item.path).resolve() for item in session.items} | _state["collected"]
    ran = not session.config.option.collectonly and not session.shouldstop and not _state["workers_lost"]
    return ran and every <= collected and not _state["deselected"] and session.testsfailed == 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    log = session.config.stash.get(_LOG, None)
    if log is None:
        return
    for function, need, test in aws_calls.read_file(log):
        _record(function, need, test)
    log.unlink(missing_ok=True)
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: the controller checks
        session.config.workeroutput[_OUTPUT] = {
            "uses": [[function, list(need), test] for (function, need), test in _uses.items()],
            "collected": sorted({str(Path(item.path).resolve()) for item in session.items}),
            "deselected": _state["deselected"],
        }
        return
    from infra.permissions import PERMISSIONS

    lines = compare(dict(_uses), PERMISSIONS, _whole_suite(session))
    _state["report"] = lines
    if lines and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_OUTPUT = "permission_proof"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist's controller: a worker finished, with its uses (none when it crashed: no whole suite then)."""
    output = getattr(node, "workeroutput", {}).get(_OUTPUT)
    if output is None:
        _state["workers_lost"] = True
        return
    for function, need, test in output["uses"]:
        _record(function, tuple(need), test)
    _state["collected"].update(Path(path) for path in output["collected"])
    _state["deselected"] = _state["deselected"] or output["deselected"]


def pytest_terminal_summary(terminalreporter) -> None:
    lines = _state["report"]
    if lines:
        terminalreporter.section("permission proof: infra/permissions.py disagrees with the calls the code makes")
        for line in lines:
            terminalreporter.line(line)
