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


BODY_METHODS = ("post", "put", "patch")


def test_every_operation_with_a_body_documents_415_in_the_one_shape(client):
    spec = client.get("/api/v1/openapi.json").json
    with_body = [(path, method, operation) for path, method, operation in _operations(spec)
                 if method in BODY_METHODS]
    assert {"/api/v1/callbacks", "/api/v1/handovers", "/api/v1/handovers/{reference}/outcome"} <= {
        path for path, _method, _operation in with_body}
    for path, method, operation in with_body:
        assert "415" in operation["responses"], (path, method)
        schema = operation["responses"]["415"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, (path, method)


def test_every_json_api_refuses_a_form_body_with_415_and_stores_nothing(client, api_key, redis):
    """Every operation of every JSON API that takes a body, found in the document (so an API added later is
    covered too): a form-encoded body is refused as not JSON, in the one error shape, before anything else
    (authentication included) happens, so nothing is written."""
    spec = client.get("/api/v1/openapi.json").json
    headers = api_key("staff", ("amsterdam-centrum",))
    keys_before = set(redis.keys("*"))
    for path, method, _operation in _operations(spec):
        if method not in BODY_METHODS:
            continue
        url = path.replace("{reference}", "TB-0000").replace("{location_id}", "amsterdam-centrum")
        response = client.open(url, method=method.upper(), data="a=b",
                               content_type="application/x-www-form-urlencoded", headers=headers)
        assert response.status_code == 415, (path, method, response.get_json())
        assert response.get_json() == {"code": 415, "status": "Unsupported Media Type",
                                       "message": "Stuur de gegevens als JSON."}, (path, method)
    assert set(redis.keys("*")) == keys_before


ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}


def test_the_document_names_every_error_an_operation_can_answer(client):
    """400 (not valid JSON) and 413 (too large) where a body is read; 503 with Retry-After everywhere (Redis);
    429 with Retry-After everywhere (limits); 401 with WWW-Authenticate; 409 when a withdrawal comes too late."""
    spec = client.get("/api/v1/openapi.json").json
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        expected = {"503"} | ({"400", "413", "415"} if method in BODY_METHODS else set())
        assert expected <= set(responses), (path, method)
        for status in expected:
            assert responses[status]["content"]["application/json"]["schema"] == ERROR_SCHEMA, (path, method)
        assert set(responses["503"]["headers"]) == {"Retry-After"}, (path, method)
        if operation["security"]:
            assert set(responses["401"]["headers"]) == {"WWW-Authenticate"}, (path, method)
        # Every 429, the generic one and a view's own (intake, status reads), says when to try again.
        assert set(responses["429"]["headers"]) == {"Retry-After"}, (path, method)
    withdraw = spec["paths"]["/api/v1/callbacks/{reference}/withdraw"]["post"]["responses"]
    assert "already withdrawn" in withdraw["409"]["description"].lower()
    assert withdraw["409"]["content"]["application/json"]["schema"] == ERROR_SCHEMA


def test_a_401_says_to_send_a_bearer_key(client):
    for response in (client.get("/api/v1/locations"), client.get("/api/v1/callbacks/TB-0000"),
                     client.get("/api/v1/locations", headers={"Authorization": "Bearer ll_not-a-key"})):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.get_json()["code"] == 401
    # A page that asks to log in is no HTTP authentication challenge.
    assert "WWW-Authenticate" not in client.get("/loket/terugbelverzoeken").headers


def test_a_body_that_is_not_json_at_all_is_400_as_documented(client):
    response = client.post("/api/v1/callbacks/TB-0000/withdraw", data="{not json",
                           content_type="application/json")
    assert response.status_code == 400 and response.get_json()["code"] == 400
