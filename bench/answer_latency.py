"""The warm answer cycle (page GET + submit POST) on `make run`'s server, Closeloop against the bare floor.

Targets (issue 21): Closeloop's cycle within 1.6x the floor at the median and 2.0x at p99, for
first answers and for edits separately; an edit makes one DynamoDB write request.

Both apps run under `chalice local --no-autoreload`, as `make run` serves Closeloop, on free
ports, talking to one in-memory DynamoDB Local: the floor is bench/floor_app.py (a bare
Chalice app: GET renders a small Jinja2 form, POST does one PutItem), Closeloop runs from
this project with `--stage local`. One keep-alive connection per server is reused (checked
first: when a server closes connections, both get a new connection per request). After a
warm-up, rounds alternate a floor cycle (GET + POST) with a Closeloop cycle (page GET + submit
POST), the order flipping each round: first answers, each on its own invitation, then edits
(a new score on each of those invitations again).

Python's http.server, under chalice local, writes a response's headers and its body in two
sends; on a keep-alive connection, Nagle's algorithm holds the body back until the client's
delayed ACK (40 ms on Linux): every survey page and about half of the floor's requests took ~41 ms more.
That is an artifact of the local server (API Gateway in front of Lambda has no such thing),
so `make run` serves with TCP_NODELAY on accepted sockets (localdev/serve.py, the request
handler's own `disable_nagle_algorithm` switch), and both servers here run the same way.
`python -m bench.answer_latency --stock` runs them as Chalice ships them.

After the rounds, the same calls in this process (chalicelib.answers.survey_pages) show where a
submit's time goes and count the DynamoDB requests of a first answer and of an edit (bench.meter).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import bench
from bench import results
from bench.meter import Meter, attach_everywhere
from localdev import dynamodb

ROUNDS = 200  # per kind (first answers, edits)
WARMUP = 20
IN_PROCESS = 60
MEDIAN_TARGET = 1.6
P99_TARGET = 2.0
FLOOR_APP = Path(__file__).resolve().parent / "floor_app.py"
FLOOR_CONFIG = {"version": "2.0", "app_name": "floor", "stages": {"dev": {"api_gateway_stage": "api"}}}
SERVE = bench.ROOT / "localdev" / "serve.py"  # `chalice local` as `make run` runs it (TCP_NODELAY)
KINDS = {"first": "first answers", "edit": "edits"}


def checked(score: int) -> re.Pattern:
    return re.compile(rf'<input type="radio" name="q_nps" value="{score}" checked')


def first_score(i: int) -> int:
    return i % 11


def edit_score(i: int) -> int:
    return (i + 5) % 11


class Client:
    """Timed HTTP requests to one server over one reused connection, or a new one per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reuse = True
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        if not self.reuse:
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        data = response.read()
        return response.status, data.decode(), time.perf_counter() - started

    def keeps_alive(self, path: str) -> bool:
        """Two requests in a row travel on the same socket."""
        ports = []
        for _ in range(2):
            self.connection.request("GET", path)
            response = self.connection.getresponse()
            response.read()
            if response.will_close or self.connection.sock is None:
                return False
            ports.append(self.connection.sock.getsockname()[1])
        return ports[0] == ports[1]

    def close(self) -> None:
        self.connection.close()


def serve(args: list[str], cwd: Path, env: dict[str, str], port: int, log: Path, nodelay: bool) -> subprocess.Popen:
    chalice = [str(bench.VENV_BIN / "python"), str(SERVE)] if nodelay else [str(bench.VENV_BIN / "chalice")]
    command = [*chalice, "local", "--no-autoreload", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command + args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"chalice local in {cwd} exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                dynamodb.stop(process)
                raise SystemExit(f"chalice local on port {port} did not answer within 60s") from None
            time.sleep(0.1)


def floor_project(root: Path) -> Path:
    """A scratch Chalice project whose app.py is bench/floor_app.py."""
    project = root / "floor"
    (project / ".chalice").mkdir(parents=True)
    shutil.copyfile(FLOOR_APP, project / "app.py")
    (project / ".chalice" / "config.json").write_text(json.dumps(FLOOR_CONFIG, indent=2))
    return project


def create_floor_table(name: str) -> None:
    from chalicelib.store import raw_client

    raw_client().create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def create_indexed_table(name: str, like: str) -> None:
    """A table with the keys and indexes of `like` (the invitations table), for the floor's PutItem to show
    what DynamoDB Local's upkeep of those indexes adds to a write whose item is in none of them."""
    from chalicelib.store import raw_client

    client = raw_client()
    table = client.describe_table(TableName=like)["Table"]
    indexes = [
        {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
        for index in table.get("GlobalSecondaryIndexes", [])
    ]
    client.create_table(
        TableName=name,
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )


def run(rounds: int = ROUNDS, warmup: int = WARMUP, nodelay: bool = True) -> dict:
    started = time.perf_counter()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOSELOOP_", "PYTHON", "AWS_"))}
    with tempfile.TemporaryDirectory(prefix="closeloop-latency-") as scratch, bench.dynamodb_local() as endpoint:
        root = Path(scratch)
        closeloop_port, floor_port = dynamodb.free_port(), dynamodb.free_port()
        base_url = f"http://127.0.0.1:{closeloop_port}"
        with bench.closeloop_tables(endpoint, base_url) as env:
            launched = bench.launch(rounds + warmup + IN_PROCESS)
            table = f"{env['CLOSELOOP_TABLE_PREFIX']}floor"
            create_floor_table(table)
            create_indexed_table(f"{table}-indexed", env["CLOSELOOP_TABLE_PREFIX"] + "invitations")
            setup_seconds = time.perf_counter() - started
            floor_env = {**base_env, **dynamodb.CREDENTIALS, "FLOOR_TABLE": table, "FLOOR_ENDPOINT": endpoint}
            closeloop_env = {**base_env, **env}
            servers = []
            try:
                servers.append(serve([], floor_project(root), floor_env, floor_port, root / "floor.log", nodelay))
                servers.append(
                    serve(
                        ["--stage", "local"], bench.ROOT, closeloop_env, closeloop_port, root / "closeloop.log", nodelay
                    )
                )
                result = measure(Client(floor_port), Client(closeloop_port), launched.tokens, base_url, rounds, warmup)
            finally:
                for server in servers:
                    dynamodb.stop(server)
            result["in_process"] = in_process(launched.tokens[rounds + warmup :], base_url, table)
    result["nodelay"] = nodelay
    result["setup_seconds"] = setup_seconds
    result["seconds"] = time.perf_counter() - started
    return result


def measure(floor: Client, closeloop: Client, tokens: list[str], base_url: str, rounds: int, warmup: int) -> dict:
    alive = {"floor": floor.keeps_alive("/"), "closeloop": closeloop.keeps_alive("/dev/outbox")}
    if not all(alive.values()):
        floor.reuse = closeloop.reuse = False
    times: dict[str, dict[str, list[float]]] = {
        kind: {"floor": [], "floor_get": [], "floor_post": [], "get": [], "post": [], "answer": []} for kind in KINDS
    }
    times["noop"] = {"floor": []}
    failures: list[str] = []
    form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": base_url}

    def floor_cycle(kind: str, i: int, record: bool) -> None:
        status, page, get_seconds = floor.request("GET", f"/s/f{i}?a=9")
        if status != 200 or not checked(9).search(page):
            failures.append(f"floor GET {status} {page[:200]}")
            return
        form = urlencode({"q_nps": "9", "csrf": bench.csrf_of(page)})
        status, thanks, post_seconds = floor.request("POST", f"/s/f{i}", form, form_headers)
        if status != 200 or "Thank you!" not in thanks:
            failures.append(f"floor POST {status} {thanks[:200]}")
        if record:
            times[kind]["floor_get"].append(get_seconds)
            times[kind]["floor_post"].append(post_seconds)
            times[kind]["floor"].append(get_seconds + post_seconds)

    def noop(record: bool) -> None:
        status, body, seconds = floor.request("GET", "/")
        if status != 200:
            failures.append(f"floor no-op {status} {body[:200]}")
        if record:
            times["noop"]["floor"].append(seconds)

    def answer(kind: str, i: int, record: bool) -> None:
        token, score = tokens[i], (first_score if kind == "first" else edit_score)(i)
        status, page, get_seconds = closeloop.request("GET", f"/s/{token}?a={score}")
        if status != 200 or not checked(score).search(page):
            failures.append(f"{kind} GET {status} {page[:200]}")
            return
        form = urlencode({"q_nps": str(score), "csrf": bench.csrf_of(page), "evidence": "submit"})
        status, thanks, post_seconds = closeloop.request("POST", f"/s/{token}", form, form_headers)
        if status != 200 or "Thank you!" not in thanks:
            failures.append(f"{kind} POST {status} {thanks[:200]}")
        if record:
            times[kind]["get"].append(get_seconds)
            times[kind]["post"].append(post_seconds)
            times[kind]["answer"].append(get_seconds + post_seconds)

    for kind in KINDS:  # first answers on every invitation, then an edit of each
        for i in range(warmup):
            floor_cycle(kind, i, False)
            noop(False)
            answer(kind, i, False)
        for i in range(warmup, warmup + rounds):
            steps: list[Callable[[str, int, bool], None]] = [floor_cycle, answer]
            for step in steps if i % 2 == 0 else steps[::-1]:
                step(kind, i, True)
            noop(True)
    floor.close()
    closeloop.close()
    return {"times": times, "failures": failures, "alive": alive, "rounds": rounds, "warmup": warmup}


def in_process(tokens: list[str], base_url: str, floor_table: str) -> dict:
    """Where a submit's time goes, and the DynamoDB requests per first answer and per edit: the same calls
    in this process, DynamoDB round trips timed apart, every request counted (bench.meter); and, for
    scale, the floor's PutItem alone from this process."""
    from chalicelib.answers import survey_pages
    from chalicelib.store import raw_client

    meter = Meter()
    attach_everywhere(meter)
    client = raw_client()
    sent: list[float] = []
    wire: list[float] = []
    client.meta.events.register("before-send.dynamodb.*", lambda **_: sent.append(time.perf_counter()))
    client.meta.events.register("needs-retry.dynamodb.*", lambda **_: wire.append(time.perf_counter() - sent[-1]))
    out: dict = {kind: {"page": [], "submit": [], "wire": [], "python": []} for kind in KINDS}
    events = dict.fromkeys(KINDS, 0)
    headers = {"Origin": base_url}
    for kind in KINDS:
        for i, token in enumerate(tokens):
            score = str((first_score if kind == "first" else edit_score)(i))
            meter.phase = kind if i >= 10 else None
            started = time.perf_counter()
            page = survey_pages.show(token, {"a": score}, time.time())
            shown = time.perf_counter()
            form = {"q_nps": [score], "csrf": [bench.csrf_of(page.body)], "evidence": ["submit"]}
            before = len(wire)
            survey_pages.submit(token, form, headers, time.time())
            done = time.perf_counter()
            meter.phase = None
            if i >= 10:
                events[kind] += 1
                out[kind]["page"].append(shown - started)
                out[kind]["submit"].append(done - shown)
                out[kind]["wire"].append(sum(wire[before:]))
                out[kind]["python"].append(done - shown - sum(wire[before:]))
    out["floor_put"], out["floor_put_indexed"] = [], []
    for i in range(len(tokens)):
        for key, table in (("floor_put", floor_table), ("floor_put_indexed", f"{floor_table}-indexed")):
            started = time.perf_counter()
            client.put_item(TableName=table, Item={"id": {"S": f"direct-{i}"}, "score": {"N": "9"}})
            out[key].append(time.perf_counter() - started)
    out["requests"] = {
        kind: {
            "reads": meter.reads(kind) / events[kind],
            "writes": meter.writes(kind) / events[kind],
            "operations": meter.operations(kind),
            "answers": events[kind],
        }
        for kind in KINDS
    }
    return out


def ratios(times: dict[str, list[float]]) -> tuple[float, float]:
    """(median ratio, p99 ratio) of Closeloop's cycle to the floor's."""
    return (
        bench.median(times["answer"]) / bench.median(times["floor"]),
        bench.percentile(times["answer"], 0.99) / bench.percentile(times["floor"], 0.99),
    )


def figures(result: dict) -> dict:
    """The warm_cycle section of results.json, in milliseconds, and the requests per first answer and edit."""
    out: dict = {}
    for kind in KINDS:
        times = result["times"][kind]
        median, p99 = ratios(times)
        requests = result["in_process"]["requests"][kind]
        out[kind] = {
            "app_median_ms": results.figure(bench.median(times["answer"]) * 1000),
            "app_p99_ms": results.figure(bench.percentile(times["answer"], 0.99) * 1000),
            "floor_median_ms": results.figure(bench.median(times["floor"]) * 1000),
            "floor_p99_ms": results.figure(bench.percentile(times["floor"], 0.99) * 1000),
            "ratio_median": results.figure(median),
            "ratio_p99": results.figure(p99),
            "dynamodb_read_requests": results.figure(requests["reads"]),
            "dynamodb_write_requests": results.figure(requests["writes"]),
        }
    out["targets"] = {"ratio_median": MEDIAN_TARGET, "ratio_p99": P99_TARGET}
    out["_units"] = (
        f"milliseconds of page GET + submit POST under chalice local (as make run serves it), {result['rounds']}"
        f" interleaved rounds per kind after {result['warmup']} warm-up; floor: bench/floor_app.py (GET a small"
        " Jinja2 form, POST one PutItem); p99 is the nearest rank; requests: DynamoDB requests per answer (page +"
        " submit) counted in-process on the same code path"
    )
    return out


def report(result: dict) -> None:
    bench.title(
        f"warm answer cycle: page GET + submit POST vs the bare floor (chalice local as make run serves it, one"
        f" DynamoDB Local, {result['rounds']} interleaved rounds per kind after {result['warmup']} warm-up)"
    )
    if all(result["alive"].values()):
        print("connections: both chalice local servers keep HTTP/1.1 connections alive; one reused per server")
    else:
        print(f"connections: keep-alive {result['alive']}: a new connection per request for BOTH apps")
    if result["nodelay"]:
        print("servers: chalice local with TCP_NODELAY on accepted sockets, both (see this module's docstring)")
    else:
        print("servers: chalice local as shipped (Nagle on: expect ~41 ms stalls on many requests)")
    print(f"{'':<36}{'median':>10}{'p99':>10}")
    for kind, label in KINDS.items():
        times = result["times"][kind]
        for name, key in (
            (f"floor GET, {label}", "floor_get"),
            (f"floor POST, {label}", "floor_post"),
            (f"floor GET + POST, {label}", "floor"),
            (f"closeloop page GET, {label}", "get"),
            (f"closeloop submit POST, {label}", "post"),
            (f"closeloop page + submit, {label}", "answer"),
        ):
            values = times[key]
            print(f"{name:<36}{bench.median(values) * 1000:>8.2f}ms{bench.percentile(values, 0.99) * 1000:>8.2f}ms")
    noop = result["times"]["noop"]["floor"]
    print(
        f"{'(floor no-op route, for scale)':<36}{bench.median(noop) * 1000:>8.2f}ms"
        f"{bench.percentile(noop, 0.99) * 1000:>8.2f}ms"
    )
    parts = result["in_process"]
    print("where the time goes, the same calls in this process after the rounds (medians):")
    for kind, label in KINDS.items():
        page, submit, wire, python = (bench.median(parts[kind][k]) * 1000 for k in ("page", "submit", "wire", "python"))
        print(
            f"  {label}: page {page:.2f}ms; submit {submit:.2f}ms, of which the DynamoDB round trip {wire:.2f}ms"
            f" and Python {python:.2f}ms"
        )
    print(
        f"  (the floor's PutItem alone, from this process: {bench.median(parts['floor_put']) * 1000:.2f}ms; into a"
        f" table with the invitations table's indexes: {bench.median(parts['floor_put_indexed']) * 1000:.2f}ms,"
        " as DynamoDB Local maintains every index on every write, in line, though the item is in none of them)"
    )
    print("DynamoDB requests per answer, page + submit (counted in this process):")
    for kind, label in KINDS.items():
        requests = parts["requests"][kind]
        print(
            f"  {label:<14} {requests['reads']:.3f} reads, {requests['writes']:.3f} writes"
            f" ({requests['answers']} answers: {requests['operations']})"
        )
    one_write = parts["requests"]["edit"]["writes"] == 1
    print(f"  an edit makes one write request  {bench.verdict(one_write)}")
    for kind, label in KINDS.items():
        median, p99 = ratios(result["times"][kind])
        met = median <= MEDIAN_TARGET and p99 <= P99_TARGET
        print(
            f"ratio closeloop / floor, {label}: median {median:.2f} (target <= {MEDIAN_TARGET}), p99 {p99:.2f}"
            f" (target <= {P99_TARGET})  {bench.verdict(met)}"
        )
    print(f"check: {len(result['failures'])} failed requests")
    for failure in result["failures"][:5]:
        print(f"  failure: {failure}")
    print(f"ran in {result['seconds']:.1f}s (setup {result['setup_seconds']:.1f}s)")


def main(argv: list[str] | None = None) -> None:
    result = run(nodelay="--stock" not in (sys.argv[1:] if argv is None else argv))
    report(result)
    path = results.merge("warm_cycle", figures(result))
    print(f"wrote the warm cycle figures to {path.relative_to(bench.ROOT)}")


if __name__ == "__main__":
    main()
