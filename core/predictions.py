"""Predictions: forecast the next trading days from a model version, keep them, and score them later."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.config import Settings
from common.errors import NotFound
from core.actions import authorise_action
from core.audit import record_event
from core.data.calendar import calendar_for
from core.forecasting import metrics
from core.forecasting.history import judged
from core.forecasting.zoo import version_name
from core.throttle import Throttle
from db.models import HistoricalPrice, ModelVersion, Prediction
from db.repositories.actor import Actor
from db.repositories.models import get_active_version, get_model_version
from db.repositories.predictions import add_predictions, pending_predictions, read_ledger, set_actual
from db.repositories.prices import read_prices, read_prices_of


class PredictionError(NotFound, ValueError):
    """A prediction cannot be made; the message says what is missing."""


@dataclass(frozen=True)
class PredictionsMade:
    """The predictions kept in the ledger, and the version that made them (for its verdict)."""

    version: ModelVersion
    rows: list[Prediction]


def _version(session: Session, actor: Actor, ticker: str, version_id: uuid.UUID | None) -> ModelVersion:
    if version_id is not None:
        version = get_model_version(session=session, actor=actor, version_id=version_id)
        if version is None or version.ticker != ticker:
            raise PredictionError(f"no such model version of {ticker}")
        return version
    version = get_active_version(session=session, actor=actor, ticker=ticker)
    if version is None:
        raise PredictionError(f"no active model for {ticker}: train one on the Train page first")
    return version


def predict(
    *,
    session: Session,
    actor: Actor,
    ticker: str,
    days: int,
    settings: Settings,
    throttle: Throttle,
    version_id: uuid.UUID | None = None,
    client_ip: str | None = None,
) -> PredictionsMade:
    """Forecast the next `days` trading days from the latest cached prices and store them in the ledger."""
    from core.forecasting.predict import forecast_days
    from core.forecasting.registry import load_version

    started = time.perf_counter()
    authorise_action(session=session, actor=actor, action="predict", settings=settings, throttle=throttle)
    version = _version(session, actor, ticker, version_id)
    prices = read_prices(session=session, actor=actor, ticker=ticker)
    if prices.empty:
        raise PredictionError(f"no cached prices of {ticker}")
    loaded = load_version(version)
    try:
        forecasts = forecast_days(loaded.model, prices, days, ticker)
    except ValueError as error:  # too few days for the model's window, days out of range
        raise PredictionError(str(error)) from None
    last = prices.iloc[-1]
    rows = [
        Prediction(
            user_id=actor.user_id,
            model_version_id=version.id,
            ticker=ticker,
            prediction_date=last["date"].date(),
            target_date=forecast.target_date.date(),
            base_close=float(last["close"]),
            predicted_value=forecast.predicted_close,
            lower=forecast.lower,
            upper=forecast.upper,
            confidence_score=forecast.confidence,
        )
        for forecast in forecasts
    ]
    add_predictions(session=session, rows=rows)
    record_event(
        session=session,
        action="predict",
        status="ok",
        actor=actor,
        detail=f"{ticker} v{version.version}: {days} days from {last['date']:%Y-%m-%d}",
        ip=client_ip,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    return PredictionsMade(version, rows)


def fill_matured(*, session: Session, ticker: str) -> int:
    """Give every prediction of the ticker whose day has come its actual close as traded, exactly once.

    The actual is the close of the target day, as the predicting user sees the prices (their own
    upload before shared data). A target day the exchange traded whose price is not stored yet
    waits for it: the next day's close would be stored as that day's for good. Only a day the
    calendar says had no session (a target named past the calendar's horizon) takes the next close.
    """
    filled = 0
    by_user: dict[uuid.UUID, pd.DataFrame] = {}
    latest = session.scalar(select(func.max(HistoricalPrice.date)).where(HistoricalPrice.ticker == ticker))
    if latest is None:
        return 0
    for prediction in pending_predictions(session=session, ticker=ticker, up_to=latest):
        if prediction.user_id not in by_user:
            viewer = Actor(prediction.user_id, "", "analyst", "free")
            by_user[prediction.user_id] = read_prices(session=session, actor=viewer, ticker=ticker)
        prices = by_user[prediction.user_id]
        target = pd.Timestamp(prediction.target_date)
        on_or_after = prices[prices["date"] >= target]
        if on_or_after.empty:
            continue
        if on_or_after["date"].iloc[0] != target and target in calendar_for(ticker).sessions:
            continue
        if set_actual(session=session, prediction_id=prediction.id, actual=float(on_or_after["close"].iloc[0])):
            filled += 1
    return filled


@dataclass(frozen=True)
class Scoreboard:
    model: str
    predictions: int
    mae: float
    persistence_mae: float
    mase: float
    hit_rate: float
    hit_p_value: float
    coverage: float
    dm_days: int  # the one-day-ahead forecasts the Diebold-Mariano test compares
    dm_pvalue: float
    verdict: str


def scoreboard(ledger: pd.DataFrame) -> pd.DataFrame:
    """Out-of-sample scores per model over its matured predictions, beside persistence on the same days.

    A forecast made again (Predict pressed twice on one day) counts once. The verdict says "beats
    persistence" only when a Diebold-Mariano test says so (p < 0.05), and the test takes only each
    day's one-day-ahead forecast: the days of a five-day run share four of their moves with the next
    run's, and counted as independent they made "significant" ten times as often as chance allows.
    """
    matured = ledger.dropna(subset=["actual_value", "base_close"])
    # The ledger comes newest first: the kept copy of a repeated forecast is the latest.
    matured = matured.drop_duplicates(["model", "prediction_date", "target_date"])
    rows = []
    for model, group in matured.groupby("model"):
        actual, predicted, base = (group[c].to_numpy(float) for c in ("actual_value", "predicted_value", "base_close"))
        rate, hits, days = metrics.directional_accuracy(actual - base, predicted - base)
        inside = (actual >= group["lower"].to_numpy(float)) & (actual <= group["upper"].to_numpy(float))
        one_day = group[group["target_date"] == group.groupby("prediction_date")["target_date"].transform("min")]
        _, dm_pvalue, said = judged(
            *(one_day[c].to_numpy(float) for c in ("actual_value", "predicted_value", "base_close"))
        )
        rows.append(
            Scoreboard(
                model=str(model),
                predictions=len(group),
                mae=metrics.mae(actual, predicted),
                persistence_mae=metrics.mae(actual, base),
                mase=metrics.mase(actual, predicted, base),
                hit_rate=rate,
                hit_p_value=metrics.direction_p_value(hits, days),
                coverage=float(np.mean(inside)),
                dm_days=len(one_day),
                dm_pvalue=dm_pvalue,
                verdict=said,
            )
        )
    return pd.DataFrame([vars(row) for row in rows], columns=list(Scoreboard.__dataclass_fields__))


def ledger_with_outcomes(*, session: Session, actor: Actor, **filters) -> pd.DataFrame:
    """The ledger, each model named as its version is everywhere ("SPX v2 · auto ensemble"), with each matured
    prediction's error and whether it fell inside its interval.

    actual_close is the target day's close as traded; actual_value is that close on the prediction
    day's price scale, as the forecast and its base close are: a split (or dividend) between the
    two days, once the adjusted close accounts for it, is not scored as a move.
    """
    ledger = read_ledger(session=session, actor=actor, **filters)
    # A deleted version's rows stay with their link cleared: their ticker is all that tells them apart.
    names = [
        version_name(ticker, int(number), kind) if pd.notna(kind) else f"{ticker} · deleted model"
        for ticker, number, kind in zip(ledger["ticker"], ledger["model_version"], ledger["model_type"], strict=True)
    ]
    ledger.insert(ledger.columns.get_loc("model_version"), "model", names)
    ledger = ledger.drop(columns="model_version")
    ledger.insert(ledger.columns.get_loc("actual_value"), "actual_close", ledger["actual_value"])
    ledger["actual_value"] = ledger["actual_close"] * _scale_change(session, actor, ledger)
    ledger["error"] = ledger["actual_value"] - ledger["predicted_value"]
    matured = ledger["actual_value"].notna()
    ledger["inside"] = pd.Series(pd.NA, index=ledger.index, dtype="boolean")
    ledger.loc[matured, "inside"] = (ledger.loc[matured, "actual_value"] >= ledger.loc[matured, "lower"]) & (
        ledger.loc[matured, "actual_value"] <= ledger.loc[matured, "upper"]
    )
    return ledger


def _scale_change(session: Session, actor: Actor, ledger: pd.DataFrame) -> np.ndarray:
    """Per ledger row, the target day's adjustment (adjusted / close) over the prediction day's; 1 unknown.

    Read from the prices as they are now, so a split confirmed after the actual was stored still counts.
    """
    matured = ledger[ledger["actual_value"].notna()]
    if matured.empty:
        return np.ones(len(ledger))
    # Only the days the matured rows name: the Home page reads the ledger on every visit.
    start = min(matured["prediction_date"])
    prices = read_prices_of(session=session, actor=actor, tickers=sorted(set(matured["ticker"])), start=start)
    days = pd.to_datetime(prices["date"]).dt.date
    adjustment = pd.Series(
        (prices["adjusted_close"] / prices["close"]).to_numpy(dtype=float),
        index=pd.MultiIndex.from_arrays([prices["ticker"].to_numpy(), days.to_numpy()]),
    )
    adjustment = adjustment[~adjustment.index.duplicated()]

    def on(day_column: str) -> np.ndarray:
        keys = pd.MultiIndex.from_arrays([ledger["ticker"].to_numpy(), ledger[day_column].to_numpy()])
        return adjustment.reindex(keys).to_numpy(dtype=float)

    change = on("target_date") / on("prediction_date")
    return np.where(np.isfinite(change), change, 1.0)
