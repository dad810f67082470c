"""A JSON route's body: one 422 naming what is wrong with JSON that cannot be read, a 415 for another media
type, and a key given twice refused by name, as a query parameter or form field given twice is."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_error

JSON = {"Content-Type": "application/json"}
NOT_JSON = [
    (b"{bad", "line 1, column 2: expecting property name enclosed in double quotes"),
    (b'{"ticker": "^GSPC",\n "days": }', "line 2, column 10: expecting value"),
    (b'{"ticker": "^GSPC"} x', "line 1, column 21: extra data"),
    (b'{"ticker": "\xff"}', "line 1, column 13: not UTF-8 text"),
    (b'{"ticker": "\xc3\xa9\xff"}', "line 1, column 14: not UTF-8 text"),
    (b"[" * 10_000, "nested too deeply"),
    (b"[" * 5_000 + b"]" * 5_000, "nested too deeply"),
]


@pytest.mark.parametrize(("body", "where"), NOT_JSON, ids=[w for _, w in NOT_JSON])
@pytest.mark.parametrize("path", ["/v1/predictions", "/v1/risk"])
def test_a_body_that_is_not_valid_json_gets_one_422_saying_so_and_where(client, analyst, path, body, where):
    # Invalid UTF-8 and deep nesting were a 400 "There was an error parsing the body"; a syntax error a 422
    # at "body.1", a character offset read as a field name.
    error = assert_error(client.post(path, content=body, headers=analyst.headers | JSON), 422, "invalid_request")
    problem = f"not valid JSON ({where})"
    assert error["message"] == f"body: {problem}"
    assert error["details"] == [{"location": "body", "message": problem}]


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        ("text/plain", "not text/plain"),
        ("application/x-www-form-urlencoded", "not application/x-www-form-urlencoded"),
        (None, "no Content-Type was given"),
    ],
    ids=["text", "form", "none"],
)
def test_json_sent_as_another_media_type_gets_415_naming_json(client, analyst, content_type, named):
    # It was a 422 "body: Input should be a valid dictionary": the JSON was fine, its label was not.
    headers = analyst.headers | ({"Content-Type": content_type} if content_type else {})
    response = client.post("/v1/predictions", content=b'{"ticker": "NOSUCH"}', headers=headers)
    error = assert_error(response, 415, "unsupported_media_type")
    assert error["message"] == f"send the body as JSON, with Content-Type: application/json ({named})"
    assert error["details"] is None
    assert "RateLimit-Remaining" in response.headers


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/vnd.candlecast+json"]
)
def test_every_spelling_of_a_json_media_type_reaches_the_route(client, analyst, content_type):
    response = client.post(
        "/v1/predictions", content=b'{"ticker": "NOSUCH"}', headers=analyst.headers | {"Content-Type": content_type}
    )
    assert_error(response, 404, "not_found")


def test_no_body_at_all_is_a_missing_field_not_a_media_type(client, analyst):
    error = assert_error(client.post("/v1/predictions", headers=analyst.headers), 422, "invalid_request")
    assert error["details"] == [{"location": "body", "message": "Field required"}]


def test_a_viewer_and_a_stranger_hear_of_the_role_and_the_key_before_the_media_type(client, viewer):
    body, headers = b'{"ticker": "NOSUCH"}', {"Content-Type": "text/plain"}
    assert_error(client.post("/v1/predictions", content=body, headers=headers), 401, "unauthorised")
    assert_error(client.post("/v1/predictions", content=body, headers=headers | viewer.headers), 403, "forbidden")


@pytest.mark.parametrize(
    ("path", "body", "location"),
    [
        ("/v1/predictions", b'{"ticker": "^GSPC", "days": 1, "days": 2}', "body.days"),
        ("/v1/risk", b'{"weights": {"MSFT": 1, "MSFT": 2}}', "body.weights.MSFT"),
        ("/v1/jobs/training", b'{"ticker": "MSFT", "config": {"epochs": 1, "epochs": 5}}', "body.config.epochs"),
        ("/v1/jobs/training", b'{"ticker": "MSFT", "x": [{"y": 1, "y": 1}]}', "body.x.0.y"),
    ],
    ids=["top-level", "in-an-object", "in-the-settings", "in-a-list"],
)
def test_a_key_given_twice_in_a_json_body_is_refused_by_name(client, analyst, path, body, location):
    # The last one won unsaid: a retry reading "days": 1 forecast two days.
    error = assert_error(client.post(path, content=body, headers=analyst.headers | JSON), 422, "invalid_request")
    assert error["message"] == f"{location}: given more than once"
    assert error["details"] == [{"location": location, "message": "given more than once"}]


def test_every_key_given_twice_is_named(client, analyst):
    body = b'{"ticker": "A", "ticker": "B", "days": 1, "days": 1}'
    error = assert_error(client.post("/v1/predictions", content=body, headers=analyst.headers | JSON), 422)
    assert error["details"] == [
        {"location": "body.ticker", "message": "given more than once"},
        {"location": "body.days", "message": "given more than once"},
    ]


def test_a_key_given_once_in_several_objects_is_no_repeat(client, analyst):
    body = b'{"ticker": "NOSUCH", "config": {"model_type": "drift"}}'
    response = client.post("/v1/jobs/training", content=body, headers=analyst.headers | JSON)
    assert_error(response, 404, "not_found")


def test_the_openapi_document_gives_every_json_body_its_415(client):
    paths = client.get("/openapi.json").json()["paths"]
    taking_json = {
        f"{method.upper()} {path}": operation
        for path, methods in paths.items()
        for method, operation in methods.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    assert {"POST /v1/predictions", "POST /v1/risk", "POST /v1/backtests", "POST /v1/jobs/training"} <= set(taking_json)
    for name, operation in taking_json.items():
        documented = operation["responses"]["415"]["content"]["application/json"]["schema"]
        assert documented == {"$ref": "#/components/schemas/ErrorBody"}, name
    assert "415" not in paths["/v1/prices"]["post"]["responses"], "an upload is a form, not JSON"
