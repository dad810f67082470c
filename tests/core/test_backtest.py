"""Backtests on crafted prices whose equity curve is known by hand."""

import numpy as np
import pandas as pd
import pytest

from core.analysis import backtest_evaluation
from core.backtest import BacktestConfig, performance, run_backtest
from core.data.calendar import calendar_for, days_a_year
from core.risk import max_drawdown
from db.models import BacktestResult as StoredBacktest
from db.models import Evaluation
from db.repositories.actor import Actor
from db.repositories.users import create_user

PRICES = [100.0, 110.0, 99.0, 99.0, 108.9]  # +10 %, -10 %, 0 %, +10 %


def forecast(predicted_up: list[bool]) -> pd.DataFrame:
    previous, actual = np.array(PRICES[:-1]), np.array(PRICES[1:])
    predicted = np.where(predicted_up, previous * 1.01, previous * 0.99)
    days = pd.bdate_range("2024-01-01", periods=len(PRICES))  # the day of each price
    return pd.DataFrame(
        {
            "origin_date": days[:-1],
            "date": days[1:],
            "previous_close": previous,
            "actual": actual,
            "predicted": predicted,
        }
    )


def test_long_flat_without_costs_follows_the_signal():
    result = run_backtest(forecast([True, False, False, True]), BacktestConfig(cost_bps=0), 252)
    # long on day 1 (+10 %), flat on days 2 and 3, long on day 4 (+10 %)
    np.testing.assert_allclose(result.equity["strategy"], [1.1, 1.1, 1.1, 1.21])
    np.testing.assert_allclose(result.equity["buy_and_hold"], [1.1, 0.99, 0.99, 1.089])
    assert result.metrics["trades"] == 3
    assert result.metrics["exposure"] == pytest.approx(0.5)
    assert [t["position"] for t in result.trades] == [1.0, 0.0, 1.0]
    # Each trade is made at the close of the day its forecast was made, at that close.
    assert [(t["date"], t["price"]) for t in result.trades] == [
        ("2024-01-01", 100.0), ("2024-01-02", 110.0), ("2024-01-04", 99.0),
    ]  # fmt: skip


def test_costs_and_short_positions():
    result = run_backtest(forecast([True, False, False, True]), BacktestConfig(cost_bps=100, allow_short=True), 252)
    # long +10 % - 1 %; switch to short: -(-10 %) - 2 %; short on a flat day: 0; switch to long: +10 % - 2 %
    expected = np.cumprod([1 + 0.10 - 0.01, 1 + 0.10 - 0.02, 1.0, 1 + 0.10 - 0.02])
    np.testing.assert_allclose(result.equity["strategy"], expected)
    assert result.metrics["exposure"] == pytest.approx(1.0)


def test_a_threshold_keeps_small_signals_flat():
    result = run_backtest(forecast([True, True, True, True]), BacktestConfig(threshold_bps=200, cost_bps=0), 252)
    assert result.metrics["trades"] == 0
    np.testing.assert_allclose(result.equity["strategy"], [1.0, 1.0, 1.0, 1.0])


def test_performance_figures_by_hand():
    daily = np.array([0.1, -0.1, 0.0, 0.1])
    equity = np.cumprod(1 + daily)
    figures = performance(daily, equity, 252, start=pd.Timestamp("2024-01-01"), end=pd.Timestamp("2024-01-05"))
    assert figures["total_return"] == pytest.approx(1.089 - 1)
    assert figures["max_drawdown"] == pytest.approx(0.99 / 1.1 - 1)
    # Four days are too few for any rate a year: annualised, they gave a Sharpe of 13.68 and a Sortino of 3151.
    for annual in ("cagr", "sharpe", "sortino"):
        assert np.isnan(figures[annual]), annual
    # The same four returns spread over a leap year: 4 returns a year of 366 / 365.25 calendar years.
    yearly = performance(daily, equity, 252, start=pd.Timestamp("2024-01-01"), end=pd.Timestamp("2025-01-01"))
    per_year = 4 / (366 / 365.25)
    assert yearly["cagr"] == pytest.approx(1.089 ** (365.25 / 366) - 1)
    assert yearly["sharpe"] == pytest.approx(daily.mean() / daily.std(ddof=1) * np.sqrt(per_year))
    assert yearly["sortino"] == pytest.approx(
        daily.mean() / np.sqrt(np.mean(np.minimum(daily, 0) ** 2)) * np.sqrt(per_year)
    )
    assert max_drawdown(np.array([1.0, 2.0, 3.0])) == 0.0


def test_a_drawdown_counts_from_the_starting_capital():
    # 100 -> 90 -> 81: the first day's loss is part of the fall, so the drawdown is -19 %, not -10 %.
    assert max_drawdown(np.cumprod([0.9, 0.9])) == pytest.approx(-0.19)
    two_days = {"start": pd.Timestamp("2024-01-01"), "end": pd.Timestamp("2024-01-03")}
    assert performance(np.array([-0.1, -0.1]), np.cumprod([0.9, 0.9]), 252, **two_days)["max_drawdown"] == (
        pytest.approx(-0.19)
    )


def test_a_coin_is_annualised_by_the_365_days_it_trades():
    # A coin that doubles over 365 days of daily bars: its CAGR is 100 % (of a 365.25-day year), not 61 %.
    daily = np.full(365, 2 ** (1 / 365) - 1)
    year = {"start": pd.Timestamp("2023-01-01"), "end": pd.Timestamp("2024-01-01")}
    figures = performance(daily, np.cumprod(1 + daily), days_a_year(["BTC-USD"]), **year)
    assert figures["cagr"] == pytest.approx(2 ** (365.25 / 365) - 1)
    assert days_a_year(["SPY"]) == 252
    assert days_a_year(["EURUSD=X"]) == 260
    assert days_a_year(["BTC-USD", "ETH-USD"]) == 365
    assert days_a_year(["BTC-USD", "SPY"]) == 252, "a coin beside a stock is measured on the stock's days"


def test_a_market_growing_by_the_same_ratio_every_day_has_no_sharpe_ratio():
    # The daily returns differ only by rounding (some 1e-17): divided by that, Sharpe came out 1.3e14.
    days = pd.bdate_range("2024-01-01", periods=40)
    closes = 10 * 1.001 ** np.arange(40)
    always_long = pd.DataFrame(
        {"origin_date": days[:-1], "date": days[1:], "previous_close": closes[:-1], "actual": closes[1:]}
    ).assign(predicted=lambda frame: frame["actual"])
    result = run_backtest(always_long, BacktestConfig(cost_bps=0), 252)
    assert np.isnan(result.metrics["strategy"]["sharpe"])
    assert np.isnan(result.metrics["buy_and_hold"]["sharpe"])
    assert result.metrics["strategy"]["total_return"] == pytest.approx(1.001**39 - 1)


def always_long(closes: pd.Series) -> pd.DataFrame:
    """Forecasts that each next close is 1 % up, made the day before: long from the first close to the last."""
    return pd.DataFrame(
        {
            "origin_date": closes.index[:-1],
            "date": closes.index[1:],
            "previous_close": closes.to_numpy()[:-1],
            "actual": closes.to_numpy()[1:],
            "predicted": closes.to_numpy()[:-1] * 1.01,
        }
    )


def test_a_price_growing_10_percent_a_year_on_tokyo_s_sessions_grows_10_percent_a_year():
    # Scaled by 252 returns a year, Tokyo's 245 sessions a year came out at a CAGR of 10.29 %.
    sessions = calendar_for("7203.T").sessions_in_range("2010-01-04", "2019-12-31")
    closes = pd.Series(100 * 1.1 ** ((sessions - sessions[0]).days / 365.25), index=sessions)
    result = run_backtest(always_long(closes), BacktestConfig(cost_bps=0), days_a_year(["7203.T"]))
    returns = closes.pct_change().dropna()
    per_year = len(returns) / ((sessions[-1] - sessions[0]).days / 365.25)
    for side in ("strategy", "buy_and_hold"):
        figures = result.metrics[side]
        assert figures["cagr"] == pytest.approx(0.10, rel=1e-9)
        assert figures["sharpe"] == pytest.approx(returns.mean() / returns.std() * np.sqrt(per_year), rel=1e-9)


def test_a_single_day_has_no_sharpe_sortino_or_cagr():
    # One day's 1 % loss was a Sortino of -15.87 (-sqrt(252), any all-losing sample's) and a CAGR of -92 %.
    closes = pd.Series([100.0, 99.0], index=pd.bdate_range("2024-01-01", periods=2))
    figures = run_backtest(always_long(closes), BacktestConfig(cost_bps=0), 252).metrics["strategy"]
    assert figures["total_return"] == pytest.approx(-0.01)
    assert figures["max_drawdown"] == pytest.approx(-0.01)
    assert np.isnan(figures["sharpe"])
    assert np.isnan(figures["sortino"])
    assert np.isnan(figures["cagr"])


def test_a_market_falling_by_the_same_ratio_every_day_has_no_sortino_ratio():
    closes = pd.Series(10 * 0.999 ** np.arange(200), index=pd.bdate_range("2024-01-01", periods=200))
    figures = run_backtest(always_long(closes), BacktestConfig(cost_bps=0), 252).metrics["buy_and_hold"]
    assert np.isnan(figures["sharpe"])
    assert np.isnan(figures["sortino"])
    assert figures["cagr"] < 0, "199 days span more than a quarter of a year: an annual rate says something"


@pytest.mark.parametrize(("days", "annualised"), [(4, False), (40, False), (64, False), (66, True), (120, True)])
def test_annual_figures_are_left_blank_for_a_span_under_a_quarter_of_a_year(days, annualised):
    # A quarter of a year is 63 of an exchange's sessions; an annual rate of fewer days is noise. 64 weekdays'
    # returns from a Monday span 88 days, 66 span 92. Sharpe and Sortino are rates a year as CAGR is.
    sessions = pd.bdate_range("2024-01-01", periods=days + 1)
    closes = pd.Series(
        100 * np.cumprod(np.r_[1.0, 1 + np.random.default_rng(days).normal(0, 0.01, days)]), index=sessions
    )
    metrics = run_backtest(always_long(closes), BacktestConfig(cost_bps=0), 252).metrics
    for side in ("strategy", "buy_and_hold"):
        for annual in ("cagr", "sharpe", "sortino"):
            assert np.isfinite(metrics[side][annual]) == annualised, (side, annual)
    # The rate used is stored with them, for the page to name; none when nothing was annualised.
    span_years = ((sessions[-1] - sessions[0]).days) / 365.25
    assert metrics["days_a_year"] == (pytest.approx(days / span_years, abs=0.05) if annualised else None)


def test_a_blank_cagr_is_stored_as_null(session):
    actor = Actor.of(create_user(session=session, username="bsn", email="bsn@example.com", password_hash="x"))
    closes = pd.Series([100.0, 99.0, 99.5, 101.0], index=pd.bdate_range("2024-01-01", periods=4))
    forecast = always_long(closes).assign(
        origin_date=lambda frame: frame["origin_date"].dt.strftime("%Y-%m-%d"),
        date=lambda frame: frame["date"].dt.strftime("%Y-%m-%d"),
    )
    run = Evaluation(
        user_id=actor.user_id, ticker="^GSPC", kind="walkforward", config={}, metrics={},
        windows=[{"train_until": "2024-01-01", "forecast": forecast.to_dict("records")}],
    )  # fmt: skip
    session.add(run)
    session.flush()
    _, stored = backtest_evaluation(session=session, actor=actor, evaluation_id=run.id, config=BacktestConfig())
    session.expire(stored)
    assert session.get(StoredBacktest, stored.id).metrics["strategy"]["cagr"] is None
    assert session.get(StoredBacktest, stored.id).metrics["strategy"]["sharpe"] is None
    assert session.get(StoredBacktest, stored.id).metrics["days_a_year"] is None
    assert isinstance(session.get(StoredBacktest, stored.id).metrics["strategy"]["total_return"], float)
