"""The same stored prices read the same, to the byte, whether the database is SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import URL

from api.app import create_app
from common.config import get_settings
from db.engine import reset_engine
from db.models.accounts import Tier
from tests.accounts import make_account
from tests.api.conftest import GENEROUS, User, issue_key, unique_ticker, upload
from tests.fixtures import gspc_2018_bytes
from tests.servers import fresh_postgres_database

pytestmark = pytest.mark.postgres

# Prices each backend is apt to write in a form of its own: whole, tiny, around the switch to an
# exponent, float32 widened, large.
EDGE_DAYS = [
    "2017-12-22,2500,2510,2490,2505,2505,1000",
    "2017-12-26,6.390862785707e-06,6.4e-06,6.3e-06,6.390862785707e-06,6.390862785707e-06,1000",
    "2017-12-27,1e-05,5e-05,1e-05,1.5e-05,1.5e-05,1000",
    "2017-12-28,172.27999877929688,172.27999877929688,171.61053466796875,171.61053466796875,171.61053466796875,1000",
    "2017-12-29,1e15,5e22,1e15,1e16,1e16,1000",
]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[URL]:
    with fresh_postgres_database(migrated=True) as url:
        yield url


def test_prices_and_indicators_are_the_same_bytes_on_both_backends(
    committing_sqlite_url, postgres_url, queued_jobs, monkeypatch
):
    header, *days = gspc_2018_bytes().decode().splitlines()
    file = "\n".join([header, *EDGE_DAYS, *days]).encode()
    ticker = unique_ticker()
    sqlite, postgres = (_answers(url, ticker, file, monkeypatch) for url in (committing_sqlite_url, postgres_url))
    assert '"open":2500.0,' in sqlite["prices as application/json"]
    for name, answer in sqlite.items():
        assert answer == postgres[name], name


def _answers(url: URL, ticker: str, file: bytes, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    reset_engine()
    actor = make_account(url, tier=Tier.PRO)
    user = User(actor, issue_key(actor))
    with TestClient(create_app(limits=GENEROUS)) as client:
        assert upload(client, user, ticker, file).status_code == 201
        answers = {}
        for route in ("prices", "indicators"):
            for accept in ("application/json", "text/csv"):
                response = client.get(f"/v1/{route}/{ticker}", headers=user.headers | {"Accept": accept})
                assert response.status_code == 200, response.text
                answers[f"{route} as {accept}"] = response.text
    return answers
