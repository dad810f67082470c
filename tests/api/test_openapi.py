"""The OpenAPI document names every answer an operation can give."""

from __future__ import annotations

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def test_every_operation_documents_its_422_as_the_one_error_shape(client, analyst):
    # Every route refuses a query parameter it does not take, the one taking none too.
    response = client.get("/v1/tickers", headers=analyst.headers, params={"limit": 5})
    assert response.status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    operations = {
        f"{method.upper()} {path}": operation
        for path, methods in paths.items()
        for method, operation in methods.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert len(operations) > 20
    undocumented = sorted(name for name, operation in operations.items() if "422" not in operation["responses"])
    assert not undocumented
    for name, operation in operations.items():
        assert operation["responses"]["422"]["content"]["application/json"]["schema"] == ERROR_BODY, name


def pydantic_bounds_left_raw(node, path="") -> list[str]:
    """Where the schema carries pydantic's ge/le/gt/lt: JSON Schema has no such words, so clients see no bound."""
    found = []
    if isinstance(node, dict):
        found += [f"{path}.{key}" for key in ("ge", "le", "gt", "lt") if key in node]
        for key, value in node.items():
            found += pydantic_bounds_left_raw(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += pydantic_bounds_left_raw(value, f"{path}[{index}]")
    return found


def test_every_bound_is_in_json_schema_words(client):
    # An optional walk-forward step showed "ge": 5, "le": 1000 beside its anyOf, a bound no client reads.
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert pydantic_bounds_left_raw(schemas) == []
    step = schemas["WalkForwardRequest"]["properties"]["step"]
    [number] = [choice for choice in step["anyOf"] if choice.get("type") == "integer"]
    assert (number["minimum"], number["maximum"]) == (5, 1000)


def test_the_walk_forward_step_says_what_null_means_as_the_code_does_it(client):
    # It said "a fifth of the history"; the windows share the last test fraction (20 %) of it.
    step = client.get("/openapi.json").json()["components"]["schemas"]["WalkForwardRequest"]["properties"]["step"]
    assert step["description"] == (
        "trading days per window; null: the config's test fraction of the history (the last 20 % by default) "
        "split evenly over the windows"
    )
