"""Migration tests start from an empty database on each backend and upgrade it to the revision they test."""

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL

from tests.servers import fresh_postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[URL]:
    """A new, empty database on each backend: no revision applied yet."""
    if request.param == "sqlite":
        yield URL.create("sqlite", database=str(tmp_path / "migrations.db"))
        return
    with fresh_postgres_database() as url:
        yield url
