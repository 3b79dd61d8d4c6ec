"""The OpenAPI document tells a client how to authenticate and which errors to expect."""


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def test_bearer_keys_are_the_documented_authentication(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"]}
    secured = {(p, m): o["security"] for p, m, o in _operations(spec)}
    assert secured[("/api/v1/search", "get")] == [{"bearerAuth": []}]
    assert secured[("/api/v1/callbacks/{reference}/withdraw", "post")] == []


def test_every_operation_documents_its_errors_in_the_one_shape(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        if operation["security"]:
            assert {"401", "403"} <= set(responses), (path, method)
        if "{" in path:
            assert "404" in responses, (path, method)
        for status in ("401", "403", "404", "429"):
            if status in responses:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)
