"""`make run`: the whole product on this machine, stopped with Ctrl-C.

DynamoDB Local (data kept in .local/dynamodb), the tables, a seeded demo campaign whose
invitations land in .local/outbox, `chalice local` on :8000, and the scheduled functions on
their own clocks (Chalice's local server does not run them).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localdev import dynamodb

SECRETS = dynamodb.LOCAL / "secrets.env"
API_PORT = 8000
LOCAL_ADMIN = "cx@closeloop-demo.example"


def local_env() -> dict[str, str]:
    """Settings for every local process; generated secrets persist so links keep working."""
    saved = {}
    if SECRETS.exists():
        saved = dict(line.split("=", 1) for line in SECRETS.read_text().splitlines() if "=" in line)
    generated = {
        "CLOSELOOP_SIGNING_SECRETS": saved.get("CLOSELOOP_SIGNING_SECRETS") or secrets.token_urlsafe(32),
        "CLOSELOOP_ADMIN_TOKEN": saved.get("CLOSELOOP_ADMIN_TOKEN") or f"cl_{secrets.token_urlsafe(24)}",
    }
    if generated != saved:
        dynamodb.LOCAL.mkdir(exist_ok=True)
        SECRETS.write_text("".join(f"{k}={v}\n" for k, v in generated.items()))
        SECRETS.chmod(0o600)
    port = os.environ.get("CLOSELOOP_LOCAL_DYNAMODB_PORT", "8001")
    env = {
        **generated,
        "CLOSELOOP_STAGE": "local",
        "CLOSELOOP_MAIL_BACKEND": "file",
        "CLOSELOOP_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port}",
        "CLOSELOOP_TABLE_PREFIX": "closeloop-local-",
        "CLOSELOOP_OUTBOX_DIR": str(dynamodb.LOCAL / "outbox"),
        "CLOSELOOP_QUEUE_DIR": str(dynamodb.LOCAL / "queue"),
        "CLOSELOOP_ACK_DELAY": "120",  # see the acknowledgement arrive while you watch (30 minutes on AWS)
        "CLOSELOOP_BASE_URL": f"http://127.0.0.1:{API_PORT}",
        **dynamodb.CREDENTIALS,
    }
    # What the developer exported wins, except credentials, which must be DynamoDB Local's.
    for key in list(env):
        if key.startswith("CLOSELOOP_") and os.environ.get(key):
            env[key] = os.environ[key]
    return env


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise SystemExit(f"chalice local exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own loopback server
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer within {timeout:.0f}s") from None
            time.sleep(0.2)


def banner(env: dict[str, str], demo: dict | None) -> str:
    base = env["CLOSELOOP_BASE_URL"]
    seeded = "seeded and sent" if demo else "already there"
    return f"""
Closeloop is running.

  Outbox (open this):  {base}/dev/outbox        demo campaign {seeded}
  Dashboard:           {base}/dashboard/sign-in  sign in as {LOCAL_ADMIN}; the link lands in the outbox
  Preview:             {base}/dev/preview       every email and page as a customer in each language gets it
  API:                 {base}/api/campaigns
  Admin token:         {env["CLOSELOOP_ADMIN_TOKEN"]}
  DynamoDB Local:      {env["CLOSELOOP_DYNAMODB_ENDPOINT"]}  (data in .local/dynamodb)

  Try:  curl -H "Authorization: Bearer {env["CLOSELOOP_ADMIN_TOKEN"]}" {base}/api/campaigns/demo

Answer a survey, and its acknowledgement lands in the outbox about {int(env["CLOSELOOP_ACK_DELAY"]) // 60} minutes
after your last edit (CLOSELOOP_ACK_DELAY; 30 minutes on AWS).

Scheduled functions run below on their own clocks. Ctrl-C stops everything.
"""


def ensure_local_admin(now: float) -> None:
    """The dashboard's local admin, so `make run` can be signed in to at once."""
    from chalicelib.dashboard import people

    if people.get_person(LOCAL_ADMIN) is None:
        people.add_person(LOCAL_ADMIN, "CX lead", "admin", now)


# Work messages handled per round, at most, before the scheduled jobs that are due run: a 40,000-row import
# (80 chunks of a few seconds each) must not hold back dispatch, counts and acknowledgements for minutes.
WORK_BUDGET_SECONDS = 3.0


def scheduler(stop_at: float | None = None) -> None:
    """Run each scheduled function every interval and drain the work queue through its real handler."""
    import importlib

    from chalicelib.queue import get_queue
    from chalicelib.runtime.jobs import scheduled_jobs

    app_module = importlib.import_module("app")
    jobs = scheduled_jobs(app_module)
    queue = get_queue()
    next_run = {name: time.monotonic() + 2 for name in jobs}
    print(f"scheduler: {', '.join(f'{j.name} every {j.every_seconds}s' for j in jobs.values())}", flush=True)
    print("work queue: .local/queue, drained by the work_queue handler", flush=True)
    while stop_at is None or time.monotonic() < stop_at:
        busy = tick(queue, app_module.work_queue, jobs, next_run)
        if not busy:
            time.sleep(max(0.2, min(0.5, min(next_run.values()) - time.monotonic())))


def tick(
    queue: Any,
    handler: Callable[[dict, Any], Any],
    jobs: dict[str, Any],
    next_run: dict[str, float],
    clock: Callable[[], float] = time.monotonic,
    budget: float = WORK_BUDGET_SECONDS,
) -> bool:
    """One round: work messages for up to `budget` seconds (one at a time, as deployed), then every job
    whose time has come (`next_run`: clock time of each job's next run, updated). True when the budget ran
    out with messages perhaps still waiting, so the next round starts at once."""
    handled, deadline, busy = 0, clock() + budget, False
    while True:
        if clock() >= deadline:
            busy = True
            break
        if not queue.drain(handler, max_rounds=1):
            break
        handled += 1
    if handled:
        print(f"{time.strftime('%H:%M:%S')} work_queue: {handled} message(s)", flush=True)
    now = clock()
    for name, job in jobs.items():
        if now >= next_run[name]:
            next_run[name] = now + job.every_seconds
            try:
                result = job.run()
                print(f"{time.strftime('%H:%M:%S')} {name}: {result}", flush=True)
            except Exception as exc:  # a failing job must not stop the others
                print(f"{time.strftime('%H:%M:%S')} {name} FAILED: {exc!r}", file=sys.stderr, flush=True)
    return busy


def main() -> None:
    env = local_env()
    os.environ.update(env)
    from chalicelib.core.config import settings_problem

    problem = settings_problem()
    if problem:
        raise SystemExit(f"a setting cannot be used: {problem}")
    if dynamodb.port_in_use(API_PORT):
        raise SystemExit(f"port {API_PORT} is already in use: is another `make run` still running?")
    port = int(env["CLOSELOOP_DYNAMODB_ENDPOINT"].rsplit(":", 1)[1])
    children: list[subprocess.Popen] = []

    def shutdown(*_args: object) -> None:
        for child in reversed(children):
            dynamodb.stop(child)
        print("\nstopped DynamoDB Local and chalice local", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    try:
        ddb = dynamodb.start(port, dynamodb.LOCAL / "dynamodb", log=dynamodb.LOCAL / "dynamodb.log")
        children.append(ddb)
        dynamodb.wait_ready(port, ddb)
        from chalicelib.runtime.demo import seed
        from chalicelib.store.tables import create_tables

        create_tables(lambda line: print(f"tables: {line}", flush=True))
        demo = seed(time.time())
        ensure_local_admin(time.time())
        api = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve().parent / "serve.py"),  # chalice local, without Nagle's 40 ms
                "local",
                "--stage",
                "local",
                "--port",
                str(API_PORT),
                "--no-autoreload",
            ],
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, **env},
            start_new_session=True,
        )
        children.append(api)
        wait_http(f"http://127.0.0.1:{API_PORT}/dev/outbox", api)
        print(banner(env, demo), flush=True)
        scheduler()
    except KeyboardInterrupt:
        shutdown()
    finally:
        for child in reversed(children):
            dynamodb.stop(child)
