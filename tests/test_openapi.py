"""The OpenAPI document at /api/openapi.json describes exactly the routes app.py serves."""

from __future__ import annotations

import json
import re

from app import app
from tests.conftest import admin_headers
from tests.helpers import NPS_SURVEY

METHODS = {"get", "post", "put", "patch", "delete"}


def _served() -> set[tuple[str, str]]:
    return {
        (path, method.lower()) for path, entries in app.routes.items() if path.startswith("/api/") for method in entries
    }


def test_every_api_route_is_documented_and_every_documented_route_exists(client):
    response = client.http.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json_body
    assert document["openapi"].startswith("3.")
    documented = {(path, method) for path, item in document["paths"].items() for method in item if method in METHODS}
    assert documented == _served()


def test_documented_operations_declare_their_parameters_and_errors(client):
    document = client.http.get("/api/openapi.json").json_body
    for path, item in document["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)
            if path != "/api/openapi.json":
                assert "401" in operation["responses"], (method, path)
                assert any(code.startswith("2") for code in operation["responses"]), (method, path)


def test_every_schema_reference_resolves(client):
    document = client.http.get("/api/openapi.json").json_body
    text = str(document)
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in document["components"]["schemas"], name


def test_every_documented_option_is_parsed_and_an_undocumented_one_is_refused(client, db):
    """The options the document declares are the ones the API parses: a bad value of each is refused
    naming that option, never as an unknown one."""
    declared = client.http.get("/api/openapi.json").json_body["components"]["schemas"]["Options"]["properties"]
    assert {"subject", "reply_to", "webhooks", "slack_webhook_url", "ack", "contact_within_hours"} <= set(declared)

    def create(options: dict) -> dict:
        body = {"name": "Options", "survey": NPS_SURVEY, "options": options}
        response = client.http.post("/api/campaigns", headers=admin_headers(), body=json.dumps(body))
        assert response.status_code == 400
        return response.json_body["error"]

    for name in declared:
        error = create({name: 12345})
        assert error["field"] == f"options.{name}" and not error["message"].startswith("Unknown option"), error
    assert create({"colour": "#123456"}) == {"message": "Unknown option 'colour'.", "field": "options.colour"}
