"""Risk of a ticker or a weighted portfolio: volatility, VaR and CVaR, Sharpe, drawdown, beta, scenarios."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from common.errors import BadInput

LEVELS = (0.95, 0.99)


def max_drawdown(equity: np.ndarray) -> float:
    """The deepest fall from a running peak, as a negative fraction (0 when it only rose).

    equity: the value after each day of a capital of 1; the 1 before the first day is a peak too,
    or a loss on the first day would not count.
    """
    equity = np.concatenate([[1.0], np.asarray(equity, dtype=float)])
    peaks = np.maximum.accumulate(equity)
    return float(np.min(equity / peaks - 1.0))


def historical_var(returns: np.ndarray, level: float) -> float:
    """The loss (positive) not exceeded on `level` of days, from the returns themselves."""
    return float(-np.quantile(np.asarray(returns, dtype=float), 1 - level))


def historical_cvar(returns: np.ndarray, level: float) -> float:
    """The average loss on the days beyond the VaR."""
    returns = np.asarray(returns, dtype=float)
    tail = returns[returns <= -historical_var(returns, level)]
    return float(-tail.mean())


def parametric_var(returns: np.ndarray, level: float) -> float:
    """VaR of a normal distribution with the returns' mean and deviation."""
    returns = np.asarray(returns, dtype=float)
    return float(-(returns.mean() + norm.ppf(1 - level) * returns.std(ddof=1)))


def parametric_cvar(returns: np.ndarray, level: float) -> float:
    returns = np.asarray(returns, dtype=float)
    alpha = 1 - level
    return float(-(returns.mean() - returns.std(ddof=1) * norm.pdf(norm.ppf(alpha)) / alpha))


# Daily returns are ratios of prices near 1, each rounded to about 1e-16: a deviation below this is rounding.
NEGLIGIBLE_DEVIATION = 1e-12


def varies(daily_returns: np.ndarray) -> bool:
    """Whether two returns or more differ by more than rounding: only then is a ratio to their deviation a figure."""
    daily_returns = np.asarray(daily_returns, dtype=float)
    if len(daily_returns) < 2:
        return False
    # A price growing by the same ratio every day has returns apart by rounding alone: Sharpe 1e13 otherwise.
    return bool(daily_returns.std(ddof=1) > NEGLIGIBLE_DEVIATION * max(1.0, abs(daily_returns.mean())))


def sharpe_ratio(daily_returns: np.ndarray, days_a_year: float) -> float:
    """Mean daily return over its deviation (risk-free 0), annualised; NaN for returns that do not vary."""
    daily_returns = np.asarray(daily_returns, dtype=float)
    if not varies(daily_returns):
        return float("nan")
    return float(daily_returns.mean() / daily_returns.std(ddof=1) * np.sqrt(days_a_year))


DAYS_A_CALENDAR_YEAR = 365.25
# A quarter of a year (63 of an exchange's sessions): over fewer days, returns a year are counted from a few
# weekends and holidays, and a rate a year of them is noise.
SHORTEST_SPAN_YEARS = 0.25


def years_between(start: date | pd.Timestamp, end: date | pd.Timestamp) -> float:
    """Calendar years from start to end."""
    return (pd.Timestamp(end) - pd.Timestamp(start)).days / DAYS_A_CALENDAR_YEAR


def periods_per_year(
    returns: int, start: date | pd.Timestamp, end: date | pd.Timestamp, *, days_a_year: float
) -> float:
    """The returns a year annualised figures scale by: those observed, per calendar year of their span.

    start is the day before the first return (the close it is measured from), end the day of the last.
    Scaled so, a price growing 10 % a calendar year is 10 % a year whatever days its markets trade: 252 a
    year overstated it on Tokyo's 245 sessions, and on the 237 that Tokyo and New York share.
    Over a span shorter than SHORTEST_SPAN_YEARS (a quarter of a year) the count says little (two returns
    over a weekend would be 243 a year): the markets' convention, days_a_year, is returned instead.
    """
    years = years_between(start, end)
    if years < SHORTEST_SPAN_YEARS:
        return float(days_a_year)
    return returns / years


def long_enough_to_annualise(start: date | pd.Timestamp | str, end: date | pd.Timestamp | str) -> bool:
    """Whether returns from start to end span the quarter of a year (SHORTEST_SPAN_YEARS) a rate a year needs.

    The one rule by which a backtest's CAGR, Sharpe and Sortino and the risk report's Sharpe are left blank: an
    annual rate of a few days is noise (four days gave a Sharpe of 13.7, 29 days one of -0.40).
    """
    return years_between(pd.Timestamp(start), pd.Timestamp(end)) >= SHORTEST_SPAN_YEARS


def annualisation_rate(
    returns: int, start: date | pd.Timestamp, end: date | pd.Timestamp, days_a_year: float
) -> float | None:
    """The returns a year a rate a year of these returns scales by (periods_per_year); None under a quarter of
    a year (long_enough_to_annualise), where no rate a year is given."""
    if not long_enough_to_annualise(start, end):
        return None
    return periods_per_year(returns, start, end, days_a_year=days_a_year)


def beta(returns: pd.Series, benchmark: pd.Series) -> float:
    joined = pd.concat([returns, benchmark], axis=1, join="inner").dropna()
    if len(joined) < 3 or joined.iloc[:, 1].var() == 0:
        return float("nan")
    return float(joined.cov().iloc[0, 1] / joined.iloc[:, 1].var())


def held_weights(weights: dict[str, float]) -> dict[str, float]:
    """The weights above 0, once all are checked: a ticker of weight 0 is not held and plays no part."""
    if sum(weights.values()) <= 0 or any(w < 0 for w in weights.values()):
        raise RiskError("weights must be non-negative and sum to more than 0")
    return {ticker: weight for ticker, weight in weights.items() if weight > 0}


def portfolio_returns(closes: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Daily simple returns of a portfolio rebalanced to `weights` every day, on the days all tickers it holds trade."""
    weights = held_weights(weights)
    total = sum(weights.values())
    returns = closes[list(weights)].dropna().pct_change().dropna()
    return returns @ pd.Series({ticker: w / total for ticker, w in weights.items()})


def bootstrap_paths(returns: np.ndarray, days: int, paths: int, seed: int = 7) -> np.ndarray:
    """Value paths starting at 1 from days drawn with replacement out of the history: shape (paths, days)."""
    rng = np.random.default_rng(seed)
    draws = rng.choice(np.asarray(returns, dtype=float), size=(paths, days), replace=True)
    return np.cumprod(1.0 + draws, axis=1)


def shown_days_a_year(per_year: float) -> float | int:
    """Returns a year to one decimal, a whole number without one: 251.6, 252 (the convention)."""
    rounded = round(per_year, 1)
    return int(rounded) if rounded.is_integer() else rounded


class RiskError(BadInput):
    """The portfolio cannot be measured: weights that do not add up to a portfolio, too little history."""


@dataclass
class RiskReport:
    metrics: dict[str, Any]
    correlation: pd.DataFrame
    fan: pd.DataFrame  # day, p05, p25, p50, p75, p95


def risk_report(
    closes: pd.DataFrame,
    weights: dict[str, float],
    *,
    days_a_year: int,
    benchmark: pd.Series | None = None,
    horizon: int | None = None,
    paths: int = 2000,
) -> RiskReport:
    """Every risk figure for a portfolio (one ticker is a portfolio of one) over the days its tickers all trade.

    A ticker of weight 0 is not held: it neither shortens the days nor shows in the correlation.
    benchmark: the adjusted closes of the ticker beta is measured against, named after it. Only beta
    reads it, from the closes of the days both have: the portfolio's own figures keep all of their history.
    days_a_year: the markets' convention, what annualised figures scale by over a span too short to count
    the returns a year (periods_per_year); the scenarios look one year of returns ahead unless horizon says.
    Over such a span Sharpe is blank, as a backtest's is (annualisation_rate): a deviation of a few weeks'
    returns is still a deviation, their mean return a year is noise.
    """
    weights = held_weights(weights)
    closes = closes[list(weights)].dropna()
    if len(closes) < 30:
        raise RiskError(f"too little common history: {len(closes)} days, at least 30 are needed")
    returns = portfolio_returns(closes, weights)
    daily = returns.to_numpy()
    equity = np.cumprod(1.0 + daily)
    deviation = daily.std(ddof=1)
    per_year = periods_per_year(len(daily), closes.index[0], closes.index[-1], days_a_year=days_a_year)
    sharpe_per_year = annualisation_rate(len(daily), closes.index[0], closes.index[-1], days_a_year)
    metrics: dict[str, Any] = {
        "days": len(daily),
        "start": str(pd.Timestamp(closes.index[0]).date()),
        "end": str(pd.Timestamp(closes.index[-1]).date()),
        "days_a_year": shown_days_a_year(per_year),
        "annualised_volatility": float(deviation * np.sqrt(per_year)),
        "annualised_return": float((equity[-1]) ** (per_year / len(daily)) - 1),
        "sharpe": float("nan") if sharpe_per_year is None else sharpe_ratio(daily, sharpe_per_year),
        "max_drawdown": max_drawdown(equity),
    }
    for level in LEVELS:
        key = f"{round(level * 100)}"
        metrics[f"var_historical_{key}"] = historical_var(daily, level)
        metrics[f"cvar_historical_{key}"] = historical_cvar(daily, level)
        metrics[f"var_parametric_{key}"] = parametric_var(daily, level)
        metrics[f"cvar_parametric_{key}"] = parametric_cvar(daily, level)
    if benchmark is not None:
        # Closes first, returns after: each side's returns taken on its own days set a coin's Sunday-to-Monday
        # move beside an index's Friday-to-Monday move, and beta came out 1.16 for a coin moving as the index.
        shared_days = closes.index.intersection(benchmark.dropna().index)
        shared_returns = portfolio_returns(closes.loc[shared_days], weights)
        metrics["benchmark"] = str(benchmark.name)
        metrics["beta"] = beta(shared_returns, benchmark.loc[shared_days].pct_change().dropna())
        metrics["beta_days"] = len(shared_returns)
    horizon = horizon or round(per_year)
    simulated = bootstrap_paths(daily, horizon, paths)
    quantiles = np.percentile(simulated, [5, 25, 50, 75, 95], axis=0)
    fan = pd.DataFrame(
        {"day": np.arange(1, horizon + 1), **dict(zip(["p05", "p25", "p50", "p75", "p95"], quantiles, strict=True))}
    )
    metrics["scenario_horizon_days"] = horizon
    metrics["scenario_median"] = float(quantiles[2][-1] - 1)
    metrics["scenario_p05"] = float(quantiles[0][-1] - 1)
    correlation = closes.pct_change().dropna().corr()
    return RiskReport(metrics=metrics, correlation=correlation, fan=fan)
