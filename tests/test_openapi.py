"""The OpenAPI document at /api/openapi.json describes exactly the routes app.py serves."""

from __future__ import annotations

import re

from app import app

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
