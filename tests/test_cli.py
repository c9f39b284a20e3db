"""Operational commands, run as an operator would: `python -m chalicelib.cli ...`."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading

from chalicelib.store.models import MODELS
from localdev import dynamodb
from tests.conftest import ROOT, read_outbox
from tests.dashboard_support import session_headers
from tests.helpers import cli, drain


def test_create_tables_is_idempotent(env):
    first = cli("create-tables", env=env)
    second = cli("create-tables", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("created ") == len(MODELS)
    assert second.returncode == 0 and "created " not in second.stdout and second.stdout.count("exists ") == len(MODELS)
    from chalicelib.store.tables import delete_tables

    delete_tables()


def test_seed_demo_sends_its_invitations_once(db, outbox):
    first = cli("seed-demo", env=db)
    assert first.returncode == 0, first.stderr
    assert '"invited": 4' in first.stdout and '"campaign_status": "sending"' in first.stdout
    second = cli("seed-demo", env=db)
    assert "already exists" in second.stdout
    drain()
    assert len(read_outbox(outbox)) == 4


def test_run_job_runs_one_scheduled_function_now(db):
    result = cli("run-job", "dispatch-due", env=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('dispatch_due: {"campaigns_started": 0, "send": 0, "remind": 0, "redeliveries": 0}')
    missing = cli("run-job", "nope", env=db)
    assert (
        missing.returncode != 0
        and "there are: acknowledge, apply_counts, apply_retention, dispatch_due, send_digests" in missing.stderr
    )


def test_mint_token_prints_a_token_the_api_accepts(db):
    result = cli("mint-token", "--name", "cx@example.com", env=db)
    token = result.stdout.strip()
    assert result.returncode == 0 and token.startswith("cl_") and len(token) > 30
    from chalicelib.admin.auth import authenticate

    assert authenticate({"Authorization": f"Bearer {token}"}).name == "cx@example.com"


def test_a_token_minted_on_the_command_line_is_listed_by_its_prefix(db, client):
    """The dashboard tells tokens apart by their first characters, those made by the CLI too."""
    result = cli("mint-token", "--name", "CRM sync", env=db)
    token = result.stdout.strip()
    assert result.stderr.strip() == f"listed as {token[:7]}… on the dashboard's API tokens page"
    listing = client.http.get("/dashboard/tokens", headers=session_headers("viewer")).body.decode()
    row = listing.split('<td><span class="long">CRM sync</span></td>')[1].split("</tr>")[0]
    assert f"<code>{token[:7]}…</code>" in row and "the command line" in row


def test_add_user_lets_the_first_admin_sign_in_and_refuses_a_second_entry(db):
    from chalicelib.dashboard.people import get_person

    result = cli("add-user", "--email", "CX@Example.com", "--role", "admin", "--name", "Cleo", env=db)
    assert result.returncode == 0, result.stderr
    assert "cx@example.com may sign in as admin: http://127.0.0.1:8000/dashboard/sign-in" in result.stdout
    assert get_person("cx@example.com").name == "Cleo" and get_person("cx@example.com").is_admin
    again = cli("add-user", "--email", "cx@example.com", "--role", "viewer", env=db)
    assert again.returncode != 0 and "cx@example.com can already sign in." in again.stderr
    assert get_person("cx@example.com").is_admin
    wrong = cli("add-user", "--email", "not an address", "--role", "admin", env=db)
    assert wrong.returncode != 0 and "is not a valid email address" in wrong.stderr


def test_a_refused_command_says_why_in_one_line_never_a_traceback(db, tmp_path):
    """An unknown campaign, a place that cannot be written, no AWS credentials: a message, a non-zero exit."""
    for args in (
        ("digest-preview", "--campaign", "nope"),
        ("rebuild-counters", "--campaign", "nope"),
        ("preview", "--campaign", "nope", "--locale", "fr", "--out", str(tmp_path / "out")),
    ):
        result = cli(*args, env=db)
        assert result.returncode in (1, 2) and "Traceback" not in result.stderr, (args, result.stderr)
        assert "Error: " in result.stderr and "nope" in result.stderr, (args, result.stderr)
    for args, said in (
        (("mint-token", "--name", " "), "Invalid value for --name: give who it is for in 1 to 120 characters"),
        (("mint-api-key", "--name", "x" * 121, "--campaign", "c1"), "Invalid value for --name"),
        (("rebuild-counters", "--campaign", ""), "Invalid value for --campaign: is empty"),
        (("backfill-contact-list", "--after", "not an email"), "“not an email” is not a valid email address."),
    ):
        result = cli(*args, env=db)
        assert result.returncode in (1, 2) and "Traceback" not in result.stderr, (args, result.stderr)
        assert f"Error: {said}" in result.stderr, (args, result.stderr)
    unwritable = tmp_path / "file"
    unwritable.write_text("not a folder")
    demo = cli("seed-demo", "--no-send", env=db).stdout
    campaign_id = demo.split('"campaign_id": "')[1].split('"')[0]
    blocked = cli("preview", "--campaign", campaign_id, "--locale", "fr", "--out", str(unwritable / "out"), env=db)
    assert blocked.returncode == 1 and "Traceback" not in blocked.stderr and "Error: " in blocked.stderr
    bare = {k: v for k, v in {**os.environ, **db}.items() if not k.startswith("AWS_")}
    bare["AWS_SHARED_CREDENTIALS_FILE"] = bare["AWS_CONFIG_FILE"] = str(tmp_path / "none")
    command = [sys.executable, "-m", "chalicelib.cli", "digest-preview", "--campaign", "nope"]
    unsigned = subprocess.run(command, cwd=ROOT, env=bare, capture_output=True, text=True, timeout=120)
    assert unsigned.returncode == 1 and "No AWS credentials" in unsigned.stderr, unsigned.stderr


def test_dynamodb_out_of_reach_is_one_line_naming_the_endpoint_never_a_traceback(env):
    """A closed port: each command fails after botocore's retries (a few seconds) with the endpoint and why."""
    closed = {**env, "CLOSELOOP_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{dynamodb.free_port()}"}
    for args in (
        ("mint-token", "--name", "cx@example.com"),  # a PutItem
        ("rebuild-counters",),  # a Query
        ("add-user", "--email", "cx@example.com", "--role", "admin"),  # a PutItem through the raw client (unwrapped)
        ("digest-preview", "--campaign", "c1"),  # a GetItem
    ):
        result = cli(*args, env=closed)
        assert result.returncode == 1 and "Traceback" not in result.stderr, (args, result.stderr)
        endpoint = closed["CLOSELOOP_DYNAMODB_ENDPOINT"]
        assert result.stderr == f"Error: cannot reach DynamoDB at {endpoint}: Connection refused\n", args


def test_tables_not_created_is_one_line_saying_how_to_create_them(env):
    """DynamoDB is there, the tables of this prefix are not: PynamoDB's and the raw client's refusals alike."""
    elsewhere = {**env, "CLOSELOOP_TABLE_PREFIX": "elsewhere-"}
    commands = (("mint-token", "--name", "cx@example.com"), ("add-user", "--email", "a@example.com", "--role", "admin"))
    for args in commands:
        result = cli(*args, env=elsewhere)
        assert result.returncode == 1 and "Traceback" not in result.stderr, (args, result.stderr)
        assert result.stderr == (
            f"Error: a table of the prefix “elsewhere-” does not exist at {env['CLOSELOOP_DYNAMODB_ENDPOINT']}: "
            "create them with `python -m chalicelib.cli create-tables` (make run does), or set "
            "CLOSELOOP_TABLE_PREFIX to theirs\n"
        ), args


def test_another_server_at_the_dynamodb_endpoint_is_one_line_naming_it(env):
    """A port where something else answers HTTP (here Python's own server, 501 to every POST)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        result = cli("mint-token", "--name", "cx@example.com", env={**env, "CLOSELOOP_DYNAMODB_ENDPOINT": endpoint})
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    said = f"Error: cannot reach DynamoDB at {endpoint}: it answered HTTP 501, as DynamoDB never does\n"
    assert result.stderr == said
