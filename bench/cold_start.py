"""A customer's first click on a cold Lambda: a new process imports the app and answers a GET of the
score link and a POST of the form, Closeloop against a bare Chalice app (bench/floor_app.py).

Each sample is a new Python process that imports the app (`app` from the project root, or
`floor_app` from bench/) and invokes the Lambda handler as Lambda does, `app.app(event,
context)` with API Gateway proxy events: GET /s/{token}?a=9, then POST /s/{token} with the
form the page carries (its csrf field, `evidence=submit`). Both apps talk to one in-memory
DynamoDB Local. Every Closeloop sample answers its own invitation, created beforehand by the
real use cases (bench.launch), so each is a first answer on a campaign the process has not
read yet. Samples alternate product and floor, the order flipping from pair to pair.

Timed inside the sample process, from just before the import to the POST's reply
(interpreter start-up, the same for both, is left out so it does not dilute the ratio); the
whole process's wall time, start-up included, is printed beside it. The target: Closeloop
within 1.3x the floor at the median (issue 21).

`python -m bench.cold_start --profile` also prints where a Closeloop sample's time goes: the
largest imports (`-X importtime`) and a cProfile of the two invocations after the import.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import bench
from bench import results
from localdev import dynamodb

PAIRS = 13
WARMUP = 2  # pairs run first and not counted: byte-compiles both apps, warms DynamoDB Local
TARGET = 1.3
FLOOR_DIR = Path(__file__).resolve().parent
# One sample: argv = [module, token, origin]; prints the phases' seconds and the two statuses as JSON.
DRIVER = r"""
import importlib, json, re, sys, time
from urllib.parse import urlencode

started = time.perf_counter()
module = importlib.import_module(sys.argv[1])
imported = time.perf_counter()
token, origin = sys.argv[2], sys.argv[3]


class Context:
    function_name = "closeloop-api_handler"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    aws_request_id = "cold-start"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:closeloop-api_handler"

    @staticmethod
    def get_remaining_time_in_millis():
        return 30000


def event(method, query, headers, body):
    headers = {"Host": "example.execute-api.us-east-1.amazonaws.com", **headers}
    return {
        "resource": "/s/{token}",
        "path": f"/s/{token}",
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"token": token},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/s/{token}",
            "httpMethod": method,
            "path": f"/api/s/{token}",
            "stage": "api",
            "requestId": "cold-start",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "cold-start"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


page = module.app(event("GET", {"a": "9"}, {"Accept": "text/html"}, None), Context())
shown = time.perf_counter()
csrf = re.search(r'name="csrf" value="([^"]+)"', page["body"]).group(1)
form = urlencode({"q_nps": "9", "csrf": csrf, "evidence": "submit"})
headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin, "Accept": "text/html"}
thanks = module.app(event("POST", None, headers, form), Context())
done = time.perf_counter()
print(json.dumps({
    "import": imported - started, "get": shown - imported, "post": done - shown, "total": done - started,
    "statuses": [page["statusCode"], thanks["statusCode"]], "thanked": "Thank you!" in thanks["body"],
}))
"""
# The same sample with a cProfile of the two invocations (after the import), printed to stderr.
PROFILED = (
    "import cProfile, pstats\n_profile = cProfile.Profile()\n"
    + DRIVER.replace("imported = time.perf_counter()\n", "imported = time.perf_counter()\n_profile.enable()\n")
    + "_profile.disable()\npstats.Stats(_profile, stream=sys.stderr).sort_stats('cumulative').print_stats(25)\n"
)


def _env(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLOSELOOP_", "PYTHON", "AWS_"))}
    return {**base, **dynamodb.CREDENTIALS, **extra}


def sample(
    module: str, token: str, origin: str, env: dict[str, str], *flags: str, code: str = DRIVER, cwd: Path | None = None
) -> dict:
    """One new process in `cwd` (the project, or bench/ for the floor): import `module`, GET and POST through
    its handler; seconds per phase, and "process"."""
    cwd = cwd or (bench.ROOT if module == "app" else FLOOR_DIR)
    started = time.perf_counter()
    done = subprocess.run(
        [str(bench.VENV_BIN / "python"), *flags, "-c", code, module, token, origin],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{module} sample failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.splitlines()[-1]), "process": elapsed, "stderr": done.stderr}


def create_floor_table(endpoint: str, name: str) -> None:
    from chalicelib.store import raw_client

    raw_client().create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def run(pairs: int = PAIRS, warmup: int = WARMUP, profile: bool = False) -> dict:
    started = time.perf_counter()
    with bench.dynamodb_local() as endpoint, bench.closeloop_tables(endpoint) as env:
        launched = bench.launch(pairs + warmup + (2 if profile else 0))
        table = f"{env['CLOSELOOP_TABLE_PREFIX']}floor"
        create_floor_table(endpoint, table)
        product_env = _env(env)
        floor_env = _env({"FLOOR_TABLE": table, "FLOOR_ENDPOINT": endpoint})
        origin = env["CLOSELOOP_BASE_URL"]
        setup_seconds = time.perf_counter() - started
        tokens = iter(launched.tokens)
        samples: dict[str, list[dict]] = {"app": [], "floor": []}
        failures: list[str] = []

        def one(module: str, record: bool) -> None:
            if module == "app":
                got = sample("app", next(tokens), origin, product_env)
            else:
                got = sample("floor_app", f"floor{len(samples['floor'])}", origin, floor_env)
            if got["statuses"] != [200, 200] or not got["thanked"]:
                failures.append(f"{module}: statuses {got['statuses']}, thanked {got['thanked']}")
            if record:
                samples[module].append(got)

        for pair in range(warmup + pairs):
            for module in ("app", "floor") if pair % 2 == 0 else ("floor", "app"):
                one(module, pair >= warmup)
        where = where_it_goes(next(tokens), next(tokens), origin, product_env) if profile else None
        written = answered(launched.campaign_id)
    return {
        "samples": samples,
        "failures": failures,
        "answered": written,
        "where": where,
        "setup_seconds": setup_seconds,
        "seconds": time.perf_counter() - started,
    }


def answered(campaign_id: str) -> int:
    """Invitations of the campaign with an answer recorded: every product sample's POST must have written one."""
    from chalicelib.store import raw_client, table_name
    from chalicelib.store.models import Invitation

    params = {
        "TableName": table_name(Invitation),
        "FilterExpression": "campaign_id = :c AND attribute_exists(answered_at)",
        "ExpressionAttributeValues": {":c": {"S": campaign_id}},
        "Select": "COUNT",
    }
    count = 0
    while True:
        page = raw_client().scan(**params)
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            return count
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def where_it_goes(token: str, other: str, origin: str, env: dict[str, str]) -> dict:
    """One more Closeloop sample under `-X importtime`, and one with a cProfile of its two invocations."""
    imports = sample("app", token, origin, env, "-X", "importtime")
    top = []
    for line in imports["stderr"].splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)$", line)
        if match and len(match.group(2)) // 2 <= 1:
            top.append((match.group(3), int(match.group(1)) / 1e6))
    profiled = sample("app", other, origin, env, code=PROFILED)
    return {"imports": sorted(top, key=lambda item: -item[1])[:12], "profile": profiled["stderr"]}


def figures(result: dict) -> dict:
    """The cold_start section of results.json, in milliseconds."""
    app, floor = (totals(result, m) for m in ("app", "floor"))
    return {
        "app_median_ms": results.figure(bench.median(app) * 1000),
        "app_p99_ms": results.figure(bench.percentile(app, 0.99) * 1000),
        "floor_median_ms": results.figure(bench.median(floor) * 1000),
        "floor_p99_ms": results.figure(bench.percentile(floor, 0.99) * 1000),
        "ratio_median": results.figure(bench.median(app) / bench.median(floor)),
        "ratio_p99": results.figure(bench.percentile(app, 0.99) / bench.percentile(floor, 0.99)),
        "target": TARGET,
        "_units": f"milliseconds from a new process's import of the app to the reply of its POST (GET of the score"
        f" link, then POST of the form, through the Lambda handler, DynamoDB Local), {len(app)} interleaved pairs;"
        " floor: bench/floor_app.py; interpreter start-up excluded; p99 is the nearest rank, the slowest sample",
    }


def totals(result: dict, module: str) -> list[float]:
    return [s["total"] for s in result["samples"][module]]


def report(result: dict) -> None:
    samples = result["samples"]
    pairs = len(samples["app"])
    bench.title(
        f"cold start: a new process imports the app, then GET + POST through the Lambda handler "
        f"({pairs} interleaved pairs, DynamoDB Local)"
    )
    print(f"{'':<22}{'closeloop':>22}{'floor':>22}{'ratio':>8}")
    print(f"{'':<22}{'median':>11}{'p99':>11}{'median':>11}{'p99':>11}{'median':>8}")
    for phase in ("import", "get", "post", "total", "process"):
        app = [s[phase] for s in samples["app"]]
        floor = [s[phase] for s in samples["floor"]]
        label = {"total": "import + GET + POST", "process": "(whole process)"}.get(phase, phase)
        print(
            f"{label:<22}{bench.median(app) * 1000:>9.1f}ms{bench.percentile(app, 0.99) * 1000:>9.1f}ms"
            f"{bench.median(floor) * 1000:>9.1f}ms{bench.percentile(floor, 0.99) * 1000:>9.1f}ms"
            f"{bench.median(app) / bench.median(floor):>8.2f}"
        )
    app, floor = totals(result, "app"), totals(result, "floor")
    ratio = bench.median(app) / bench.median(floor)
    ratio99 = bench.percentile(app, 0.99) / bench.percentile(floor, 0.99)
    print(
        f"ratio closeloop / floor (import + GET + POST): median {ratio:.2f}, p99 {ratio99:.2f};"
        f" target <= {TARGET} at the median  {bench.verdict(ratio <= TARGET)}"
    )
    expected = pairs + WARMUP + (2 if result["where"] else 0)  # --profile runs two more
    print(
        f"check: {len(result['failures'])} failed samples; {result['answered']} answers recorded by"
        f" {expected} Closeloop samples (warm-up and profiled ones included)"
    )
    for failure in result["failures"][:5]:
        print(f"  failure: {failure}")
    if result["where"]:
        print("largest imports of a Closeloop sample (cumulative, -X importtime, depth <= 1):")
        for name, seconds in result["where"]["imports"]:
            print(f"  {name:<40}{seconds * 1000:>8.1f}ms")
        print("cProfile of a Closeloop sample's GET + POST, after the import:")
        print(result["where"]["profile"])
    print(f"ran in {result['seconds']:.1f}s (setup {result['setup_seconds']:.1f}s)")


def main(argv: list[str] | None = None) -> None:
    result = run(profile="--profile" in (sys.argv[1:] if argv is None else argv))
    report(result)
    path = results.merge("cold_start", figures(result))
    print(f"wrote the cold start figures to {path.relative_to(bench.ROOT)}")


if __name__ == "__main__":
    main()
