"""Every admin API answer a test receives is checked against the schema the OpenAPI document declares for
its operation and status: the `client` fixture (tests/conftest.py) calls `check` after each request, so
every flow of the suite proves the declarations beside the code that builds the answers."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jsonschema_rs

from chalicelib.admin import openapi


@cache
def _document() -> dict[str, Any]:
    return openapi.document("http://127.0.0.1:8000")


@cache
def _templates() -> list[tuple[re.Pattern, str]]:
    """Each documented path as a pattern; literal paths first so /responses.csv is not a {campaign_id}."""
    paths = sorted(_document()["paths"], key=lambda path: path.count("{"))
    return [(re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$"), path) for path in paths]


def operation_of(url: str) -> str | None:
    """The documented path template a request URL is served by, if any."""
    path = url.split("?", 1)[0]
    return next((template for pattern, template in _templates() if pattern.match(path)), None)


@cache
def _validator(template: str, method: str, status: int) -> Any:
    responses = _document()["paths"][template][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {template} answered {status}, which it does not document"
    schema = responses[str(status)].get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    return jsonschema_rs.Draft202012Validator({**schema, "components": _document()["components"]})


def check(method: str, url: str, status: int, headers: dict[str, str], body: bytes) -> None:
    """AssertionError naming each way a JSON answer of the admin API differs from its declared schema."""
    template = operation_of(url)
    if template is None or method.lower() not in _document()["paths"][template]:
        return
    validator = _validator(template, method.lower(), status)
    # chalice sends a dict body as application/json without naming it in the test client's headers
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "application/json")
    if validator is None or not content_type.startswith("application/json"):
        return
    answer = json.loads(body)
    problems = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(answer)]
    assert not problems, f"{method.upper()} {url} {status} differs from the document: {problems}"
