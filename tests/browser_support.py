"""The real app under `chalice local` and Debian's Chromium, for tests/test_browser.py.

Nothing here downloads anything: Chromium is the system package at /usr/bin/chromium, and
the app runs from this checkout's virtualenv against the test session's DynamoDB Local.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

from localdev import dynamodb

ROOT = Path(__file__).resolve().parent.parent
CHALICE = ROOT / ".venv" / "bin" / "chalice"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-features=AutofillServerCommunication",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY_TIMEOUT = 60.0


def start_app(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """`chalice local` on a free port with `env` on top of ours; returns the process and its base URL.

    CLOSELOOP_BASE_URL is set to the server's own address, since every link and form action
    is built from it. The process leads its own group, so `localdev.dynamodb.stop` ends it whole.
    """
    port = dynamodb.free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(CHALICE), "local", "--stage", "local", "--port", str(port), "--no-autoreload"],
            cwd=ROOT,
            env={**os.environ, **env, "CLOSELOOP_BASE_URL": base},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_http(f"{base}/dev/outbox", process, log)
    except BaseException:
        dynamodb.stop(process)
        raise
    return process, base


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = READY_TIMEOUT) -> None:
    """Poll `url` until it answers 200; between tries, wait on the process so that its exit ends the wait."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {timeout:.0f}s; server log:\n{_tail(log)}")
        try:
            code = process.wait(0.1)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"chalice local exited with code {code} before it answered; server log:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
