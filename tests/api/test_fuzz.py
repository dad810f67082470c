"""Property-based fuzzing of the whole OpenAPI schema (schemathesis): no 5xx, every response as documented.

Examples per operation are bounded (FUZZ_EXAMPLES, 20 by default) so the run fits CI; raise it locally
to dig deeper.
"""

from __future__ import annotations

import os
from typing import ClassVar

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from core.forecasting.registry import save_version
from db.engine import session_scope
from tests.api.conftest import GENEROUS, upload
from tests.core.forecasting.tiny import tiny_result

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))


# Loaded when the module is collected: building the schema touches no database, and every
# request reads the settings the fixtures point at (each backend in turn).
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(limits=GENEROUS))


@schema.auth(refresh_interval=None)
class BearerKey:
    """The key of the user the running test made, given the schemathesis way: a case that negates the
    Authorization header is then sent without it (and must get 401) instead of having the key put back,
    which would make a valid request look like accepted negative data."""

    current: ClassVar[dict[str, str]] = {}

    def get(self, case, ctx) -> dict[str, str]:
        return BearerKey.current

    def set(self, case, data: dict[str, str], ctx) -> None:
        case.headers = {**(case.headers or {}), **data}


@pytest.fixture
def fuzz_target(client, analyst):
    """The app on this backend; the user has prices under the ticker the schema's examples name, a model
    and a prediction, so reads return rows (an unmatured ledger row has nulls to get right)."""
    assert upload(client, analyst, "^GSPC").status_code == 201
    with session_scope() as session:
        save_version(session=session, actor=analyst.actor, ticker="^GSPC", result=tiny_result())
    assert client.post("/v1/predictions", json={"ticker": "^GSPC"}, headers=analyst.headers).status_code == 201
    BearerKey.current = analyst.headers
    yield analyst
    BearerKey.current = {}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_response_matches_the_schema(case, fuzz_target):
    # Rules the schema cannot state (a ticker needs cached prices, a portfolio 30 common days)
    # rightly refuse some schema-valid requests with 422: positive_data_acceptance would call that a failure.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
