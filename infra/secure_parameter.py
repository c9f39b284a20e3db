"""Custom resource handler: an SSM SecureString parameter that holds a generated secret.

CloudFormation cannot create SecureString parameters, and a secret must never appear in a
template. Create generates the value (or writes the empty marker) with Overwrite=False, so an
existing value, such as a rotated key or a retained parameter, is never replaced; Update leaves
the value alone; Delete removes the parameter unless the stage retains its data. The value is
never returned to CloudFormation. The stack inlines this file (stdlib and boto3 only).
"""

import contextlib
import json
import secrets
import urllib.request
from typing import Any

import boto3

EMPTY = "-"  # SSM values cannot be empty: a lone "-" means "no entries" to chalicelib.core.secrets


def initial_value(kind: str) -> str:
    if kind == "random":
        return secrets.token_urlsafe(32)
    if kind == "empty":
        return EMPTY
    raise ValueError(f"Initial must be 'random' or 'empty', not {kind!r}")


def create(ssm: Any, name: str, kind: str, description: str) -> None:
    try:
        ssm.put_parameter(
            Name=name,
            Description=description,
            Value=initial_value(kind),
            Type="SecureString",
            Tier="Standard",
            Overwrite=False,
        )
    except ssm.exceptions.ParameterAlreadyExists:
        print(f"kept the existing value of {name}")


def handler(event: dict, context: object, ssm: Any = None) -> None:
    props = event["ResourceProperties"]
    name, kind = props["Name"], event["RequestType"]
    physical_id = event.get("PhysicalResourceId") or "not-created-" + event["RequestId"]
    try:
        ssm = ssm or boto3.client("ssm")
        if kind == "Create" or (kind == "Update" and physical_id != name):
            create(ssm, name, props["Initial"], props.get("Description", "Closeloop secret"))
            physical_id = name
        elif kind == "Delete" and physical_id.startswith("/") and props.get("Retain") != "true":
            with contextlib.suppress(ssm.exceptions.ParameterNotFound):
                ssm.delete_parameter(Name=physical_id)
        respond(event, "SUCCESS", physical_id, "")
    except Exception as exc:
        print(f"failed: {exc!r}")
        respond(event, "FAILED", physical_id, str(exc)[:500])


def respond(event: dict, status: str, physical_id: str, reason: str) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or status,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": True,
        }
    ).encode()
    # ResponseURL is CloudFormation's pre-signed https URL for this request.
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass
