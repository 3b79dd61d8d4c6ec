"""Fuzz every operation of /api/v1 against its own OpenAPI document (schemathesis, in-process WSGI).

Each generated request is sent three times, with a staff key of amsterdam-centrum, a coordinator key and
UWV's partner key,
and every answer must: never be a 5xx, match the documented status codes, content type and schema, and
— when it is an error — be the one JSON error shape {"code", "status", "message", "errors"?}.
Generated data is steered towards real directory ids, and towards a callback request and a handover made
before each operation is fuzzed, so the fuzzing reaches past "unknown location/reference" into the services.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

OPENAPI = "/api/v1/openapi.json"
# Values that exist in the demo directory or pass the intake checks, mixed into generated data.
REAL_VALUES = {
    "location": ["amsterdam-centrum", "utrecht"],
    "location_id": ["amsterdam-centrum", "enschede"],
    "partner": ["uwv", "toeslagen"],
    "phone": ["+31612345678", "0612345678"],
    "q": ["huurtoeslag", "aow"],
    "consent": [True],
    "preferred": [[]],
    "topic": [None],
}
ERROR_KEYS = {"code", "status", "message", "errors"}
# References and tokens of the records the `records` fixture makes for the test being run.
MADE: dict[str, list] = {}
KEEP = object()  # the generated value stays


TYPES = {"string": str, "array": list, "boolean": bool, "integer": int, "object": dict}


def _fits(value: object, prop: dict) -> bool:
    if value is None:
        return bool(prop.get("nullable"))
    expected = TYPES.get(prop.get("type", ""))
    return expected is None or type(value) is expected


def _steered(values: object, properties: dict | None = None) -> st.SearchStrategy:
    """The generated mapping, or the same with some fields set to real directory values or records.
    With the body's `properties`, a documented field the generator left out may be filled in too."""
    if not isinstance(values, dict):
        return st.just(values)
    real_values = {**REAL_VALUES, **MADE}
    names = set(values) | set(properties or {})
    choices = {}
    for name in names & set(real_values):
        fitting = [v for v in real_values[name] if properties is None or _fits(v, properties.get(name, {}))]
        if fitting:
            choices[name] = st.sampled_from([*fitting, KEEP])
    if not choices:
        return st.just(values)
    return st.fixed_dictionaries(choices).map(
        lambda picked: {**values, **{name: value for name, value in picked.items() if value is not KEEP}}
    )


def _load_schema() -> schemathesis.schemas.BaseSchema:
    """The document as the app serves it. Reading it needs no Redis (connections are lazy), so an app
    built here at collection time serves it; requests go to each test's own app (`app=` below)."""
    from routing import create_app

    document_app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": "unix:///nonexistent/redis.sock"})
    return schemathesis.openapi.from_wsgi(OPENAPI, document_app)


schema = _load_schema()


@schema.hook
def flatmap_body(context, body):
    documented = context.operation.body[0].definition.get("schema", {}) if context.operation.body else {}
    return _steered(body, documented.get("properties", {}))


@schema.hook
def flatmap_query(context, query):
    return _steered(query)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _steered(path_parameters)


def one_error_shape(ctx, response, case) -> None:
    """Every 4xx/5xx answer is {"code", "status", "message", "errors"?: {field: [message, ...]}}."""
    if response.status_code < 400:
        return
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), (
        f"error {response.status_code} is not JSON: {response.headers.get('content-type')}")
    body = response.json()
    assert isinstance(body, dict) and {"code", "status", "message"} <= set(body) <= ERROR_KEYS, (
        f"error body is not the one shape: {body!r}")
    assert body["code"] == response.status_code, body
    assert body["status"] == HTTPStatus(response.status_code).phrase, body
    assert isinstance(body["message"], str) and body["message"].strip(), body
    if "errors" in body:
        errors = body["errors"]
        assert isinstance(errors, dict) and errors, body
        for field, messages in errors.items():
            assert isinstance(field, str), body
            assert isinstance(messages, list) and messages, body
            for message in messages:
                assert isinstance(message, str) and message.strip(), body
                assert not (message.startswith("[") and message.endswith("]")), f"a stringified list: {body!r}"


@pytest.fixture
def app_config(redis_url: str) -> dict:
    # As in production: CSRF protection on, so an API that forgot to exempt itself answers 400 here too.
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def keys(api_key) -> list[dict[str, str]]:
    """Staff of amsterdam-centrum, a coordinator, and UWV's partner key (attempts and outcomes)."""
    return [api_key("staff", ("amsterdam-centrum",)), api_key("coordinator"), api_key("partner", (), "uwv")]


@pytest.fixture
def records(client, keys) -> Iterator[None]:
    """A callback request and a handover at amsterdam-centrum, for the generated data to refer to."""
    staff = keys[0]
    callback = client.post("/api/v1/callbacks", headers=staff, json={
        "location": "amsterdam-centrum", "phone": "0687654321", "consent": True}).get_json()
    handover = client.post("/api/v1/handovers", headers=staff, json={
        "location": "amsterdam-centrum", "partner": "uwv", "phone": "0687654321", "consent": True}).get_json()
    handover = handover[0] if isinstance(handover, list) else handover
    MADE.update(reference=[callback["reference"], handover["reference"]], token=[callback["withdraw_token"]],
                callback_reference=[callback["reference"]])
    yield
    MADE.clear()


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=30, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, app, keys, records):
    for headers in keys:
        case.call_and_validate(headers=headers, app=app, checks=CHECKS, additional_checks=[one_error_shape])


WRITE_OPERATIONS = [(method.upper(), path) for path, item in schema.raw_schema["paths"].items()
                    for method in item if method in ("post", "put", "patch", "delete")]


@pytest.mark.parametrize(("method", "path"), WRITE_OPERATIONS, ids=[f"{m} {p}" for m, p in WRITE_OPERATIONS])
def test_write_operations_take_a_bearer_key_without_a_csrf_token(client, api_key, method, path):
    """With CSRF on (as in production), an empty JSON body gets the field errors, not a CSRF refusal."""
    url = path.replace("{reference}", "TB-0000").replace("{location_id}", "amsterdam-centrum")
    response = client.open(url, method=method, json={}, headers=api_key("staff", ("amsterdam-centrum",)))
    body = response.get_json()
    # 403: an operation for another role (a partner's) refuses the staff key by role; CSRF would say 400.
    assert response.status_code in (403, 404, 422), body
    if response.status_code == 422:
        assert body.get("errors"), body


def _library_default_messages() -> list[re.Pattern[str]]:
    """marshmallow's and webargs' own (English) messages, as patterns ("{min}" matches anything)."""
    import marshmallow
    from marshmallow import fields, validate

    texts = {"Invalid JSON body."} | set(marshmallow.Schema._default_error_messages.values())
    for field_class in vars(fields).values():
        if isinstance(field_class, type) and issubclass(field_class, fields.Field):
            texts |= {t for t in field_class.default_error_messages.values() if isinstance(t, str)}
    for validator in vars(validate).values():
        if isinstance(validator, type) and issubclass(validator, validate.Validator):
            texts |= {getattr(validator, name) for name in dir(validator)
                      if name.startswith(("message", "default_message")) and isinstance(getattr(validator, name), str)}
    return [re.compile("^" + re.sub(r"\\\{\w*\\\}", ".*", re.escape(text)) + "$") for text in texts]


MALFORMED = [
    pytest.param("GET", "/api/v1/search?location=amsterdam-centrum", None, id="search-without-q"),
    pytest.param("GET", "/api/v1/search?location=amsterdam-centrum&q=" + "x" * 101, None, id="search-q-too-long"),
    pytest.param("POST", "/api/v1/callbacks", {"location": 5, "phone": 6, "consent": "misschien", "preferred": "x"},
                 id="callback-wrong-types"),
    pytest.param("POST", "/api/v1/callbacks", ["not", "an", "object"], id="callback-not-an-object"),
    pytest.param("POST", "/api/v1/handovers", {"location": 5, "partner": "uwv", "phone": [], "consent": "ja"},
                 id="handover-wrong-types"),
    pytest.param("POST", "/api/v1/callbacks/TB-0000/withdraw", {"token": 7}, id="withdraw-wrong-type"),
]


@pytest.mark.parametrize(("method", "url", "body"), MALFORMED)
def test_field_errors_speak_the_users_language(client, api_key, method, url, body):
    response = client.open(url, method=method, json=body, headers=api_key("staff", ("amsterdam-centrum",)))
    errors = response.get_json().get("errors", {})
    assert response.status_code in (400, 422) and errors, response.get_json()
    defaults = _library_default_messages()
    untranslated = [m for messages in errors.values() for m in messages if any(p.match(m) for p in defaults)]
    assert not untranslated, errors
