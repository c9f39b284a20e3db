"""Operational commands, run as an operator would: `python -m chalicelib.cli ...`."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, read_outbox


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_create_tables_is_idempotent(env):
    first = cli("create-tables", env=env)
    second = cli("create-tables", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("created ") == 6
    assert second.returncode == 0 and "created " not in second.stdout and second.stdout.count("exists ") == 6
    from chalicelib.store.tables import delete_tables

    delete_tables()


def test_seed_demo_sends_its_invitations_once(db, outbox):
    first = cli("seed-demo", env=db)
    assert first.returncode == 0, first.stderr
    assert '"sent_now": {"sent": 4}' in first.stdout
    second = cli("seed-demo", env=db)
    assert "already exists" in second.stdout
    assert len(read_outbox(outbox)) == 4


def test_run_job_runs_one_scheduled_function_now(db):
    result = cli("run-job", "send-invitations", env=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("send_invitations: {}")
    missing = cli("run-job", "nope", env=db)
    assert missing.returncode != 0 and "there are: send_invitations" in missing.stderr


def test_mint_token_prints_a_token_the_api_accepts(db):
    result = cli("mint-token", "--name", "cx@example.com", env=db)
    token = result.stdout.strip()
    assert result.returncode == 0 and token.startswith("cl_") and len(token) > 30
    from chalicelib.auth import authenticate

    assert authenticate({"Authorization": f"Bearer {token}"}) == "cx@example.com"
