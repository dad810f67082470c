"""Trading the forecasts: long/flat (or long/short) on the predicted direction, against buy-and-hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from common.errors import BadInput
from core.risk import (
    annualisation_rate,
    max_drawdown,
    sharpe_ratio,
    shown_days_a_year,
    varies,
)

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


def performance(
    daily_returns: np.ndarray,
    equity: np.ndarray,
    days_a_year: float,
    *,
    start: date | pd.Timestamp,
    end: date | pd.Timestamp,
) -> dict[str, float]:
    """Total return, CAGR, Sharpe (risk-free rate 0) and Sortino (target return 0), max drawdown.

    start: the day the first position is taken (the close the first return is measured from); end: the
    last return's day. Annualised by the returns a year of that span (core.risk.annualisation_rate, whose rule
    blanks the risk report's Sharpe too). Over a span under a quarter of a year CAGR, Sharpe and Sortino are
    all left blank: a rate a year of a few days is noise (one day's 1 % loss was -92 % a year, four days a
    Sharpe of 13.7 and a Sortino of 3151). Sharpe and Sortino are blank for returns that do not vary too.
    """
    nothing = float("nan")
    cagr = sharpe = sortino = nothing
    per_year = annualisation_rate(len(daily_returns), start, end, days_a_year)
    if per_year is not None:
        cagr = float(equity[-1] ** (per_year / len(daily_returns)) - 1) if equity[-1] > 0 else nothing
        sharpe = sharpe_ratio(daily_returns, per_year)
        downside = np.sqrt(np.mean(np.minimum(daily_returns, 0.0) ** 2))
        if varies(daily_returns) and downside > 0:
            sortino = float(daily_returns.mean() / downside * np.sqrt(per_year))
    return {
        "total_return": float(equity[-1] - 1.0),
        "cagr": cagr,
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": max_drawdown(equity),
    }


def run_backtest(forecast: pd.DataFrame, config: BacktestConfig, days_a_year: float) -> BacktestResult:
    """Hold on each day t the position the forecast for t+1 asks for, and score it against buy-and-hold.

    forecast has origin_date (the day t the forecast is made and the trade done, at its close),
    date (the day t+1 the position is held to), previous_close, actual and predicted; the signal
    uses only the forecast made at t. days_a_year: the markets' convention, for spans too short to count
    the returns a year (see performance).
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
    span = {"start": traded_on.iloc[0], "end": dates.iloc[-1]}
    rate = annualisation_rate(len(position), span["start"], span["end"], days_a_year)
    metrics = {
        "strategy": performance(strategy, equity, days_a_year, **span),
        "buy_and_hold": performance(hold, hold_equity, days_a_year, **span),
        "trades": len(trades),
        "exposure": float(np.mean(position != 0)),
        "days": len(position),
        # The rate the page names; None: the span is under a quarter of a year and nothing is annualised.
        "days_a_year": None if rate is None else shown_days_a_year(rate),
    }
    equity_frame = pd.DataFrame(
        {"date": dates.dt.strftime("%Y-%m-%d"), "strategy": equity, "buy_and_hold": hold_equity}
    )
    return BacktestResult(metrics=metrics, equity=equity_frame, trades=trades)
