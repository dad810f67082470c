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
from core.forecasting import metrics
from core.forecasting.history import verdict
from core.forecasting.zoo import version_name
from core.throttle import Throttle
from db.models import HistoricalPrice, ModelVersion, Prediction
from db.repositories.actor import Actor
from db.repositories.models import get_active_version, get_model_version
from db.repositories.predictions import add_predictions, pending_predictions, read_ledger, set_actual
from db.repositories.prices import read_prices


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
    """Give every prediction of the ticker whose day has come its actual close, exactly once.

    The actual is the close of the target day, or of the next trading day when the target fell on
    a holiday, as the predicting user sees the prices (their own upload before shared data).
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
        if prices.empty:
            continue
        on_or_after = prices[prices["date"] >= pd.Timestamp(prediction.target_date)]
        if on_or_after.empty:
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
    dm_pvalue: float
    verdict: str


def scoreboard(ledger: pd.DataFrame) -> pd.DataFrame:
    """Out-of-sample scores per model over its matured predictions, beside persistence on the same days.

    The verdict says "beats persistence" only when a Diebold-Mariano test on those days says so (p < 0.05).
    """
    matured = ledger.dropna(subset=["actual_value", "base_close"])
    rows = []
    for model, group in matured.groupby("model"):
        actual, predicted, base = (group[c].to_numpy(float) for c in ("actual_value", "predicted_value", "base_close"))
        rate, hits, days = metrics.directional_accuracy(actual - base, predicted - base)
        inside = (actual >= group["lower"].to_numpy(float)) & (actual <= group["upper"].to_numpy(float))
        _, dm_pvalue = metrics.diebold_mariano(actual, predicted, base)
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
                dm_pvalue=dm_pvalue,
                # Honest by construction: "beats persistence" only when Diebold-Mariano says so at 5 %.
                verdict=verdict(dm_pvalue, metrics.mae(actual, predicted), metrics.mae(actual, base)),
            )
        )
    return pd.DataFrame([vars(row) for row in rows], columns=list(Scoreboard.__dataclass_fields__))


def ledger_with_outcomes(*, session: Session, actor: Actor, **filters) -> pd.DataFrame:
    """The ledger, each model named as its version is everywhere ("SPX v2 · auto ensemble"), with each matured
    prediction's error and whether it fell inside its interval."""
    ledger = read_ledger(session=session, actor=actor, **filters)
    # A deleted version's rows stay with their link cleared: their ticker is all that tells them apart.
    names = [
        version_name(ticker, int(number), kind) if pd.notna(kind) else f"{ticker} · deleted model"
        for ticker, number, kind in zip(ledger["ticker"], ledger["model_version"], ledger["model_type"], strict=True)
    ]
    ledger.insert(ledger.columns.get_loc("model_version"), "model", names)
    ledger = ledger.drop(columns="model_version")
    ledger["error"] = ledger["actual_value"] - ledger["predicted_value"]
    matured = ledger["actual_value"].notna()
    ledger["inside"] = pd.Series(pd.NA, index=ledger.index, dtype="boolean")
    ledger.loc[matured, "inside"] = (ledger.loc[matured, "actual_value"] >= ledger.loc[matured, "lower"]) & (
        ledger.loc[matured, "actual_value"] <= ledger.loc[matured, "upper"]
    )
    return ledger
