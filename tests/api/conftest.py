"""An API on each test database, with real Redis for limits and the job queue, and keys of real users."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import URL

from api.app import create_app
from api.limits import ApiLimits
from core.auth.api_keys import create_api_key
from core.forecasting.registry import save_version
from db.engine import session_scope
from db.models import ApiKey
from db.models.accounts import Role, Tier
from db.repositories.actor import Actor
from db.types import utc_now
from tests.accounts import make_account
from tests.core.forecasting.tiny import tiny_result
from tests.fixtures import gspc_2018_bytes

GENEROUS = ApiLimits(read="10000/minute", write="10000/minute")


@pytest.fixture
def client(committing_database: URL, queued_jobs: str) -> Iterator[TestClient]:
    with TestClient(create_app(limits=GENEROUS)) as test_client:
        yield test_client


@dataclass(frozen=True)
class User:
    actor: Actor
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def issue_key(actor: Actor, *, expires_in_days: int | None = None) -> str:
    with session_scope() as session:
        return create_api_key(session=session, actor=actor, name="notebook", expires_in_days=expires_in_days).secret


def expire_key(secret: str) -> None:
    from core.auth.api_keys import hash_api_key

    with session_scope() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.key_hash == hash_api_key(secret))
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )


@pytest.fixture
def new_user(committing_database: URL) -> Callable[..., User]:
    def make(role: Role = Role.ANALYST, tier: Tier = Tier.PRO) -> User:
        actor = make_account(committing_database, role=role, tier=tier)
        return User(actor, issue_key(actor))

    return make


@pytest.fixture
def analyst(new_user) -> User:
    return new_user()


@pytest.fixture
def viewer(new_user) -> User:
    return new_user(Role.VIEWER)


def unique_ticker() -> str:
    return f"T{uuid.uuid4().hex[:6].upper()}"


def upload(client: TestClient, user: User, ticker: str, data: bytes | None = None):
    return client.post(
        "/v1/prices",
        headers=user.headers,
        files={"file": ("prices.csv", gspc_2018_bytes() if data is None else data, "text/csv")},
        data={"ticker": ticker},
    )


@pytest.fixture
def priced(client: TestClient, analyst: User) -> str:
    """A ticker the analyst uploaded: the real 2018 S&P 500."""
    ticker = unique_ticker()
    assert upload(client, analyst, ticker).status_code == 201
    return ticker


@pytest.fixture
def modelled(priced: str, analyst: User) -> str:
    """The priced ticker with a tiny trained model as the analyst's active version."""
    with session_scope() as session:
        save_version(session=session, actor=analyst.actor, ticker=priced, result=tiny_result())
    return priced


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is the API's one error shape with this status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]
