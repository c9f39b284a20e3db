"""A mistyped numeric setting stops the function with a message naming the variable, never a silent default."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chalicelib.core.config import get_settings
from chalicelib.core.errors import ConfigError
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("ACK_DELAY", "half an hour", "CLOSELOOP_ACK_DELAY must be a whole number, got 'half an hour'"),
        ("ACK_DELAY", "1.5", "CLOSELOOP_ACK_DELAY must be a whole number, got '1.5'"),
        ("FATIGUE_DAYS", "-1", "CLOSELOOP_FATIGUE_DAYS must not be negative, got -1"),
        ("SEND_RATE", "fast", "CLOSELOOP_SEND_RATE must be a number, got 'fast'"),
        ("SEND_RATE", "-0.5", "CLOSELOOP_SEND_RATE must not be negative, got -0.5"),
    ],
)
def test_a_bad_number_is_named_in_the_error(monkeypatch, name, raw, message):
    monkeypatch.setenv(f"CLOSELOOP_{name}", raw)
    with pytest.raises(ConfigError) as error:
        get_settings()
    assert str(error.value) == message


def test_numbers_are_read_and_blank_means_the_default(monkeypatch):
    monkeypatch.setenv("CLOSELOOP_ACK_DELAY", " 60 ")
    monkeypatch.setenv("CLOSELOOP_SEND_RATE", "2.5")
    monkeypatch.setenv("CLOSELOOP_FATIGUE_DAYS", "")
    settings = get_settings()
    assert (settings.ack_delay, settings.send_rate, settings.fatigue_days) == (60, 2.5, 30)


def test_a_changed_variable_takes_effect_on_the_next_call(monkeypatch):
    """Settings are built once per set of values, never kept past a change (tests and `make run` change them)."""
    monkeypatch.setenv("CLOSELOOP_SCANNER_DELIVERY_WINDOW", "10")
    monkeypatch.setenv("CLOSELOOP_BASE_URL", "https://feedback.example.com/")
    assert (get_settings().scanner_delivery_window, get_settings().base_url) == (10, "https://feedback.example.com")
    monkeypatch.setenv("CLOSELOOP_SCANNER_DELIVERY_WINDOW", "25")
    monkeypatch.delenv("CLOSELOOP_BASE_URL")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.delenv("CLOSELOOP_REGION", raising=False)
    settings = get_settings()
    assert (settings.scanner_delivery_window, settings.base_url, settings.region) == (
        25,
        "http://127.0.0.1:8000",
        "eu-west-3",
    )


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("CLOSELOOP_V1_RATE_LIMIT", "abc", "CLOSELOOP_V1_RATE_LIMIT must be a whole number, got 'abc'"),
        ("CLOSELOOP_TABLE_PREFIX", "bad prefix!", "CLOSELOOP_TABLE_PREFIX “bad prefix!” cannot begin a DynamoDB"),
        ("CLOSELOOP_DYNAMODB_ENDPOINT", "127.0.0.1:8001", "CLOSELOOP_DYNAMODB_ENDPOINT “127.0.0.1:8001” is not an"),
        ("CLOSELOOP_DYNAMODB_ENDPOINT", "http://127.0.0.1:99999", "is not an http(s) URL with a host and a port"),
        ("CLOSELOOP_REGION", "not a region!", "The AWS region “not a region!” (CLOSELOOP_REGION or AWS_REGION)"),
    ],
)
def test_make_run_and_every_command_name_a_setting_they_cannot_use_before_starting(name, raw, message):
    """Said once at start, not by a 500 on every request or a botocore traceback."""
    env = {**os.environ, name: raw}
    run = subprocess.run(
        [sys.executable, "-m", "localdev", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("a setting cannot be used: ") and message in run.stderr, run.stderr
    command = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "mint-token", "--name", "ops"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if name != "CLOSELOOP_V1_RATE_LIMIT":  # the commands call no v1 route
        assert command.returncode == 1 and command.stderr.startswith("Error: ") and message in command.stderr
