"""Import time of `app.py` (what a cold Lambda pays before the first request) against `import boto3` alone.

Fresh interpreters, several runs each, alternating, from the project root, each timing its one
import with perf_counter. Also printed, for the same cold start: the biggest top-level imports
of `app` (`python -X importtime`), and what the first DynamoDB call of an answer pays to build
its botocore clients, since every PynamoDB model builds its own session and client.
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import bench

RUNS = 9
TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
# A cold answer needs the Campaign model (page) and the Invitation model (submit, counters).
CLIENTS = """
import time
t = time.perf_counter()
import app
from chalicelib.store import bind
from chalicelib.store.models import Campaign, Invitation
bind()
imported = time.perf_counter()
Campaign._get_connection().connection.client
campaign = time.perf_counter()
Invitation._get_connection().connection.client
invitation = time.perf_counter()
import boto3
t = time.perf_counter()
boto3.client("dynamodb")
plain = time.perf_counter() - t
print(campaign - imported, invitation - campaign, plain)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return env


def python(code: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bench.VENV_BIN / "python"), *flags, "-c", code],
        cwd=bench.ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def timed_import(module: str) -> float:
    return float(python(TIMED.format(module=module)).stdout.strip())


def top_imports(module: str, count: int = 6) -> list[tuple[str, float]]:
    """What `module` imports directly that costs the most, cumulative seconds, from -X importtime."""
    stderr = python(f"import {module}", "-X", "importtime").stderr
    children: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)$", line)
        if not match:
            continue
        depth, name, seconds = len(match.group(2)) // 2, match.group(3), int(match.group(1)) / 1e6
        if depth == 1:
            children.append((name, seconds))
        elif depth == 0:
            if name == module:
                return sorted(children, key=lambda item: -item[1])[:count]
            children = []
    return []


def run(runs: int = RUNS) -> dict:
    started = time.perf_counter()
    timed_import("boto3"), timed_import("app")  # byte-compile once; not counted
    boto3_times, app_times = [], []
    for _ in range(runs):
        boto3_times.append(timed_import("boto3"))
        app_times.append(timed_import("app"))
    clients = [tuple(float(x) for x in python(CLIENTS).stdout.split()) for _ in range(3)]
    return {
        "boto3": boto3_times,
        "app": app_times,
        "top": top_imports("app"),
        "clients": [bench.median([c[i] for c in clients]) for i in range(3)],
        "seconds": time.perf_counter() - started,
    }


def report(result: dict) -> None:
    bench.title(f"import time: `import app` vs `import boto3` (fresh interpreters, {len(result['app'])} runs each)")
    boto3_median, app_median = bench.median(result["boto3"]), bench.median(result["app"])
    print(f"{'':<16}{'median':>10}{'min':>10}{'max':>10}")
    for label, values in (("import boto3", result["boto3"]), ("import app", result["app"])):
        print(
            f"{label:<16}{bench.median(values) * 1000:>8.1f}ms{min(values) * 1000:>8.1f}ms{max(values) * 1000:>8.1f}ms"
        )
    print(f"ratio app / boto3 (medians): {app_median / boto3_median:.2f}  (no target set; for tracking)")
    print("largest direct imports of app (cumulative, one -X importtime run):")
    for name, seconds in result["top"]:
        print(f"  {name:<28}{seconds * 1000:>8.1f}ms")
    campaign, invitation, plain = (x * 1000 for x in result["clients"])
    print(
        f"first use of the models' botocore clients (cold answer): Campaign {campaign:.1f}ms, then Invitation "
        f"{invitation:.1f}ms more (each model builds its own botocore session and client);"
        f" a bare app's one boto3 client: {plain:.1f}ms"
    )
    print(f"ran in {result['seconds']:.1f}s")


def main() -> None:
    report(run())


if __name__ == "__main__":
    main()
