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


# A body each JSON request body of the document accepts, so that one wrong field at a time is refused
# for that field alone; a new body must be added here (the test below fails until it is).
ACCEPTED_BODIES = {
    ("post", "/api/campaigns"): {"name": "Declared", "survey": NPS_SURVEY},
    ("patch", "/api/campaigns/{campaign_id}"): {},
    ("post", "/api/campaigns/{campaign_id}/recipients"): {"recipients": []},
    ("post", "/api/campaigns/{campaign_id}/send"): {},
    ("post", "/api/campaigns/{campaign_id}/preview"): {"email": "ana@example.com"},
    ("post", "/api/responses/{response_id}/loop"): {"status": "contacted"},
    ("put", "/api/campaigns/{campaign_id}/digest-recipients"): {"recipients": []},
    ("post", "/api/suppression"): {"email": "ana@example.com", "reason": "manual"},
}
# Items of declared lists, refused field by field: the path names the item, then the field.
ACCEPTED_ITEMS = {
    ("put", "/api/campaigns/{campaign_id}/digest-recipients", "recipients"): {"email": "ana@example.com"},
    ("post", "/api/campaigns/{campaign_id}/recipients", "recipients"): {"email": "ana@example.com"},
}
# Query parameters that only filter (a search that matches nothing gives an empty page, not a 400).
FILTERS_ONLY = {"q", "email_prefix"}


def _wrong(schema: dict) -> object:
    """A value of the wrong type for a declared field."""
    return "x" if schema.get("type") in ("integer", "number", "boolean", "array", "object") else 12345


def _resolve(schema: dict, document: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _object_of(schema: dict, document: dict) -> dict:
    """The object schema among a field's alternatives (a digest recipient is an address or an object)."""
    schema = _resolve(schema, document)
    return next((_resolve(s, document) for s in schema.get("oneOf", []) if s.get("type") == "object"), schema)


def _url(template: str, campaign_id: str) -> str:
    values = {"campaign_id": campaign_id, "response_id": "nope", "import_id": "nope", "email": "ana@example.com"}
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)


def test_every_declared_body_field_is_refused_naming_the_path_the_declaration_gives(client, db):
    """Each field of each declared request body, given a value of the wrong type, is refused by the
    parser with exactly the field path the declaration names: the parser reads the declaration."""
    document = client.http.get("/api/openapi.json").json_body
    created = client.http.post(
        "/api/campaigns", headers=admin_headers(), body=json.dumps(ACCEPTED_BODIES[("post", "/api/campaigns")])
    )
    campaign_id = created.json_body["campaign"]["id"]
    bodies = {
        (method, path): _resolve(operation["requestBody"]["content"]["application/json"]["schema"], document)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    # a body that is a list of exported rows (Delighted's history) has no fields: its rows are reported one
    # by one, as tests/test_delighted_import.py shows
    bodies = {key: schema for key, schema in bodies.items() if schema.get("type") != "array"}
    assert set(bodies) == set(ACCEPTED_BODIES)

    def refused(method: str, path: str, body: dict) -> dict:
        """The error; for a row of an import, which reports bad rows and imports the others, its rejection."""
        url = _url(path, campaign_id)
        response = client.http.request(method.upper(), url, headers=admin_headers(), body=json.dumps(body))
        if response.status_code == 201 and response.json_body["import"]["rejected_rows"]:
            return response.json_body["import"]["rejected_rows"][0]
        assert response.status_code == 400, (method, path, body, response.json_body)
        return response.json_body["error"]

    checked = []
    for (method, path), schema in bodies.items():
        for name, field in schema["properties"].items():
            error = refused(method, path, {**ACCEPTED_BODIES[(method, path)], name: _wrong(_resolve(field, document))})
            assert error["field"] == name, (method, path, name, error)
            checked.append((path, name))
            item = ACCEPTED_ITEMS.get((method, path, name))
            if item is None:
                continue
            declared = _object_of(_resolve(field, document)["items"], document)["properties"]
            for inner, inner_field in declared.items():
                body = {**ACCEPTED_BODIES[(method, path)], name: [{**item, inner: _wrong(inner_field)}]}
                assert refused(method, path, body)["field"] == f"{name}[0].{inner}", (path, inner)
                checked.append((path, f"{name}[0].{inner}"))
    assert ("/api/responses/{response_id}/loop", "note") in checked
    assert ("/api/campaigns/{campaign_id}/digest-recipients", "recipients[0].frequency") in checked


def test_every_validated_query_parameter_is_refused_by_its_declared_name(client, db):
    """A bad value of each query parameter the document declares is a 400 naming that parameter; the
    filters that only narrow a page take any value."""
    document = client.http.get("/api/openapi.json").json_body
    created = client.http.post(
        "/api/campaigns", headers=admin_headers(), body=json.dumps({"name": "Query", "survey": NPS_SURVEY})
    )
    campaign_id = created.json_body["campaign"]["id"]
    seen = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for param in operation.get("parameters", []):
                if param["in"] != "query":
                    continue
                name = param["name"]
                seen.add(name)
                url = f"{_url(path, campaign_id)}?{name}=%21bad"
                response = client.http.request(method.upper(), url, headers=admin_headers())
                if name in FILTERS_ONLY:
                    assert response.status_code == 200, (path, name)
                    continue
                assert response.status_code == 400, (path, name, response.body)
                assert response.json_body["error"]["field"] == name, (path, name)
    assert {
        "limit",
        "cursor",
        "since",
        "until",
        "weeks",
        "property",
        "category",
        "loop_status",
        "theme",
    } <= seen
