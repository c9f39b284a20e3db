"""Import time of `app.py` (what a cold Lambda pays before the first request) against `import boto3` alone.

Interleaved pairs of fresh interpreters from the project root, the order alternating from one
pair to the next, each timing its one import with perf_counter (interpreter start-up, the same
for both, is left out so it does not dilute the ratio). The ceiling: `import app` within 1.3x
`import boto3` at the median (issues 16 and 21). Also printed, for the same cold start: the
biggest top-level imports of `app` (`python -X importtime`), and what a cold process pays for
its AWS clients: the models' one DynamoDB client, then a second client from the same botocore
session (as the SQS, SES and SSM clients are built), against one from a second session (boto3's).
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import bench
from bench import results

PAIRS = 15
CEILING = 1.3
TIMED = (
    "import time; t, c = time.perf_counter(), time.process_time(); import {module};"
    " print(time.perf_counter() - t, time.process_time() - c)"
)
# A cold answer builds the models' client; the work queue's Lambda then an SQS or SES one.
CLIENTS = """
import time
import app
from chalicelib.core import aws
from chalicelib.store.models import Campaign, Invitation
t = time.perf_counter()
Campaign._get_connection().connection.client
Invitation._get_connection().connection.client
dynamodb = time.perf_counter()
aws.client("sqs", "us-east-1")
sqs = time.perf_counter()
import boto3
t0 = time.perf_counter()
boto3.client("dynamodb")
print(dynamodb - t, sqs - dynamodb, time.perf_counter() - t0)
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


def timed_import(module: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `import module` in a fresh interpreter."""
    wall, cpu = python(TIMED.format(module=module)).stdout.split()
    return float(wall), float(cpu)


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


def run(pairs: int = PAIRS) -> dict:
    """{"boto3": [wall seconds], "app": [...], "cpu": {"boto3": [CPU seconds], "app": [...]}, "top", "clients",
    "seconds"}: one sample per fresh process."""
    started = time.perf_counter()
    timed_import("boto3"), timed_import("app")  # byte-compile once; not counted
    times: dict[str, list[float]] = {"boto3": [], "app": []}
    cpu: dict[str, list[float]] = {"boto3": [], "app": []}
    for pair in range(pairs):
        for module in ("boto3", "app") if pair % 2 == 0 else ("app", "boto3"):
            wall, used = timed_import(module)
            times[module].append(wall)
            cpu[module].append(used)
    clients = [tuple(float(x) for x in python(CLIENTS).stdout.split()) for _ in range(3)]
    return {
        **times,
        "cpu": cpu,
        "top": top_imports("app"),
        "clients": [bench.median([c[i] for c in clients]) for i in range(3)],
        "seconds": time.perf_counter() - started,
    }


def figures(result: dict) -> dict:
    """The cold_import section of results.json, in milliseconds."""
    boto3_times, app_times = result["boto3"], result["app"]
    return {
        "boto3_median_ms": results.figure(bench.median(boto3_times) * 1000),
        "boto3_p99_ms": results.figure(bench.percentile(boto3_times, 0.99) * 1000),
        "app_median_ms": results.figure(bench.median(app_times) * 1000),
        "app_p99_ms": results.figure(bench.percentile(app_times, 0.99) * 1000),
        "ratio_median": results.figure(bench.median(app_times) / bench.median(boto3_times)),
        "cpu_ratio_median": results.figure(bench.median(result["cpu"]["app"]) / bench.median(result["cpu"]["boto3"])),
        "ceiling": CEILING,
        "_units": f"milliseconds of one `import` in a fresh interpreter (start-up excluded), {len(app_times)}"
        " interleaved pairs, order alternating; p99 is the nearest rank, so the slowest sample at this count;"
        " cpu_ratio_median: the same ratio in CPU time of the importing process, which a machine busy with other"
        " work disturbs less",
    }


def report(result: dict) -> None:
    pairs = len(result["app"])
    bench.title(f"import time: `import app` vs `import boto3` (fresh interpreters, {pairs} interleaved pairs)")
    print(f"{'':<16}{'median':>10}{'p99':>10}{'min':>10}")
    for label, values in (("import boto3", result["boto3"]), ("import app", result["app"])):
        print(
            f"{label:<16}{bench.median(values) * 1000:>8.1f}ms{bench.percentile(values, 0.99) * 1000:>8.1f}ms"
            f"{min(values) * 1000:>8.1f}ms"
        )
    ratio = bench.median(result["app"]) / bench.median(result["boto3"])
    ratio99 = bench.percentile(result["app"], 0.99) / bench.percentile(result["boto3"], 0.99)
    print(
        f"ratio app / boto3: {ratio:.2f} at the median (ceiling {CEILING}: {bench.verdict(ratio <= CEILING)}),"
        f" {ratio99:.2f} at p99"
    )
    cpu = result["cpu"]
    print(
        f"CPU time of the import (less disturbed by other work on the machine): boto3"
        f" {bench.median(cpu['boto3']) * 1000:.1f}ms, app {bench.median(cpu['app']) * 1000:.1f}ms at the median,"
        f" ratio {bench.median(cpu['app']) / bench.median(cpu['boto3']):.2f}"
    )
    print("largest direct imports of app (cumulative, one -X importtime run):")
    for name, seconds in result["top"]:
        print(f"  {name:<28}{seconds * 1000:>8.1f}ms")
    dynamodb, second, plain = (x * 1000 for x in result["clients"])
    print(
        f"AWS clients of a cold process: the models' one DynamoDB client {dynamodb:.1f}ms, then an SQS client"
        f" from the same botocore session {second:.1f}ms; a client from a second session (boto3's, as the SQS, SES"
        f" and SSM clients were built before) {plain:.1f}ms"
    )
    print(f"ran in {result['seconds']:.1f}s")


def main() -> None:
    result = run()
    report(result)
    path = results.merge("cold_import", figures(result))
    print(f"wrote the cold import figures to {path.relative_to(bench.ROOT)}")


if __name__ == "__main__":
    main()
