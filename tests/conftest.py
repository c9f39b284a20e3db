"""Tests run against a fresh in-memory DynamoDB Local, AWS's own engine, started once per session.

Each test that asks for `db` gets its own tables (a unique prefix), created before and
deleted after, so tests never see each other's data.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from localdev import dynamodb
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, start_app

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-signing-secret"
ADMIN_TOKEN = "test-admin-token"
_prefixes = itertools.count()


@pytest.fixture(scope="session")
def dynamodb_endpoint():
    with dynamodb.in_memory() as endpoint:
        yield endpoint


@pytest.fixture
def outbox(tmp_path) -> Path:
    return tmp_path / "outbox"


def local_settings(dynamodb_endpoint: str, outbox: Path, scratch: Path) -> dict[str, str]:
    """A local stage on the session's DynamoDB Local, with tables under a prefix of its own."""
    return {
        **dynamodb.CREDENTIALS,
        "CLOSELOOP_STAGE": "local",
        "CLOSELOOP_DYNAMODB_ENDPOINT": dynamodb_endpoint,
        "CLOSELOOP_TABLE_PREFIX": f"t{next(_prefixes)}-{int(time.time() * 1000) % 100000}-",
        "CLOSELOOP_SIGNING_SECRETS": SECRET,
        "CLOSELOOP_ADMIN_TOKEN": ADMIN_TOKEN,
        "CLOSELOOP_OUTBOX_DIR": str(outbox),
        "CLOSELOOP_MAIL_BACKEND": "file",
        "CLOSELOOP_QUEUE_BACKEND": "local",
        "CLOSELOOP_QUEUE_DIR": str(scratch / "queue"),
        "CLOSELOOP_SEND_RATE": "0",
        "CLOSELOOP_BASE_URL": "http://127.0.0.1:8000",
    }


@pytest.fixture
def env(monkeypatch, dynamodb_endpoint, outbox, tmp_path):
    """The settings of a local stage pointing at the session's DynamoDB Local."""
    values = local_settings(dynamodb_endpoint, outbox, tmp_path)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def db(env):
    from chalicelib.store.tables import create_tables, delete_tables

    create_tables()
    yield env
    delete_tables()


@pytest.fixture
def app_url(db, monkeypatch, tmp_path) -> Iterator[str]:
    """`chalice local` serving this test's tables (browser tests); the test process builds links to it too."""
    process, base = start_app(db, tmp_path / "chalice.log")
    monkeypatch.setenv("CLOSELOOP_BASE_URL", base)
    try:
        yield base
    finally:
        dynamodb.stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, shared by the tests of a module (each opens its own context)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def client(db):
    from chalice.test import Client

    from app import app
    from tests import openapi_check

    with Client(app, stage_name="local", project_dir=str(ROOT)) as test_client:
        test_client.http.request = _checked(test_client.http.request, openapi_check.check)
        yield test_client


def _checked(request, check):
    """The test client's request, with every admin API answer checked against the OpenAPI document."""

    def checked_request(method, path, headers=None, body=b""):
        response = request(method, path, headers=headers, body=body)
        check(method, path, response.status_code, response.headers, response.body)
        return response

    return checked_request


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}


def read_outbox(outbox: Path) -> list[EmailMessage]:
    if not outbox.is_dir():
        return []
    return [BytesParser(policy=policy.default).parse(p.open("rb")) for p in sorted(outbox.glob("*.eml"))]


def html_links(message: EmailMessage) -> list[str]:
    return re.findall(r'href="([^"]+)"', message.get_body(("html",)).get_content())


def local_path(url: str) -> str:
    return url.replace("http://127.0.0.1:8000", "")


pytest_plugins = ["tests.permission_proof"]  # records each function's AWS calls; checks infra/permissions.py
