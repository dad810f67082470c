"""Backtests of walk-forward forecasts and portfolio risk, run for a user and stored."""

from __future__ import annotations

import math
import uuid
from dataclasses import asdict

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import BadInput, NotFound
from core.audit import record_event
from core.auth.roles import Permission, require
from core.backtest import BacktestConfig, BacktestResult, run_backtest
from core.data.calendar import days_a_year
from core.forecasting.evaluation import json_safe
from core.risk import RiskError, RiskReport, held_weights, risk_report
from db.models import BacktestResult as StoredBacktest
from db.models import Evaluation, RiskMetrics
from db.repositories.actor import Actor, own_rows
from db.repositories.prices import read_prices


class AnalysisError(BadInput):
    """The analysis cannot run; the message says what is missing."""


def backtest_evaluation(
    *, session: Session, actor: Actor, evaluation_id: uuid.UUID, config: BacktestConfig
) -> tuple[BacktestResult, StoredBacktest]:
    """Trade a walk-forward run's out-of-sample forecasts, and store the result."""
    require(actor, Permission.ANALYSE)
    evaluation = session.scalar(
        select(Evaluation).where(
            Evaluation.id == evaluation_id, Evaluation.kind == "walkforward", own_rows(Evaluation.user_id, actor)
        )
    )
    if evaluation is None:
        # A leaderboard is an evaluation too, but it keeps no forecasts to trade.
        raise NotFound("no such walk-forward run")
    forecast = pd.concat([pd.DataFrame(window["forecast"]) for window in evaluation.windows], ignore_index=True)
    if "origin_date" not in forecast:
        # Runs stored before origin days were: the windows' days follow one another, each forecast made on
        # the day before it, the first on the day the first window trained until.
        forecast["origin_date"] = [evaluation.windows[0]["train_until"], *forecast["date"].iloc[:-1]]
    result = run_backtest(forecast, config, days_a_year([evaluation.ticker]))
    stored = StoredBacktest(
        user_id=actor.user_id,
        ticker=evaluation.ticker,
        config=asdict(config) | {"evaluation_id": str(evaluation.id)},
        metrics=json_safe(result.metrics),
        trades=result.trades,
        equity_curve=result.equity.to_dict("records"),
    )
    session.add(stored)
    session.flush()
    record_event(
        session=session,
        action="backtest",
        status="ok",
        actor=actor,
        detail=f"{evaluation.ticker}: {len(result.trades)} trades",
    )
    return result, stored


def closes_for(session: Session, actor: Actor, tickers: list[str]) -> pd.DataFrame:
    """Adjusted closes of the tickers side by side on the days they all traded.

    Adjusted, as every return in the product is: read raw, a 2:1 split is a -50 % day in the
    volatility, the VaR and the drawdown.
    """
    columns = {}
    for ticker in tickers:
        prices = read_prices(session=session, actor=actor, ticker=ticker)
        if prices.empty:
            raise AnalysisError(f"no cached prices of {ticker}")
        columns[ticker] = prices.set_index("date")["adjusted_close"].astype(float)
    return pd.DataFrame(columns).dropna()


def parse_weights(text: str, tickers: list[str]) -> dict[str, float]:
    """Weights typed as "0.6, 0.4" (empty: equal), one finite non-negative number per ticker, in order."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        return dict.fromkeys(tickers, 1.0)
    if len(parts) != len(tickers):
        raise AnalysisError(f"weights: {len(parts)} given for {len(tickers)} tickers")
    weights = {}
    for position, (ticker, part) in enumerate(zip(tickers, parts, strict=True), start=1):
        try:
            value = float(part)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            shown = part if len(part) <= 20 else part[:20] + "…"
            raise AnalysisError(f"weights: weight {position} ({ticker}) is {shown!r}; give a finite number, 0 or more")
        weights[ticker] = value
    if sum(weights.values()) <= 0:
        raise AnalysisError("weights: at least one weight must be above 0")
    return weights


def portfolio_risk(
    *, session: Session, actor: Actor, weights: dict[str, float], benchmark: str | None = None
) -> tuple[RiskReport, RiskMetrics]:
    """Risk of a weighted portfolio of cached tickers (one ticker alone is a portfolio too), stored.

    Tickers of weight 0 are stored with the weights as asked but play no part in the figures (nor in the
    correlation), and need no prices.
    """
    require(actor, Permission.ANALYSE)
    if not weights:
        raise AnalysisError("choose at least one ticker")
    if not all(math.isfinite(weight) and weight >= 0 for weight in weights.values()):
        raise AnalysisError("weights: every weight must be a finite number, 0 or more")
    try:
        held = held_weights(weights)
    except RiskError as error:
        raise AnalysisError(str(error)) from None
    # Only the tickers held: read with them, a ticker of weight 0 cut the history to the days it has, and a
    # stock of weight 0 beside a coin annualised the coin by the stock's 252 days.
    tickers = list(held)
    closes = closes_for(session, actor, tickers)
    # Apart from the portfolio's closes: joined with them, a benchmark with a shorter history cut the
    # portfolio's own volatility, drawdown and VaR to the benchmark's days.
    benchmark_closes = closes_for(session, actor, [benchmark])[benchmark] if benchmark else None
    try:
        report = risk_report(closes, held, days_a_year=days_a_year(tickers), benchmark=benchmark_closes)
    except RiskError as error:
        raise AnalysisError(str(error)) from None
    stored = RiskMetrics(
        user_id=actor.user_id,
        tickers=list(weights),
        weights=[weights[t] for t in weights],
        benchmark=benchmark,
        start_date=pd.Timestamp(closes.index[0]).date(),
        end_date=pd.Timestamp(closes.index[-1]).date(),
        metrics=json_safe(report.metrics),
    )
    session.add(stored)
    session.flush()
    return report, stored
