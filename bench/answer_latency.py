"""A customer's answer (page + submit) against a bare Chalice handler doing one PutItem, side by side.

Target: a customer's answer (page + submit) takes at most twice a bare Chalice handler doing
one PutItem on the same DynamoDB Local, measured side by side in one run.

Both apps run under `chalice local --no-autoreload` on free ports, talking to one in-memory
DynamoDB Local: the bare one from a scratch project with a single PutItem route, Closeloop
from this project with `--stage local`. One keep-alive connection per server is reused
(checked first: when a server closes connections, both get a new connection per request).
After a warm-up, rounds alternate a bare request with a Closeloop page GET + submit POST,
each answer on a different invitation (a first answer).

Python's http.server, under chalice local, writes a response's headers and its body in two
sends; on a keep-alive connection, Nagle's algorithm holds the body back until the client's
delayed ACK (40 ms on Linux): every survey page and about half of the bare requests took ~41 ms more.
That is an artifact of the local server (API Gateway in front of Lambda has no such thing),
so both servers run with TCP_NODELAY on accepted sockets (the request handler's own
`disable_nagle_algorithm` switch). `python -m bench.answer_latency --stock` runs them as shipped.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import bench
from localdev import dynamodb

ROUNDS = 300
WARMUP = 30
IN_PROCESS = 100
TARGET = 2.0
BARE_APP = """\
import os
import time
import uuid

import boto3
from chalice import Chalice

app = Chalice(app_name="bare")
TABLE = os.environ["BARE_TABLE"]
client = boto3.client(
    "dynamodb", endpoint_url=os.environ["BARE_ENDPOINT"], region_name=os.environ["AWS_DEFAULT_REGION"]
)


@app.route("/")
def index():
    return {"ok": True}


@app.route("/put")
def put():
    client.put_item(TableName=TABLE, Item={"id": {"S": uuid.uuid4().hex}, "at": {"N": repr(time.time())}})
    return {"ok": True}
"""
BARE_CONFIG = {"version": "2.0", "app_name": "bare", "stages": {"dev": {"api_gateway_stage": "api"}}}
# `chalice local`, with TCP_NODELAY set on every accepted connection.
NODELAY_CHALICE = (
    "import sys; from chalice import local; local.ChaliceRequestHandler.disable_nagle_algorithm = True; "
    "from chalice.cli import main; sys.argv[0] = 'chalice'; sys.exit(main())"
)
CHECKED = re.compile(r'<input type="radio" name="q_nps" value="9" checked')


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
    chalice = [str(bench.VENV_BIN / "python"), "-c", NODELAY_CHALICE] if nodelay else [str(bench.VENV_BIN / "chalice")]
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


def bare_project(root: Path) -> Path:
    project = root / "bare"
    (project / ".chalice").mkdir(parents=True)
    (project / "app.py").write_text(BARE_APP)
    (project / ".chalice" / "config.json").write_text(json.dumps(BARE_CONFIG, indent=2))
    return project


def create_bare_table(endpoint: str, name: str) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=dynamodb.CREDENTIALS["AWS_DEFAULT_REGION"])
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def run(rounds: int = ROUNDS, warmup: int = WARMUP, nodelay: bool = True) -> dict:
    started = time.perf_counter()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOSELOOP_", "PYTHON", "AWS_"))}
    with tempfile.TemporaryDirectory(prefix="closeloop-latency-") as scratch, bench.dynamodb_local() as endpoint:
        root = Path(scratch)
        closeloop_port, bare_port = dynamodb.free_port(), dynamodb.free_port()
        base_url = f"http://127.0.0.1:{closeloop_port}"
        with bench.closeloop_tables(endpoint, base_url) as env:
            launched = bench.launch(rounds + warmup + IN_PROCESS)
            table = f"{env['CLOSELOOP_TABLE_PREFIX']}bare"
            create_bare_table(endpoint, table)
            setup_seconds = time.perf_counter() - started
            bare_env = {**base_env, **dynamodb.CREDENTIALS, "BARE_TABLE": table, "BARE_ENDPOINT": endpoint}
            closeloop_env = {**base_env, **env}
            servers = []
            try:
                servers.append(serve([], bare_project(root), bare_env, bare_port, root / "bare.log", nodelay))
                servers.append(
                    serve(
                        ["--stage", "local"], bench.ROOT, closeloop_env, closeloop_port, root / "closeloop.log", nodelay
                    )
                )
                result = measure(Client(bare_port), Client(closeloop_port), launched.tokens, base_url, rounds, warmup)
            finally:
                for server in servers:
                    dynamodb.stop(server)
            result["direct"] = direct_dynamodb(endpoint, table)
            result["in_process"] = in_process(launched.tokens[rounds + warmup :])
    result["nodelay"] = nodelay
    result["setup_seconds"] = setup_seconds
    result["seconds"] = time.perf_counter() - started
    return result


def measure(bare: Client, closeloop: Client, tokens: list[str], base_url: str, rounds: int, warmup: int) -> dict:
    alive = {"bare": bare.keeps_alive("/"), "closeloop": closeloop.keeps_alive("/dev/outbox")}
    if not all(alive.values()):
        bare.reuse = closeloop.reuse = False
    times: dict[str, list[float]] = {"bare": [], "noop": [], "get": [], "post": [], "answer": []}
    failures: list[str] = []
    form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": base_url}

    def bare_cycle(record: bool) -> None:
        status, body, seconds = bare.request("GET", "/put")
        if status != 200:
            failures.append(f"bare {status} {body[:200]}")
        if record:
            times["bare"].append(seconds)

    def noop(record: bool) -> None:
        status, body, seconds = bare.request("GET", "/")
        if status != 200:
            failures.append(f"bare no-op {status} {body[:200]}")
        if record:
            times["noop"].append(seconds)

    def answer(token: str, record: bool) -> None:
        status, page, get_seconds = closeloop.request("GET", f"/s/{token}?a=9")
        if status != 200 or not CHECKED.search(page):
            failures.append(f"GET {status} {page[:200]}")
            return
        form = urlencode({"q_nps": "9", "csrf": bench.csrf_of(page), "evidence": "submit"})
        status, thanks, post_seconds = closeloop.request("POST", f"/s/{token}", form, form_headers)
        if status != 200 or "Thank you!" not in thanks:
            failures.append(f"POST {status} {thanks[:200]}")
        if record:
            times["get"].append(get_seconds)
            times["post"].append(post_seconds)
            times["answer"].append(get_seconds + post_seconds)

    pending = iter(tokens)
    for _ in range(warmup):
        bare_cycle(False)
        noop(False)
        answer(next(pending), False)
    steps: list[Callable[[], None]] = [lambda: bare_cycle(True), lambda: answer(next(pending), True)]
    for i in range(rounds):
        for step in steps if i % 2 == 0 else steps[::-1]:
            step()
        noop(True)
    bare.close()
    closeloop.close()
    return {"times": times, "failures": failures, "alive": alive, "rounds": rounds, "warmup": warmup}


def in_process(tokens: list[str]) -> dict[str, list[float]]:
    """Where a submit's time goes: the same calls in this process, DynamoDB round trips timed apart."""
    from chalicelib.answers import survey_pages
    from chalicelib.store import raw_client

    client = raw_client()
    sent: list[float] = []
    wire: list[float] = []
    client.meta.events.register("before-send.dynamodb.*", lambda **_: sent.append(time.perf_counter()))
    client.meta.events.register("needs-retry.dynamodb.*", lambda **_: wire.append(time.perf_counter() - sent[-1]))
    out: dict[str, list[float]] = {"page": [], "submit": [], "wire": [], "python": []}
    for i, token in enumerate(tokens):
        started = time.perf_counter()
        page = survey_pages.show(token, {"a": "9"}, time.time())
        shown = time.perf_counter()
        form = {"q_nps": ["9"], "csrf": [bench.csrf_of(page.body)], "evidence": ["submit"]}
        before = len(wire)
        survey_pages.submit(token, form, {}, time.time())
        done = time.perf_counter()
        if i >= 10:
            out["page"].append(shown - started)
            out["submit"].append(done - shown)
            out["wire"].append(sum(wire[before:]))
            out["python"].append(done - shown - sum(wire[before:]))
    return out


def direct_dynamodb(endpoint: str, table: str, count: int = 200) -> dict[str, list[float]]:
    """For scale: DynamoDB Local alone, from this process: one PutItem, and a 4-item transaction."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=dynamodb.CREDENTIALS["AWS_DEFAULT_REGION"])
    out: dict[str, list[float]] = {"PutItem": [], "TransactWriteItems (4 items)": []}
    for i in range(count + 20):
        started = time.perf_counter()
        client.put_item(TableName=table, Item={"id": {"S": f"direct-{i}"}})
        put = time.perf_counter() - started
        started = time.perf_counter()
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"id": {"S": f"tx-{i}-{k}"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
                for k in range(4)
            ]
        )
        transact = time.perf_counter() - started
        if i >= 20:
            out["PutItem"].append(put)
            out["TransactWriteItems (4 items)"].append(transact)
    return out


def report(result: dict) -> None:
    times = result["times"]
    bench.title(
        f"answer latency: page + submit vs a bare Chalice PutItem handler "
        f"(chalice local, one DynamoDB Local, {result['rounds']} interleaved rounds after {result['warmup']} warm-up)"
    )
    if all(result["alive"].values()):
        print("connections: both chalice local servers keep HTTP/1.1 connections alive; one reused per server")
    else:
        print(f"connections: keep-alive {result['alive']}: a new connection per request for BOTH apps")
    if result["nodelay"]:
        print("servers: chalice local with TCP_NODELAY on accepted sockets, both (see this module's docstring)")
    else:
        print("servers: chalice local as shipped (Nagle on: expect ~41 ms stalls on many requests)")
    rows = [
        ("bare PutItem cycle", "bare"),
        ("closeloop page GET", "get"),
        ("closeloop submit POST", "post"),
        ("closeloop page + submit", "answer"),
        ("(bare no-op route, for scale)", "noop"),
    ]
    print(f"{'':<32}{'median':>10}{'p90':>10}")
    for label, key in rows:
        values = times[key]
        print(f"{label:<32}{bench.median(values) * 1000:>8.2f}ms{bench.percentile(values, 0.9) * 1000:>8.2f}ms")
    for label, values in result["direct"].items():
        print(
            f"{'(DynamoDB Local alone: ' + label + ')':<32}"
            f"{bench.median(values) * 1000:>8.2f}ms{bench.percentile(values, 0.9) * 1000:>8.2f}ms"
        )
    parts = result["in_process"]
    print(
        "where the time goes, the same calls in this process after the rounds (medians, {} answers):\n"
        "  page {:.2f}ms; submit {:.2f}ms, of which the DynamoDB round trip {:.2f}ms and Python {:.2f}ms".format(
            len(parts["page"]), *(bench.median(parts[k]) * 1000 for k in ("page", "submit", "wire", "python"))
        )
    )
    ratio = bench.median(times["answer"]) / bench.median(times["bare"])
    ratio90 = bench.percentile(times["answer"], 0.9) / bench.percentile(times["bare"], 0.9)
    print(
        f"ratio (page + submit) / bare: median {ratio:.2f}, p90 {ratio90:.2f}; "
        f"target <= {TARGET:.1f} (on medians)  {bench.verdict(ratio <= TARGET)}"
    )
    print(f"check: {len(result['failures'])} failed requests")
    for failure in result["failures"][:5]:
        print(f"  failure: {failure}")
    print(f"ran in {result['seconds']:.1f}s (setup {result['setup_seconds']:.1f}s)")


def main(argv: list[str] | None = None) -> None:
    report(run(nodelay="--stock" not in (sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
