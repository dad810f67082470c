"""Trading the forecasts: long/flat (or long/short) on the predicted direction, against buy-and-hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from common.errors import BadInput
from core.risk import max_drawdown, sharpe_ratio

BASIS_POINT = 1e-4


class BacktestConfigError(BadInput):
    """A backtest setting is out of range."""


@dataclass(frozen=True)
class BacktestConfig:
    threshold_bps: float = 0.0  # act only on predicted moves larger than this
    cost_bps: float = 5.0  # paid on every unit of position change
    allow_short: bool = False

    def __post_init__(self) -> None:
        if self.threshold_bps < 0 or self.cost_bps < 0:
            raise BacktestConfigError("threshold and costs must not be negative")


@dataclass
class BacktestResult:
    metrics: dict[str, Any]
    equity: pd.DataFrame  # date, strategy, buy_and_hold
    trades: list[dict[str, Any]]


def performance(daily_returns: np.ndarray, equity: np.ndarray, days_a_year: int) -> dict[str, float]:
    """Total return, CAGR, Sharpe and Sortino (risk-free 0, annualised by days_a_year), max drawdown."""
    days = len(daily_returns)
    total = float(equity[-1] - 1.0)
    years = days / days_a_year
    downside = np.sqrt(np.mean(np.minimum(daily_returns, 0.0) ** 2))
    return {
        "total_return": total,
        "cagr": float(equity[-1] ** (1 / years) - 1) if years > 0 and equity[-1] > 0 else float("nan"),
        "sharpe": sharpe_ratio(daily_returns, days_a_year),
        "sortino": float(daily_returns.mean() / downside * np.sqrt(days_a_year)) if downside > 0 else float("nan"),
        "max_drawdown": max_drawdown(equity),
    }


def run_backtest(forecast: pd.DataFrame, config: BacktestConfig, days_a_year: int) -> BacktestResult:
    """Hold on each day t the position the forecast for t+1 asks for, and score it against buy-and-hold.

    forecast has origin_date (the day t the forecast is made and the trade done, at its close),
    date (the day t+1 the position is held to), previous_close, actual and predicted; the signal
    uses only the forecast made at t.
    """
    previous = forecast["previous_close"].to_numpy(dtype=float)
    actual = forecast["actual"].to_numpy(dtype=float)
    predicted_move = np.log(forecast["predicted"].to_numpy(dtype=float) / previous)
    threshold = config.threshold_bps * BASIS_POINT
    position = np.where(predicted_move > threshold, 1.0, 0.0)
    if config.allow_short:
        position = np.where(predicted_move < -threshold, -1.0, position)
    market = actual / previous - 1.0
    changes = np.abs(np.diff(np.concatenate([[0.0], position])))
    strategy = position * market - changes * config.cost_bps * BASIS_POINT
    hold = market.copy()
    hold[0] -= config.cost_bps * BASIS_POINT  # buying once
    equity = np.cumprod(1.0 + strategy)
    hold_equity = np.cumprod(1.0 + hold)
    dates = pd.to_datetime(forecast["date"])
    traded_on = pd.to_datetime(forecast["origin_date"])
    trades = [
        {"date": str(traded_on.iloc[i].date()), "position": float(position[i]), "price": float(previous[i])}
        for i in np.flatnonzero(changes)
    ]
    metrics = {
        "strategy": performance(strategy, equity, days_a_year),
        "buy_and_hold": performance(hold, hold_equity, days_a_year),
        "trades": len(trades),
        "exposure": float(np.mean(position != 0)),
        "days": len(position),
    }
    equity_frame = pd.DataFrame(
        {"date": dates.dt.strftime("%Y-%m-%d"), "strategy": equity, "buy_and_hold": hold_equity}
    )
    return BacktestResult(metrics=metrics, equity=equity_frame, trades=trades)
