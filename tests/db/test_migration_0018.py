"""0018 puts stored MACD and OBV right as the app now computes them: what a recomputation would store."""

import io

import numpy as np
import pandas as pd
import pytest
import talib
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from core.data.service import import_prices
from db.migrate import alembic_config, upgrade_to_head
from db.models.market import LatestIndicators
from db.repositories.actor import Actor
from db.repositories.indicators import read_indicators
from db.repositories.users import create_user
from tests.fixtures import gspc_2018_bytes

LATEST = ("ticker", "date", "close", "rsi_14", "ema_200", "macd_hist", "hv_20", "hv_20_year_median", "macd_cross_age")


def five_for_four() -> bytes:
    """The 2018 fixture with a 5:4 split eleven days before the end; the adjusted close runs through it."""
    raw = pd.read_csv(io.BytesIO(gspc_2018_bytes()))
    raw.loc[: len(raw) - 12, ["Open", "High", "Low", "Close"]] *= 1.25
    raw.loc[: len(raw) - 12, "Volume"] = (raw.loc[: len(raw) - 12, "Volume"] * 0.8).round()
    return raw.to_csv(index=False).encode()


def screener_rows(session) -> dict[str, tuple]:
    return {row.ticker: tuple(getattr(row, c) for c in LATEST) for row in session.scalars(select(LatestIndicators))}


def test_0018_leaves_macd_and_obv_as_a_recomputation_gives_them(blank_database: URL) -> None:
    command.upgrade(alembic_config(blank_database), "0017")
    engine = create_engine(blank_database, poolclass=NullPool)
    session_of = sessionmaker(bind=engine, expire_on_commit=False)
    with session_of.begin() as session:
        actor = Actor.of(create_user(session=session, username="mig", email="mig@example.com", password_hash="x"))
        for ticker, data in (("PLAIN", gspc_2018_bytes()), ("FIVE4", five_for_four())):
            import_prices(session=session, data=data, ticker=ticker, date_format=None, skip_bad_rows=False, owner=None)
        import_prices(
            session=session, data=gspc_2018_bytes(), ticker="MINE", date_format=None, skip_bad_rows=False, owner=actor
        )
    with session_of() as session:
        # What the app stores now, for every scope: the figures 0018 must arrive at.
        expected = {t: read_indicators(session=session, actor=actor, ticker=t) for t in ("PLAIN", "FIVE4", "MINE")}
        latest = screener_rows(session)
    with engine.begin() as connection:
        # The figures stored before: TA-Lib's MACD and OBV, the 5:4 split's earlier volumes as traded.
        for ticker, values in expected.items():
            rows = connection.execute(
                text("SELECT date, close, adjusted_close, volume FROM historical_data WHERE ticker = :t ORDER BY date"),
                {"t": ticker},
            ).all()
            close = np.array([row[2] for row in rows], dtype=float)
            volume = np.array([row[3] for row in rows], dtype=float)
            line, signal, histogram = talib.MACD(close, 12, 26, 9)
            obv = talib.OBV(close, volume)
            assert not np.allclose(obv, values["obv"]), "the stored OBV differs before 0018"
            for day, *figures in zip([row[0] for row in rows], line, signal, histogram, obv, strict=True):
                connection.execute(
                    text(
                        "UPDATE technical_indicators SET macd = :m, macd_signal = :s, macd_hist = :h, obv = :o"
                        " WHERE ticker = :t AND date = :d"
                    ),
                    {
                        "t": ticker,
                        "d": day,
                        **dict(zip("msho", [None if np.isnan(f) else float(f) for f in figures], strict=True)),
                    },
                )
            connection.execute(
                text("UPDATE latest_indicators SET macd_hist = :h, macd_cross_age = 99 WHERE ticker = :t"),
                {"t": ticker, "h": float(histogram[-1])},
            )
    upgrade_to_head(blank_database)
    with session_of() as session:
        for ticker, values in expected.items():
            stored = read_indicators(session=session, actor=actor, ticker=ticker)
            for column in ("macd", "macd_signal", "macd_hist", "obv"):
                np.testing.assert_allclose(stored[column], values[column], rtol=1e-9, err_msg=f"{ticker} {column}")
        after = screener_rows(session)
    assert after.keys() == latest.keys()
    for ticker, row in latest.items():
        assert after[ticker][:2] == row[:2]
        assert after[ticker][-1] == row[-1], f"{ticker}: days since MACD crossed"
        assert after[ticker][2:-1] == pytest.approx(row[2:-1], rel=1e-9), ticker
    engine.dispose()
