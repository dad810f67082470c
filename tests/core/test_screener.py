"""The screener on crafted indicator histories, and over the database in one query."""

import numpy as np
import pandas as pd
import pytest

from core.data.frames import normalise_provider_frame
from core.indicator_store import refresh_indicators
from core.screener import Criteria, screen, screen_frame
from db.repositories.actor import Actor
from db.repositories.indicators import read_indicators
from db.repositories.prices import upsert_prices
from db.repositories.users import create_user
from tests.fixtures import gspc_2018_frame
from tests.queries import recorded_statements

DAYS = 30


def history(ticker, *, rsi=50.0, close=100.0, ema_200=90.0, hv=0.2, hv_past=0.2, macd_hist=None):
    dates = pd.bdate_range("2024-01-01", periods=DAYS)
    histogram = macd_hist if macd_hist is not None else [1.0] * DAYS
    return pd.DataFrame(
        {
            "ticker": ticker,
            "date": dates,
            "close": close,
            "rsi_14": rsi,
            "ema_200": ema_200,
            "macd_hist": histogram,
            "hv_20": [hv_past] * (DAYS - 1) + [hv],
        }
    )


@pytest.fixture
def window():
    cross = [-1.0] * (DAYS - 3) + [0.5, 0.7, 0.9]  # crossed up three days ago
    old_cross = [-1.0] * 5 + [1.0] * (DAYS - 5)  # crossed long ago
    return pd.concat(
        [
            history("OVERSOLD", rsi=25.0, close=80.0, ema_200=90.0),
            history("TREND", rsi=60.0, close=120.0, ema_200=100.0, macd_hist=cross),
            history("CALM", rsi=45.0, hv=0.1, hv_past=0.3, macd_hist=old_cross),
            history("WILD", rsi=75.0, hv=0.6, hv_past=0.3),
        ]
    )


def matched(window, **criteria) -> list[str]:
    return sorted(screen_frame(window, Criteria(**criteria))["ticker"])


def test_each_condition(window):
    assert matched(window, rsi_below=30) == ["OVERSOLD"]
    assert matched(window, rsi_above=70) == ["WILD"]
    assert matched(window, close_above_ema200=True) == ["CALM", "TREND", "WILD"]
    assert matched(window, close_below_ema200=True) == ["OVERSOLD"]
    assert matched(window, macd_crossed_up_within=5) == ["TREND"]
    assert matched(window, macd_crossed_up_within=2) == []
    assert matched(window, hv_above_year_median=True) == ["WILD"]


def test_conditions_combine(window):
    assert matched(window, close_above_ema200=True, rsi_above=55) == ["TREND", "WILD"]
    assert matched(window) == ["CALM", "OVERSOLD", "TREND", "WILD"]


def test_matches_carry_latest_values_and_a_sparkline(window):
    result = screen_frame(window, Criteria(rsi_below=30))
    row = result.iloc[0]
    assert (row["ticker"], row["rsi_14"], row["close"]) == ("OVERSOLD", 25.0, 80.0)
    assert row["recent"] == [80.0] * DAYS


def test_nan_indicators_never_match():
    data = history("NEW", rsi=np.nan)
    assert matched(data, rsi_below=30) == []


def test_describe():
    assert Criteria(rsi_below=30, close_above_ema200=True).describe() == ["RSI < 30", "close above EMA 200"]


def test_screen_over_the_database_reads_latest_rows_then_the_matches(session, engine, monkeypatch):
    actor = Actor.of(create_user(session=session, username="sia", email="sia@example.com", password_hash="x"))
    bars = normalise_provider_frame(gspc_2018_frame()).frame
    for ticker, scale in (("AAA", 1.0), ("BBB", 0.5)):
        upsert_prices(
            session=session,
            frame=bars.assign(**{c: bars[c] * scale for c in ("open", "high", "low", "close", "adjusted_close")}),
            ticker=ticker,
            owner_id=None,
            source="yahoo",
        )
        refresh_indicators(session=session, ticker=ticker, owner_id=None)
    import db.repositories.indicators as repository
    import db.repositories.prices as prices

    with recorded_statements(engine, monkeypatch, repository, prices) as statements:
        result = screen(session=session, actor=actor, criteria=Criteria(close_below_ema200=True))
    # One read of the screened rows, then the matches' prices and actions for their quality flags.
    assert len(statements) == 3
    assert "latest_indicators" in statements[0].lower()
    assert {"AAA", "BBB"} <= set(result["ticker"])  # 2018 closed below its 200-day EMA
    stored = read_indicators(session=session, actor=actor, ticker="AAA")
    assert stored["rsi_14"].iloc[-1] == pytest.approx(result.set_index("ticker").loc["AAA", "rsi_14"])


def test_matches_with_data_problems_are_marked(session):
    actor = Actor.of(create_user(session=session, username="qia", email="qia@example.com", password_hash="x"))
    bars = normalise_provider_frame(gspc_2018_frame()).frame
    silent = bars.copy()
    silent.loc[silent.index[100:103], "volume"] = 0
    for ticker, frame in (("CLEANQ", bars), ("SILENTQ", silent)):
        upsert_prices(session=session, frame=frame, ticker=ticker, owner_id=None, source="yahoo")
        refresh_indicators(session=session, ticker=ticker, owner_id=None)
    result = screen(session=session, actor=actor, criteria=Criteria()).set_index("ticker")
    assert result.loc["CLEANQ", "data problems"] is None
    assert result.loc["SILENTQ", "data problems"].startswith("3 days with zero volume: ")
    assert result.loc["SILENTQ", "recent"] == pytest.approx(bars["close"].tail(60).round(4).tolist())
