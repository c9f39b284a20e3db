"""Secrets from SSM Parameter Store (moto's SSM: there is no local engine for it)."""

from __future__ import annotations

import itertools

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from chalicelib.admin.auth import authenticate
from chalicelib.core import secrets
from chalicelib.core.config import get_settings, token_hash
from chalicelib.core.errors import ConfigError
from chalicelib.core.signing import InvitationRef, invitation_token, read_invitation_token

_prefixes = itertools.count()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(secrets, "_clock", fake)
    return fake


@pytest.fixture
def ssm(monkeypatch):
    """A stage deployed on AWS: secrets only in SSM, under a prefix no other test uses."""
    prefix = f"/closeloop/test{next(_prefixes)}/"
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CLOSELOOP_STAGE": "dev",
        "CLOSELOOP_SSM_PREFIX": prefix,
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("CLOSELOOP_SIGNING_SECRETS", "CLOSELOOP_ADMIN_TOKEN_HASHES", "CLOSELOOP_ADMIN_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        client = boto3.client("ssm", region_name="us-east-1")

        def put(name: str, value: str) -> None:
            client.put_parameter(Name=prefix + name, Value=value, Type="SecureString", Overwrite=True)

        put("signing-secrets", "new-key,old-key")
        put("admin-token-hashes", "-")
        yield put


def test_a_deployed_stage_signs_with_the_first_ssm_secret_and_verifies_with_all(ssm, clock):
    settings = get_settings()
    assert settings.signing_secrets == ("new-key", "old-key")
    assert settings.admin_token_hashes == frozenset()
    ref = InvitationRef("c1", "i1", 2_000_000_000)
    old_link = invitation_token(ref, ("old-key",))
    assert read_invitation_token(old_link, settings.require_signing_secrets(), 1_000) == ref
    assert invitation_token(ref, settings.signing_secrets) == invitation_token(ref, ("new-key",))


def test_an_admin_token_whose_hash_is_in_ssm_is_accepted(ssm, clock):
    ssm("admin-token-hashes", f"{token_hash('ops-token')},{token_hash('ci-token')}")
    assert authenticate({"Authorization": "Bearer ci-token"}).name == "configured token"


def test_environment_variables_win_over_ssm(ssm, clock, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_SIGNING_SECRETS", "from-env")
    assert get_settings().signing_secrets == ("from-env",)


def test_a_rotated_key_reaches_a_warm_function_within_the_cache_period(ssm, clock):
    assert get_settings().signing_secrets == ("new-key", "old-key")
    ssm("signing-secrets", "newest-key,new-key,old-key")
    clock.now += secrets.CACHE_SECONDS - 1
    assert get_settings().signing_secrets == ("new-key", "old-key")
    clock.now += 1
    assert get_settings().signing_secrets == ("newest-key", "new-key", "old-key")


def test_links_keep_working_while_ssm_is_unreachable(ssm, clock, monkeypatch):
    assert get_settings().signing_secrets == ("new-key", "old-key")

    def unreachable(prefix: str, region: str) -> secrets.Stored:
        raise EndpointConnectionError(endpoint_url="https://ssm.us-east-1.amazonaws.com")

    monkeypatch.setattr(secrets, "_fetch", unreachable)
    clock.now += secrets.CACHE_SECONDS
    assert get_settings().signing_secrets == ("new-key", "old-key")


def test_a_missing_parameter_is_a_configuration_error_naming_it(ssm, clock, monkeypatch):
    monkeypatch.setenv("CLOSELOOP_SSM_PREFIX", "/closeloop/nowhere/")
    with pytest.raises(ConfigError, match="/closeloop/nowhere/signing-secrets"):
        get_settings()
