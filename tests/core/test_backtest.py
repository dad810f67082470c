"""Backtests on crafted prices whose equity curve is known by hand."""

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestConfig, performance, run_backtest
from core.data.calendar import days_a_year
from core.risk import max_drawdown

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
    figures = performance(daily, equity, 252)
    assert figures["total_return"] == pytest.approx(1.089 - 1)
    assert figures["max_drawdown"] == pytest.approx(0.99 / 1.1 - 1)
    assert figures["sharpe"] == pytest.approx(daily.mean() / daily.std(ddof=1) * np.sqrt(252))
    assert figures["sortino"] == pytest.approx(
        daily.mean() / np.sqrt(np.mean(np.minimum(daily, 0) ** 2)) * np.sqrt(252)
    )
    assert figures["cagr"] == pytest.approx(1.089 ** (252 / 4) - 1)
    assert max_drawdown(np.array([1.0, 2.0, 3.0])) == 0.0


def test_a_drawdown_counts_from_the_starting_capital():
    # 100 -> 90 -> 81: the first day's loss is part of the fall, so the drawdown is -19 %, not -10 %.
    assert max_drawdown(np.cumprod([0.9, 0.9])) == pytest.approx(-0.19)
    assert performance(np.array([-0.1, -0.1]), np.cumprod([0.9, 0.9]), 252)["max_drawdown"] == pytest.approx(-0.19)


def test_a_coin_is_annualised_by_the_365_days_it_trades():
    # A coin that doubles over a calendar year of daily bars: its CAGR is 100 %, not 61 %.
    daily = np.full(365, 2 ** (1 / 365) - 1)
    figures = performance(daily, np.cumprod(1 + daily), days_a_year(["BTC-USD"]))
    assert figures["cagr"] == pytest.approx(1.0)
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
