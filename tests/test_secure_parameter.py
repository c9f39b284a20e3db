"""The custom resource that creates the SecureString parameters (moto's SSM; no local engine exists)."""

from __future__ import annotations

import http.server
import json
import threading

import boto3
import pytest
from moto import mock_aws

from infra import secure_parameter

NAME = "/closeloop/dev/signing-secrets"


@pytest.fixture
def ssm(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


@pytest.fixture
def responses(monkeypatch) -> list[dict]:
    """What the handler tells CloudFormation, instead of a PUT to the pre-signed URL."""
    sent: list[dict] = []

    def respond(event: dict, status: str, physical_id: str, reason: str) -> None:
        sent.append({"Status": status, "PhysicalResourceId": physical_id, "Reason": reason})

    monkeypatch.setattr(secure_parameter, "respond", respond)
    return sent


def event(kind: str, retain: str = "false", initial: str = "random", **extra) -> dict:
    return {
        "RequestType": kind,
        "RequestId": "r1",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/closeloop-dev/1",
        "LogicalResourceId": "SigningSecretsParameter",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/",
        "ResourceProperties": {"Name": NAME, "Initial": initial, "Retain": retain},
        **extra,
    }


def value(ssm) -> str:
    return ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]["Value"]


def test_create_generates_a_secret_that_never_leaves_the_account(ssm, responses):
    secure_parameter.handler(event("Create"), None, ssm)
    parameter = ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert len(parameter["Value"]) >= 43  # 32 random bytes, URL-safe base64
    assert responses == [{"Status": "SUCCESS", "PhysicalResourceId": NAME, "Reason": ""}]
    assert parameter["Value"] not in str(responses)


def test_create_keeps_a_value_that_is_already_there(ssm, responses):
    ssm.put_parameter(Name=NAME, Value="rotated-key,old-key", Type="SecureString")
    secure_parameter.handler(event("Create"), None, ssm)
    assert value(ssm) == "rotated-key,old-key"
    assert responses[0]["Status"] == "SUCCESS"


def test_the_admin_token_hashes_start_empty(ssm, responses):
    secure_parameter.handler(event("Create", initial="empty"), None, ssm)
    assert value(ssm) == secure_parameter.EMPTY


def test_an_update_leaves_the_value_alone(ssm, responses):
    secure_parameter.handler(event("Create"), None, ssm)
    before = value(ssm)
    secure_parameter.handler(event("Update", PhysicalResourceId=NAME), None, ssm)
    assert value(ssm) == before
    assert responses[-1] == {"Status": "SUCCESS", "PhysicalResourceId": NAME, "Reason": ""}


def test_delete_removes_the_parameter_outside_prod_and_keeps_it_in_prod(ssm, responses):
    secure_parameter.handler(event("Create"), None, ssm)
    secure_parameter.handler(event("Delete", retain="true", PhysicalResourceId=NAME), None, ssm)
    assert value(ssm)
    secure_parameter.handler(event("Delete", PhysicalResourceId=NAME), None, ssm)
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=NAME)
    assert [r["Status"] for r in responses] == ["SUCCESS"] * 3


def test_a_failed_create_reports_failure_and_its_rollback_deletes_nothing(ssm, responses):
    ssm.put_parameter(Name=NAME, Value="existing", Type="SecureString")
    secure_parameter.handler(event("Create", initial="bogus"), None, ssm)
    [failure] = responses
    assert failure["Status"] == "FAILED" and "Initial must be" in failure["Reason"]
    secure_parameter.handler(event("Delete", PhysicalResourceId=failure["PhysicalResourceId"]), None, ssm)
    assert value(ssm) == "existing"


def test_the_answer_reaches_cloudformation_as_a_put_of_json(ssm):
    received: list[tuple[str, dict]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.command, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            return None

    with http.server.HTTPServer(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.handle_request)
        thread.start()
        url = f"http://127.0.0.1:{server.server_address[1]}/response"
        secure_parameter.handler(event("Create", ResponseURL=url), None, ssm)
        thread.join(10)
    [(method, body)] = received
    assert method == "PUT"
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == NAME and body["NoEcho"] is True
    assert value(ssm) not in json.dumps(body)
