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
