"""Migrations: upgrade to head, no drift between models and schema, downgrade to base, on both backends."""

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from db.base import Base
from db.migrate import current_revision, downgrade_to_base, head_revision, schema_drift, upgrade_to_head


def test_round_trip(blank_database: URL) -> None:
    url = blank_database
    engine = create_engine(url, poolclass=NullPool)
    assert current_revision(engine) is None

    upgrade_to_head(url)
    assert current_revision(engine) == head_revision()
    assert schema_drift(url) is None
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "idx_historical_data_ticker_date" in {i["name"] for i in inspect(engine).get_indexes("historical_data")}
    assert {"idx_predictions_user_ticker", "idx_predictions_date"} <= {
        i["name"] for i in inspect(engine).get_indexes("predictions")
    }

    downgrade_to_base(url)
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_drift_is_detected(tmp_path, monkeypatch):
    url = URL.create("sqlite", database=str(tmp_path / "drift.db"))
    upgrade_to_head(url)
    from sqlalchemy import Column, Integer, Table

    extra = Table("unmigrated_table", Base.metadata, Column("id", Integer, primary_key=True))
    try:
        assert "unmigrated_table" in (schema_drift(url) or "")
    finally:
        Base.metadata.remove(extra)


def test_upgrade_creates_the_folder_of_a_new_sqlite_file(tmp_path):
    # A fresh clone has no var/: the first `make run` must create it rather than fail to open the file.
    database = tmp_path / "not" / "yet" / "there.db"
    upgrade_to_head(URL.create("sqlite", database=str(database)))
    assert current_revision(create_engine(URL.create("sqlite", database=str(database)), poolclass=NullPool)) == (
        head_revision()
    )


def test_indicators_survive_0010(blank_database: URL) -> None:
    """Stored indicators keep their values across 0010 both ways, and the screener's row is made from them."""
    url = blank_database
    import uuid
    from datetime import UTC, date, datetime

    from alembic import command
    from sqlalchemy import text

    from db.migrate import alembic_config

    command.upgrade(alembic_config(url), "0009")
    engine = create_engine(url, poolclass=NullPool)
    now = datetime.now(UTC)
    price_ids = [uuid.uuid4() for _ in range(3)]
    days = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    with engine.begin() as connection:
        for price_id, day, close in zip(price_ids, days, (10.0, 11.0, 12.0), strict=True):
            connection.execute(
                text(
                    "INSERT INTO historical_data (id, owner_id, ticker, date, open, high, low, close, adjusted_close,"
                    " volume, source, last_updated) VALUES (:id, NULL, 'MIG', :day, 1, 20, 1, :close, :close, 5,"
                    " 'sample', :now)"
                ).bindparams(id=price_id.hex if url.get_backend_name() == "sqlite" else price_id),
                {"day": day, "close": close, "now": now},
            )
        for position, price_id in enumerate(price_ids):
            connection.execute(
                text(
                    "INSERT INTO technical_indicators (id, price_id, rsi_14, macd_hist, hv_20, computed_at)"
                    " VALUES (:id, :price_id, :rsi, :macd, :hv, :now)"
                ),
                {
                    "id": uuid.uuid4().hex if url.get_backend_name() == "sqlite" else uuid.uuid4(),
                    "price_id": price_id.hex if url.get_backend_name() == "sqlite" else price_id,
                    "rsi": 40.0 + position,
                    "macd": (-1.0, 1.0, 2.0)[position],
                    "hv": (0.1, 0.3, 0.2)[position],
                    "now": now,
                },
            )
    upgrade_to_head(url)
    assert schema_drift(url) is None
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT date, rsi_14 FROM technical_indicators WHERE ticker = 'MIG' AND owner_id IS NULL")
        ).all()
        latest = connection.execute(
            text("SELECT close, rsi_14, hv_20_year_median, macd_cross_age FROM latest_indicators WHERE ticker = 'MIG'")
        ).one()
    assert sorted(rsi for _, rsi in rows) == [40.0, 41.0, 42.0]
    assert tuple(latest) == (12.0, 42.0, None, 1), "three days hold no year's median (0016)"

    command.downgrade(alembic_config(url), "0009")
    with engine.connect() as connection:
        restored = connection.execute(
            text(
                "SELECT hp.close, ti.rsi_14 FROM technical_indicators ti JOIN historical_data hp ON hp.id = ti.price_id"
            )
        ).all()
    assert sorted(restored) == [(10.0, 40.0), (11.0, 41.0), (12.0, 42.0)]
    engine.dispose()


def test_series_versions_are_backfilled_by_0011(blank_database: URL) -> None:
    """Every series stored before 0011 gets a version, so a rendered copy of it can be checked."""
    url = blank_database
    import uuid
    from datetime import UTC, date, datetime

    from alembic import command
    from sqlalchemy import text

    from db.migrate import alembic_config

    command.upgrade(alembic_config(url), "0010")
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        for ticker, day in (("OLD", date(2024, 1, 2)), ("OLD", date(2024, 1, 3)), ("AGED", date(2024, 1, 2))):
            row_id = uuid.uuid4()
            connection.execute(
                text(
                    "INSERT INTO historical_data (id, owner_id, ticker, date, open, high, low, close, adjusted_close,"
                    " volume, source, last_updated) VALUES (:id, NULL, :ticker, :day, 1, 2, 1, 1, 1, 5, 'sample', :now)"
                ),
                {
                    "id": row_id.hex if url.get_backend_name() == "sqlite" else row_id,
                    "ticker": ticker,
                    "day": day,
                    "now": datetime.now(UTC),
                },
            )
    upgrade_to_head(url)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT ticker, owner_id, version FROM price_series_versions")).all()
    assert sorted((ticker, owner) for ticker, owner, _ in versions) == [("AGED", None), ("OLD", None)]
    assert len({version for *_, version in versions}) == 2
    command.downgrade(alembic_config(url), "0010")
    assert "price_series_versions" not in inspect(engine).get_table_names()
    engine.dispose()


def test_0013_keeps_the_oldest_copy_of_each_forecast_and_names_its_version(blank_database: URL) -> None:
    """Copies left by Predict pressed twice go, the first one made stays; a deleted version's rows are
    untouched (nothing tells two deleted versions apart), and each row keeps its version's number and type."""
    url = blank_database
    import uuid
    from datetime import UTC, date, datetime, timedelta

    from alembic import command
    from sqlalchemy import text

    from db.migrate import alembic_config

    command.upgrade(alembic_config(url), "0012")
    engine = create_engine(url, poolclass=NullPool)

    def key(value: uuid.UUID) -> object:
        return value.hex if url.get_backend_name() == "sqlite" else value

    now = datetime.now(UTC)
    user, version = uuid.uuid4(), uuid.uuid4()
    copies = [uuid.uuid4() for _ in range(3)]  # oldest last: the migration must not keep the first inserted
    other_day, orphans = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, email, password_hash, role, subscription_tier, is_active,"
                " created_at, updated_at) VALUES (:id, 'mig', 'mig@example.com', 'x', 'analyst', 'free', TRUE,"
                " :now, :now)"
            ),
            {"id": key(user), "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO model_versions (id, user_id, ticker, version, model_type, parameters, metrics, artifact,"
                " artifact_sha256, is_active, created_at) VALUES (:id, :user, 'MIG', 4, 'ridge', '{}', '{}', :blob,"
                " :sha, FALSE, :now)"
            ),
            {"id": key(version), "user": key(user), "blob": b"x", "sha": "0" * 64, "now": now},
        )
        rows = [(row_id, version, date(2024, 1, 3), now - timedelta(minutes=n)) for n, row_id in enumerate(copies)]
        rows += [(other_day, version, date(2024, 1, 4), now)]
        rows += [(row_id, None, date(2024, 1, 3), now) for row_id in orphans]
        for row_id, model, target, made in rows:
            connection.execute(
                text(
                    "INSERT INTO predictions (id, user_id, model_version_id, ticker, prediction_date, target_date,"
                    " predicted_value, created_at) VALUES (:id, :user, :model, 'MIG', :made_on, :target, 1.0, :at)"
                ),
                {
                    "id": key(row_id),
                    "user": key(user),
                    "model": key(model) if model else None,
                    "made_on": date(2024, 1, 2),
                    "target": target,
                    "at": made,
                },
            )
    upgrade_to_head(url)
    assert schema_drift(url) is None
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT id, model_version_number, model_type FROM predictions WHERE model_version_id IS NOT NULL")
        ).all()
        orphaned = connection.execute(text("SELECT count(*) FROM predictions WHERE model_version_id IS NULL")).one()
    assert sorted(str(uuid.UUID(str(row_id))) for row_id, *_ in kept) == sorted(str(i) for i in (copies[2], other_day))
    assert {(number, kind) for _, number, kind in kept} == {(4, "ridge")}
    assert orphaned == (2,)
    command.downgrade(alembic_config(url), "0012")
    assert "model_version_number" not in {c["name"] for c in inspect(engine).get_columns("predictions")}
    engine.dispose()


def test_0014_summarises_the_prices_stored_before_it(blank_database: URL) -> None:
    """The ticker list reads summaries from 0014 on: every series stored before it gets its own."""
    url = blank_database
    import uuid
    from datetime import UTC, date, datetime

    from alembic import command
    from sqlalchemy import text

    from db.migrate import alembic_config

    command.upgrade(alembic_config(url), "0013")
    engine = create_engine(url, poolclass=NullPool)
    written = datetime(2026, 1, 5, 21, 30, tzinfo=UTC)
    with engine.begin() as connection:
        for ticker, day, source in (
            ("OLD", date(2024, 1, 2), "sample"),
            ("OLD", date(2024, 1, 3), "sample"),
            ("OLD", date(2024, 1, 4), "yahoo"),
            ("AGED", date(2023, 6, 1), "sample"),
        ):
            row_id = uuid.uuid4()
            connection.execute(
                text(
                    "INSERT INTO historical_data (id, owner_id, ticker, date, open, high, low, close, adjusted_close,"
                    " volume, source, last_updated) VALUES (:id, NULL, :ticker, :day, 1, 2, 1, 1, 1, 5, :source, :now)"
                ),
                {
                    "id": row_id.hex if url.get_backend_name() == "sqlite" else row_id,
                    "ticker": ticker,
                    "day": day,
                    "source": source,
                    "now": written,
                },
            )
    upgrade_to_head(url)
    with engine.connect() as connection:
        summaries = connection.execute(
            text("SELECT ticker, source, first_date, last_date, days FROM price_summaries ORDER BY ticker, source")
        ).all()
    as_text = [(ticker, source, str(first), str(last), days) for ticker, source, first, last, days in summaries]
    assert as_text == [
        ("AGED", "sample", "2023-06-01", "2023-06-01", 1),
        ("OLD", "sample", "2024-01-02", "2024-01-03", 2),
        ("OLD", "yahoo", "2024-01-04", "2024-01-04", 1),
    ]
    command.downgrade(alembic_config(url), "0013")
    assert "price_summaries" not in inspect(engine).get_table_names()
    engine.dispose()


def test_0015_annualises_stored_volatility_by_each_markets_year(blank_database: URL) -> None:
    """A coin's stored volatility was annualised by 252 days: 0015 puts it on 365, a pair's on 260."""
    url = blank_database
    import math
    import uuid
    from datetime import UTC, date, datetime

    from alembic import command
    from sqlalchemy import text

    from db.migrate import alembic_config

    command.upgrade(alembic_config(url), "0014")
    engine = create_engine(url, poolclass=NullPool)
    now = datetime(2026, 1, 5, tzinfo=UTC)
    tickers = ("BTC-USD", "EURUSD=X", "BRK-B")
    inserts = (
        "INSERT INTO technical_indicators (id, owner_id, ticker, date, hv_20, computed_at)"
        " VALUES (:id, NULL, :ticker, :day, 0.5, :now)",
        "INSERT INTO latest_indicators (id, owner_id, ticker, date, close, hv_20, hv_20_year_median, computed_at)"
        " VALUES (:id, NULL, :ticker, :day, 1, 0.5, 0.4, :now)",
    )
    with engine.begin() as connection:
        for ticker in tickers:
            for insert in inserts:
                row_id = uuid.uuid4().hex if url.get_backend_name() == "sqlite" else uuid.uuid4()
                connection.execute(text(insert), {"id": row_id, "ticker": ticker, "day": date(2024, 1, 2), "now": now})

    def stored() -> dict[str, tuple[float, float, float]]:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT ti.ticker, ti.hv_20, li.hv_20, li.hv_20_year_median FROM technical_indicators ti"
                    " JOIN latest_indicators li ON li.ticker = ti.ticker"
                )
            ).all()
        return {ticker: (history, latest, median) for ticker, history, latest, median in rows}

    command.upgrade(alembic_config(url), "0015")  # 0016 drops the year median of a 1-day history
    after = stored()
    coin, pair = math.sqrt(365 / 252), math.sqrt(260 / 252)
    assert after["BTC-USD"] == pytest.approx((0.5 * coin, 0.5 * coin, 0.4 * coin))
    assert after["EURUSD=X"] == pytest.approx((0.5 * pair, 0.5 * pair, 0.4 * pair))
    assert after["BRK-B"] == (0.5, 0.5, 0.4), "a share class is no coin pair"
    command.downgrade(alembic_config(url), "0014")
    assert {ticker: pytest.approx(values) for ticker, values in stored().items()} == dict.fromkeys(
        tickers, (0.5, 0.5, 0.4)
    )
    engine.dispose()


def test_0016_drops_the_year_median_of_a_history_too_short_to_have_one(blank_database: URL) -> None:
    """A month of hv_20 values is no year: 0016 nulls its stored median, per scope and by each market's year."""
    url = blank_database
    import statistics
    import uuid
    from datetime import UTC, date, datetime, timedelta

    from alembic import command
    from sqlalchemy import text

    from db.migrate import alembic_config

    command.upgrade(alembic_config(url), "0015")
    engine = create_engine(url, poolclass=NullPool)

    def key(value: uuid.UUID | None) -> object:
        return value.hex if value is not None and url.get_backend_name() == "sqlite" else value

    now = datetime(2026, 1, 5, tzinfo=UTC)
    owner = uuid.uuid4()
    # (owner, ticker, days of hv_20): half an exchange's year is 126 days, half a coin's 182.
    scopes = [(None, "SHORT", 30), (owner, "SHORT", 126), (None, "LONG", 300), (None, "BTC-USD", 150)]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, email, password_hash, role, subscription_tier, is_active,"
                " created_at, updated_at) VALUES (:id, 'mig', 'mig@example.com', 'x', 'analyst', 'free', TRUE,"
                " :now, :now)"
            ),
            {"id": key(owner), "now": now},
        )
        for scope_owner, ticker, days in scopes:
            connection.execute(
                text(
                    "INSERT INTO technical_indicators (id, owner_id, ticker, date, hv_20, computed_at)"
                    " VALUES (:id, :owner, :ticker, :day, :hv, :now)"
                ),
                [
                    {"id": key(uuid.uuid4()), "owner": key(scope_owner), "ticker": ticker,
                     "day": date(2024, 1, 1) + timedelta(days=n), "hv": 0.1 + n / 1000, "now": now}
                    for n in range(days)
                ],
            )  # fmt: skip
            connection.execute(
                text(
                    "INSERT INTO latest_indicators (id, owner_id, ticker, date, close, hv_20, hv_20_year_median,"
                    " computed_at) VALUES (:id, :owner, :ticker, :day, 1, 0.5, 0.4, :now)"
                ),
                {"id": key(uuid.uuid4()), "owner": key(scope_owner), "ticker": ticker, "day": date(2024, 12, 31),
                 "now": now},
            )  # fmt: skip

    def medians() -> dict[tuple[bool, str], float | None]:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT owner_id, ticker, hv_20_year_median FROM latest_indicators")).all()
        return {(owner_id is not None, ticker): median for owner_id, ticker, median in rows}

    upgrade_to_head(url)
    assert medians() == {(False, "SHORT"): None, (True, "SHORT"): 0.4, (False, "LONG"): 0.4, (False, "BTC-USD"): None}
    command.downgrade(alembic_config(url), "0015")
    assert medians() == {
        (False, "SHORT"): pytest.approx(statistics.median(0.1 + n / 1000 for n in range(30))),
        (True, "SHORT"): 0.4,
        (False, "LONG"): 0.4,
        (False, "BTC-USD"): pytest.approx(statistics.median(0.1 + n / 1000 for n in range(150))),
    }
    engine.dispose()


def _seed_indicators_at_0009(url: URL) -> None:
    """One price row and its indicator row in the schema before 0010 (technical_indicators keyed by price_id)."""
    import uuid
    from datetime import UTC, date, datetime

    from alembic import command
    from sqlalchemy import text

    from db.migrate import alembic_config

    command.upgrade(alembic_config(url), "0009")

    def key(value: uuid.UUID) -> object:
        return value.hex if url.get_backend_name() == "sqlite" else value

    price_id, now = uuid.uuid4(), datetime.now(UTC)
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO historical_data (id, owner_id, ticker, date, open, high, low, close, adjusted_close,"
                " volume, source, last_updated) VALUES (:id, NULL, 'MIG', :day, 1, 2, 1, 1, 1, 5, 'sample', :now)"
            ),
            {"id": key(price_id), "day": date(2024, 1, 2), "now": now},
        )
        connection.execute(
            text("INSERT INTO technical_indicators (id, price_id, rsi_14, computed_at) VALUES (:id, :price, 55, :now)"),
            {"id": key(uuid.uuid4()), "price": key(price_id), "now": now},
        )
    engine.dispose()


def _assert_still_at_0009_with_its_indicators(url: URL) -> None:
    from sqlalchemy import text

    engine = create_engine(url, poolclass=NullPool)
    assert current_revision(engine) == "0009"
    assert "indicators_0010" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        kept = connection.execute(
            text(
                "SELECT hp.ticker, ti.rsi_14 FROM technical_indicators ti"
                " JOIN historical_data hp ON hp.id = ti.price_id"
            )
        ).all()
    assert kept == [("MIG", 55.0)]
    engine.dispose()


def test_a_revision_that_fails_midway_leaves_the_one_before_it_and_can_be_run_again(blank_database: URL) -> None:
    """A writer getting in between 0010's statements ("database is locked") once left indicators_0010 beside
    technical_indicators at 0009, and every later `db setup` stopped on "table indicators_0010 already exists"."""
    import sqlite3

    from sqlalchemy import Engine, event

    url = blank_database
    _seed_indicators_at_0009(url)

    def locked_after_the_first_statement(_connection, _cursor, statement: str, *_) -> None:
        if statement.lstrip().startswith("CREATE TABLE indicators_0010"):
            raise sqlite3.OperationalError("database is locked")

    event.listen(Engine, "after_cursor_execute", locked_after_the_first_statement)
    try:
        with pytest.raises(Exception, match="database is locked"):
            upgrade_to_head(url)
    finally:
        event.remove(Engine, "after_cursor_execute", locked_after_the_first_statement)

    _assert_still_at_0009_with_its_indicators(url)
    upgrade_to_head(url)
    assert current_revision(create_engine(url, poolclass=NullPool)) == head_revision()


def test_a_sqlite_migration_killed_midway_leaves_the_revision_before_it(tmp_path) -> None:
    """A process killed between a revision's statements (a power cut, an OOM kill) leaves nothing of it behind."""
    import subprocess
    import sys

    from common.config import PROJECT_ROOT

    url = URL.create("sqlite", database=str(tmp_path / "killed.db"))
    _seed_indicators_at_0009(url)
    killed_after_the_first_statement = """
import os, signal, sys
from sqlalchemy import Engine, event
from db.migrate import upgrade_to_head

@event.listens_for(Engine, "after_cursor_execute")
def die(_connection, _cursor, statement, *_):
    if statement.lstrip().startswith("CREATE TABLE indicators_0010"):
        os.kill(os.getpid(), signal.SIGKILL)

upgrade_to_head(sys.argv[1])
"""
    run = subprocess.run(
        [sys.executable, "-c", killed_after_the_first_statement, url.render_as_string()],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == -9, run.stderr

    _assert_still_at_0009_with_its_indicators(url)
    upgrade_to_head(url)
    assert current_revision(create_engine(url, poolclass=NullPool)) == head_revision()


def test_0004_downgrade_keeps_the_tickers_of_each_upload(blank_database: URL) -> None:
    """Downgrading past 0004 wrote NULL over every upload's tickers; they go back into the old column."""
    import uuid
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from alembic import command
    from sqlalchemy.dialects import postgresql

    from db.migrate import alembic_config

    url = blank_database
    command.upgrade(alembic_config(url), "0004")
    engine = create_engine(url, poolclass=NullPool)
    now = datetime.now(UTC)
    user = uuid.uuid4()
    users = sa.table(
        "users", *(sa.column(name) for name in ("username", "email", "password_hash", "role", "subscription_tier")),
        sa.column("id", sa.Uuid()), sa.column("is_active", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)), sa.column("updated_at", sa.DateTime(timezone=True)),
    )  # fmt: skip
    uploads = sa.table(
        "data_uploads", *(sa.column(name) for name in ("filename", "kind", "row_count", "status")),
        sa.column("id", sa.Uuid()), sa.column("user_id", sa.Uuid()),
        sa.column("tickers", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.column("metadata", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )  # fmt: skip
    many = ["AAAA", "BBBB", "CCCC", "DDDD", "EEEE", "FFFF", "GGGG", "HHHH"]  # 39 characters joined
    lists = {"two.csv": ["AAPL", "MSFT"], "one.csv": ["BRK-B"], "none.csv": [], "many.csv": many}
    with engine.begin() as connection:
        connection.execute(
            sa.insert(users).values(
                id=user, username="up", email="up@example.com", password_hash="x", role="analyst",
                subscription_tier="free", is_active=True, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        for filename, tickers in lists.items():
            connection.execute(
                sa.insert(uploads).values(
                    id=uuid.uuid4(), user_id=user, filename=filename, kind="prices", row_count=1, status="accepted",
                    tickers=tickers, metadata={}, created_at=now,
                )
            )  # fmt: skip

    with pytest.warns(UserWarning, match="many.csv"):
        command.downgrade(alembic_config(url), "0003")
    with engine.connect() as connection:
        columns = dict(connection.execute(sa.text("SELECT filename, ticker FROM data_uploads")).all())
    assert columns == {
        "two.csv": "AAPL,MSFT",
        "one.csv": "BRK-B",
        "none.csv": None,
        "many.csv": "AAAA,BBBB,CCCC,DDDD,EEEE,FFFF",
    }

    command.upgrade(alembic_config(url), "0004")
    with engine.connect() as connection:
        back = {
            filename: tickers
            for filename, tickers in connection.execute(sa.select(uploads.c.filename, uploads.c.tickers)).all()
        }
    assert back == {**lists, "many.csv": many[:6]}, "the whole tickers that fit the old column"
    engine.dispose()


def test_0017_puts_punycode_addresses_in_the_form_the_app_looks_up(blank_database: URL) -> None:
    """Addresses stored with a punycode domain before the app converted them were never found again, so the
    same person could register twice; two rows that become one address are left for an admin."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from common.config import load_settings
    from db.engine import create_engine_from_settings
    from db.migrate import alembic_config
    from db.repositories.invitations import find_open_invitation
    from db.repositories.users import UserInputError, create_user, get_user_by_email

    url = blank_database
    command.upgrade(alembic_config(url), "0016")
    engine = create_engine(url, poolclass=NullPool)

    def key(value: uuid.UUID) -> object:
        return value.hex if url.get_backend_name() == "sqlite" else value

    now = datetime(2026, 11, 20, tzinfo=UTC)
    with engine.begin() as connection:
        for age, (username, email) in enumerate(
            [
                ("bob", "bob@xn--bcher-kva.example"),
                ("carol", "carol@bücher.example"),
                ("carol2", "carol@xn--bcher-kva.example"),  # newer: keeps its spelling, named in a warning
                ("odd", "not an address"),
            ]
        ):
            connection.execute(
                text(
                    "INSERT INTO users (id, username, email, password_hash, role, subscription_tier, is_active,"
                    " created_at, updated_at) VALUES (:id, :username, :email, 'x', 'analyst', 'free', TRUE, :at, :at)"
                ),
                {"id": key(uuid.uuid4()), "username": username, "email": email, "at": now + timedelta(days=age)},
            )
        connection.execute(
            text("INSERT INTO invitations (id, email, created_at) VALUES (:id, 'dan@xn--bcher-kva.example', :at)"),
            {"id": key(uuid.uuid4()), "at": now},
        )

    with pytest.warns(UserWarning, match="users: the address of row .* equals another row's"):
        upgrade_to_head(url)

    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT username, email FROM users")).all())
    assert stored == {
        "bob": "bob@bücher.example",
        "carol": "carol@bücher.example",
        "carol2": "carol@xn--bcher-kva.example",
        "odd": "not an address",
    }
    app_engine = create_engine_from_settings(load_settings(), url)
    with Session(app_engine) as session:
        for spelling in ("bob@xn--bcher-kva.example", "BOB@bücher.example"):
            found = get_user_by_email(session=session, email=spelling)
            assert found is not None, spelling
            assert found.username == "bob"
        assert find_open_invitation(session=session, email="dan@xn--bcher-kva.example") is not None
        with pytest.raises(UserInputError, match="email"):
            create_user(session=session, username="bob2", email="bob@xn--bcher-kva.example", password_hash="h")
        session.rollback()
    app_engine.dispose()
    engine.dispose()
