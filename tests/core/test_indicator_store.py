"""Stored indicators follow the prices: computed on import, brought up to date when prices change."""

import io
from datetime import date

import numpy as np
import pandas as pd
import pytest
import talib
from sqlalchemy import func, select

from core.data.service import delete_ticker, import_prices
from core.indicator_store import latest_rows, refresh_indicators
from core.indicator_view import IndicatorParams, indicator_view
from core.indicators import compute_all
from db.models import HistoricalPrice, TechnicalIndicator
from db.models.accounts import Role
from db.models.market import LatestIndicators
from db.repositories.actor import Actor
from db.repositories.indicators import INDICATOR_COLUMNS, read_indicators
from db.repositories.prices import delete_prices, read_prices, upsert_prices
from db.repositories.users import create_user
from tests.fixtures import gspc_2018_bytes


@pytest.fixture
def actor(session):
    return Actor.of(create_user(session=session, username="ivy", email="ivy@example.com", password_hash="x"))


def import_fixture(session, ticker: str = "IND", owner=None) -> None:
    import_prices(
        session=session, data=gspc_2018_bytes(), ticker=ticker, date_format=None, skip_bad_rows=False, owner=owner
    )


def test_an_import_stores_indicators_for_every_row(session, actor):
    import_fixture(session)
    stored = read_indicators(session=session, actor=actor, ticker="IND")
    prices = read_prices(session=session, actor=actor, ticker="IND")
    assert len(stored) == len(prices) == 251
    reference = talib.RSI(prices["close"].to_numpy(), 14)
    assert stored["rsi_14"].iloc[-1] == pytest.approx(reference[-1], abs=1e-9)
    assert stored["rsi_14"].iloc[:14].isna().all()


def test_changed_prices_bring_indicators_up_to_date(session, actor):
    import_fixture(session)
    prices = read_prices(session=session, actor=actor, ticker="IND")
    last = prices.iloc[-1]
    changed = prices.tail(1).assign(
        close=last["close"] * 1.1, adjusted_close=last["close"] * 1.1, high=last["high"] * 1.1
    )
    upsert_prices(session=session, frame=changed, ticker="IND", owner_id=None, source="upload")
    rewritten = refresh_indicators(session=session, ticker="IND", owner_id=None)
    assert rewritten == 1, "only the changed day's indicators change"
    stored = read_indicators(session=session, actor=actor, ticker="IND")
    assert stored["rsi_14"].iloc[-1] > 60
    assert refresh_indicators(session=session, ticker="IND", owner_id=None) == 0


def test_a_users_upload_gets_its_own_indicators(session, actor):
    import_fixture(session, "MINE", owner=actor)
    count = session.scalar(select(func.count()).select_from(TechnicalIndicator))
    assert count >= 251
    assert len(read_indicators(session=session, actor=actor, ticker="MINE")) == 251


def test_the_view_keeps_the_warm_up_out_of_a_short_range(session, actor):
    import_fixture(session)
    import datetime

    view = indicator_view(
        session=session,
        actor=actor,
        ticker="IND",
        start=datetime.date(2018, 12, 1),
        end=None,
        params=IndicatorParams(),
    )
    assert view["date"].min() == datetime.datetime(2018, 12, 3)
    assert view["rsi_14"].notna().all()
    assert view["ema_50"].notna().all()
    with pytest.raises(ValueError, match="macd_fast must be below macd_slow"):
        indicator_view(
            session=session,
            actor=actor,
            ticker="IND",
            start=None,
            end=None,
            params=IndicatorParams(macd_fast=40),
        )


def test_warm_up_values_are_stored_as_null_not_nan(session, actor):
    import_fixture(session, "WARM")
    prices = read_prices(session=session, actor=actor, ticker="WARM")
    missing = (
        select(func.count())
        .select_from(TechnicalIndicator)
        .where(TechnicalIndicator.ticker == "WARM", TechnicalIndicator.rsi_14.is_(None))
    )
    assert len(prices) == 251
    assert session.scalar(missing) == 14
    ema_200_missing = select(func.count()).where(
        TechnicalIndicator.ticker == "WARM", TechnicalIndicator.ema_200.is_(None)
    )
    assert session.scalar(ema_200_missing) == 199


def _stored(session, model, ticker: str) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.ticker == ticker))


def test_deleting_a_tickers_prices_deletes_its_indicators_in_that_scope_only(session, actor):
    import_fixture(session, "GONE")
    import_fixture(session, "GONE", owner=actor)
    assert _stored(session, TechnicalIndicator, "GONE") == 2 * 251
    assert _stored(session, LatestIndicators, "GONE") == 2

    assert delete_prices(session=session, ticker="GONE", owner_id=actor.user_id) == 251
    assert _stored(session, TechnicalIndicator, "GONE") == 251
    assert _stored(session, LatestIndicators, "GONE") == 1
    assert delete_prices(session=session, ticker="GONE", owner_id=None) == 251
    assert _stored(session, TechnicalIndicator, "GONE") == 0
    assert _stored(session, LatestIndicators, "GONE") == 0
    assert _stored(session, HistoricalPrice, "GONE") == 0


def test_the_latest_row_matches_the_stored_history(session, actor):
    import_fixture(session, "LAST")
    stored = read_indicators(session=session, actor=actor, ticker="LAST")
    prices = read_prices(session=session, actor=actor, ticker="LAST")
    latest = session.execute(select(LatestIndicators).where(LatestIndicators.ticker == "LAST")).scalar_one()
    assert latest.date == prices["date"].iloc[-1].date()
    assert latest.close == pytest.approx(prices["close"].iloc[-1])
    assert latest.rsi_14 == pytest.approx(stored["rsi_14"].iloc[-1])
    assert latest.hv_20_year_median == pytest.approx(stored["hv_20"].median())
    histogram = stored["macd_hist"].to_numpy()
    crosses = [i for i in range(1, len(histogram)) if histogram[i] > 0 and histogram[i - 1] <= 0]
    assert latest.macd_cross_age == len(histogram) - 1 - crosses[-1]


def test_a_first_import_stores_what_a_recomputation_from_the_table_gives(session, actor):
    import_fixture(session, "FIRST")
    assert refresh_indicators(session=session, ticker="FIRST", owner_id=None) == 0


def test_the_screener_reads_indicators_across_a_split_the_adjusted_close_runs_through(session, actor):
    # A 2:1 split eleven days before the end, in the raw prices only: read raw, the 20-day volatility
    # would hold a -69 % day and the close would sit far below its EMA 200 for months.
    raw = pd.read_csv(io.BytesIO(gspc_2018_bytes()))
    raw.loc[: len(raw) - 12, ["Open", "High", "Low", "Close"]] *= 2
    import_fixture(session, "WHOLE")
    import_prices(
        session=session,
        data=raw.to_csv(index=False).encode(),
        ticker="HALVED",
        date_format=None,
        skip_bad_rows=False,
        owner=None,
    )
    rows = {
        row.ticker: row
        for row in session.execute(select(LatestIndicators).where(LatestIndicators.ticker.in_(["WHOLE", "HALVED"])))
        .scalars()
        .all()
    }
    for column in ("close", "rsi_14", "ema_200", "macd_hist", "hv_20", "hv_20_year_median"):
        assert getattr(rows["HALVED"], column) == pytest.approx(getattr(rows["WHOLE"], column), rel=1e-9), column


def import_rows(session, ticker: str, rows: slice, owner=None) -> None:
    """Some of the 2018 fixture's days, as a file holding only them."""
    part = pd.read_csv(io.BytesIO(gspc_2018_bytes())).iloc[rows]
    import_prices(
        session=session,
        data=part.to_csv(index=False).encode(),
        ticker=ticker,
        date_format=None,
        skip_bad_rows=False,
        owner=owner,
    )


def screener_row(session, ticker: str, owner_id) -> LatestIndicators:
    scope = LatestIndicators.owner_id.is_(None) if owner_id is None else LatestIndicators.owner_id == owner_id
    return session.execute(select(LatestIndicators).where(LatestIndicators.ticker == ticker, scope)).scalar_one()


def assert_same_row(own: LatestIndicators, shared: LatestIndicators) -> None:
    assert (own.date, own.macd_cross_age) == (shared.date, shared.macd_cross_age)
    for column in ("close", "rsi_14", "ema_200", "macd_hist", "hv_20", "hv_20_year_median"):
        assert getattr(own, column) == pytest.approx(getattr(shared, column), rel=1e-9), column


def test_an_upload_of_recent_days_over_shared_prices_screens_on_the_history_its_chart_shows(session, actor):
    # The chart lays the user's 40 days over the shared year; an EMA 200 of their 40 days alone is no value.
    import_fixture(session, "LAYER")
    import_rows(session, "LAYER", slice(-40, None), owner=actor)
    assert_same_row(screener_row(session, "LAYER", actor.user_id), screener_row(session, "LAYER", None))


def test_shared_days_after_an_older_upload_move_its_screener_row_on(session, actor):
    import_rows(session, "AHEAD", slice(0, 150), owner=actor)
    assert screener_row(session, "AHEAD", actor.user_id).date < date(2018, 12, 31)
    import_fixture(session, "AHEAD")
    assert_same_row(screener_row(session, "AHEAD", actor.user_id), screener_row(session, "AHEAD", None))


def test_deleting_shared_prices_leaves_an_upload_screened_on_its_own_days(session, actor):
    import_fixture(session, "SHRUNK")
    import_rows(session, "SHRUNK", slice(0, 150), owner=actor)
    admin = create_user(session=session, username="root", email="root@example.com", password_hash="x", role=Role.ADMIN)
    delete_ticker(session=session, actor=Actor.of(admin), ticker="SHRUNK", shared=True)
    own = read_prices(session=session, actor=actor, ticker="SHRUNK")
    assert len(own) == 150
    assert screener_row(session, "SHRUNK", actor.user_id).date == own["date"].iloc[-1].date()
    assert len(read_indicators(session=session, actor=actor, ticker="SHRUNK")) == 150


@pytest.mark.parametrize("ticker", ["NA", "NULL", "NAN"])
def test_tickers_spelled_like_a_missing_value_are_read_back_as_themselves(session, actor, ticker):
    # Nano Labs trades as NA: a reader taking "NA" for a missing value loses the ticker of every row.
    import_fixture(session, ticker)
    import_fixture(session, ticker)
    assert len(read_indicators(session=session, actor=actor, ticker=ticker)) == 251
    assert screener_row(session, ticker, None).date == date(2018, 12, 31)


def test_the_end_of_the_macd_warm_up_is_no_cross():
    # A steady climb has a positive histogram from its first value on: nothing crossed, whatever came before.
    days = pd.bdate_range("2024-01-02", periods=60)
    close = np.linspace(100, 130, len(days))
    bars = {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1e6}
    history = pd.DataFrame({"ticker": "UP", "date": days, **bars})
    values = compute_all(history.drop(columns=["ticker", "date"]))
    assert (values["macd_hist"].dropna() > 0).all()
    row = latest_rows(pd.concat([history[["ticker", "date", "close"]], values], axis=1)).iloc[0]
    assert pd.isna(row["macd_cross_age"])


def coin_history(days: int = 500) -> bytes:
    """A coin's daily bars, weekends included, as a CSV upload."""
    rng = np.random.default_rng(7)
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    close = 20_000 * np.exp(np.cumsum(rng.normal(0, 0.03, days)))
    frame = pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Open": close, "High": close * 1.01,
                          "Low": close * 0.99, "Close": close, "Volume": 1_000})  # fmt: skip
    return frame.to_csv(index=False).encode()


@pytest.mark.parametrize(("ticker", "days_a_year"), [("BTC-USD", 365), ("IND", 252)])
def test_volatility_is_annualised_by_the_markets_own_year(session, actor, ticker, days_a_year):
    """A coin trades every day: its year is 365 daily returns, and 252 would understate it by a sixth."""
    import_prices(
        session=session, data=coin_history(), ticker=ticker, date_format=None, skip_bad_rows=False, owner=None
    )
    prices = read_prices(session=session, actor=actor, ticker=ticker)
    returns = np.diff(np.log(prices["close"].to_numpy()))
    expected = returns[-20:].std(ddof=1) * np.sqrt(days_a_year)
    stored = read_indicators(session=session, actor=actor, ticker=ticker)
    assert stored["hv_20"].iloc[-1] == pytest.approx(expected, rel=1e-9)
    view = indicator_view(session=session, actor=actor, ticker=ticker, start=None, end=None, params=IndicatorParams())
    assert view["hv_20"].iloc[-1] == pytest.approx(expected, rel=1e-9)
    latest = session.execute(select(LatestIndicators).where(LatestIndicators.ticker == ticker)).scalar_one()
    assert latest.hv_20 == pytest.approx(expected, rel=1e-9)
    assert latest.hv_20_year_median == pytest.approx(stored["hv_20"].tail(days_a_year).median(), rel=1e-9)


def test_each_ticker_of_one_file_is_stored_as_its_split_adjusted_chart_shows_it(session, actor):
    """One file of two tickers: a split in one once counted the other's earlier volumes in split shares too."""
    unsplit = pd.read_csv(io.BytesIO(gspc_2018_bytes()))
    split = unsplit.copy()
    split.loc[: len(split) - 12, ["Open", "High", "Low", "Close"]] *= 2  # 2:1, the adjusted close runs through
    both = pd.concat([unsplit.assign(Ticker="PLAINQ"), split.assign(Ticker="SPLITQ")])
    result = import_prices(
        session=session, data=both.to_csv(index=False).encode(), ticker=None, date_format=None,
        skip_bad_rows=False, owner=None,
    )  # fmt: skip
    assert sorted(result.tickers) == ["PLAINQ", "SPLITQ"]
    for ticker in ("PLAINQ", "SPLITQ"):
        stored = read_indicators(session=session, actor=actor, ticker=ticker)
        chart = indicator_view(
            session=session, actor=actor, ticker=ticker, start=None, end=None, params=IndicatorParams(), adjusted=True
        )
        for column in INDICATOR_COLUMNS:
            np.testing.assert_allclose(stored[column], chart[column], rtol=1e-9, err_msg=f"{ticker} {column}")


def test_an_upload_without_adjusted_closes_over_split_days_screens_as_the_shared_prices_do(session, actor):
    """Shared prices with a 2:1 split eleven days before the end; the user uploads five pre-split days as
    traded, with no adjusted close column. The import stores their close as their adjusted close: laid over
    the shared adjusted days, those five once stood at twice the price (an RSI of 93 and an HV of 246 %)."""
    raw = pd.read_csv(io.BytesIO(gspc_2018_bytes()))
    raw.loc[: len(raw) - 12, ["Open", "High", "Low", "Close"]] *= 2
    import_prices(
        session=session, data=raw.to_csv(index=False).encode(), ticker="SPLT", date_format=None,
        skip_bad_rows=False, owner=None,
    )  # fmt: skip
    traded = raw.iloc[225:230].drop(columns=["Adj Close"])
    result = import_prices(
        session=session, data=traded.to_csv(index=False).encode(), ticker="SPLT", date_format=None,
        skip_bad_rows=False, owner=actor,
    )  # fmt: skip
    assert "no adjusted close column: the close is used" in result.notes
    assert_same_row(screener_row(session, "SPLT", actor.user_id), screener_row(session, "SPLT", None))
    other = Actor.of(create_user(session=session, username="jon", email="jon@example.com", password_hash="x"))
    views = [
        indicator_view(
            session=session, actor=who, ticker="SPLT", start=None, end=None, params=IndicatorParams(), adjusted=True
        )
        for who in (actor, other)
    ]
    for column in ("open", "high", "low", "close", "volume", *INDICATOR_COLUMNS):
        np.testing.assert_allclose(views[0][column], views[1][column], rtol=1e-9, err_msg=column)
    stored = read_indicators(session=session, actor=actor, ticker="SPLT")
    for column in INDICATOR_COLUMNS:
        np.testing.assert_allclose(stored[column], views[0][column], rtol=1e-9, err_msg=column)


def test_an_upload_of_already_adjusted_closes_without_the_column_keeps_them(session, actor):
    """The user's close is the shared adjusted close (split-adjusted prices from another source): no further factor."""
    raw = pd.read_csv(io.BytesIO(gspc_2018_bytes()))
    adjusted = raw.iloc[225:230].drop(columns=["Adj Close"])
    raw.loc[: len(raw) - 12, ["Open", "High", "Low", "Close"]] *= 2
    import_prices(
        session=session, data=raw.to_csv(index=False).encode(), ticker="SPLA", date_format=None,
        skip_bad_rows=False, owner=None,
    )  # fmt: skip
    import_prices(
        session=session, data=adjusted.to_csv(index=False).encode(), ticker="SPLA", date_format=None,
        skip_bad_rows=False, owner=actor,
    )  # fmt: skip
    assert_same_row(screener_row(session, "SPLA", actor.user_id), screener_row(session, "SPLA", None))
    view = indicator_view(
        session=session, actor=actor, ticker="SPLA", start=None, end=None, params=IndicatorParams(), adjusted=True
    )
    np.testing.assert_allclose(view["close"].iloc[225:230], adjusted["Close"], rtol=1e-9)
