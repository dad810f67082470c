"""Predictions: forecast the next trading days from a model version, keep them, and score them later."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.config import Settings
from common.errors import BadInput, NotFound
from core.actions import authorise_action
from core.audit import record_event
from core.data.calendar import calendar_for, is_stale, session_end
from core.forecasting import metrics
from core.forecasting.history import SAME_AS_PERSISTENCE, judged
from core.forecasting.zoo import version_name
from core.throttle import Throttle
from db.models import HistoricalPrice, ModelVersion, Prediction
from db.repositories.actor import Actor
from db.repositories.models import get_active_version, get_model_version
from db.repositories.predictions import (
    LedgerFreshness,
    LedgerPosition,
    due_predictions,
    keep_forecast_run,
    read_ledger,
    set_actual,
)
from db.repositories.predictions import ledger_freshness as read_ledger_freshness
from db.repositories.prices import read_prices, read_prices_of


class PredictionError(NotFound, ValueError):
    """A prediction cannot be made; the message says what is missing."""


@dataclass(frozen=True)
class PredictionsMade:
    """The run's predictions as the ledger keeps them, the version that made them (for its verdict), how many
    this call added (0: the same forecast was already there), and whether the prices they start from are stale."""

    version: ModelVersion
    rows: list[Prediction]
    added: int
    last_bar: date
    stale: bool


def prices_are_stale(ticker: str, last_bar: date, *, today: date | None = None) -> bool:
    """True when the ticker's exchange has completed a session after `last_bar` (the pages' rule)."""
    return is_stale(last_bar, today or datetime.now(UTC).date(), ticker)


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
    last_bar = last["date"].date()
    run = [
        {
            "user_id": actor.user_id,
            "model_version_id": version.id,
            "model_version_number": version.version,
            "model_type": version.model_type,
            "ticker": ticker,
            "prediction_date": last_bar,
            "target_date": forecast.target_date.date(),
            "base_close": float(last["close"]),
            "predicted_value": forecast.predicted_close,
            "lower": forecast.lower,
            "upper": forecast.upper,
            "confidence_score": forecast.confidence,
        }
        for forecast in forecasts
    ]
    rows, added = keep_forecast_run(session=session, rows=run)
    kept = f"{added} new" if added == len(rows) else f"{added} new, {len(rows) - added} already in the ledger"
    record_event(
        session=session,
        action="predict",
        status="ok",
        actor=actor,
        detail=f"{ticker} v{version.version}: {days} days from {last_bar:%Y-%m-%d} ({kept})",
        ip=client_ip,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    return PredictionsMade(version, rows, added, last_bar, prices_are_stale(ticker, last_bar))


def fill_matured(*, session: Session, ticker: str, now: datetime | None = None) -> int:
    """Give each prediction of the ticker whose day has closed the close of that day as stored now.

    Called wherever prices are written, so a close corrected by a later fetch or import corrects the
    actual too; returns how many rows that set or changed. The actual is the close of the target day as
    the predicting user sees the prices (their own upload before shared data), once the session has
    closed: a bar fetched while it trades holds a price of the day so far. A target day the exchange
    traded whose price is not stored yet waits for it: the next day's close would be stored as that
    day's. Only a day the calendar says had no session (a target named past the calendar's horizon)
    takes the next close.
    """
    latest = session.scalar(select(func.max(HistoricalPrice.date)).where(HistoricalPrice.ticker == ticker))
    due = due_predictions(session=session, ticker=ticker, up_to=latest) if latest is not None else []
    if not due:
        return 0  # the usual upload: no calendar built (a second, the first time in a process)
    now = now or datetime.now(UTC)
    calendar = calendar_for(ticker)
    changed = 0
    by_user: dict[uuid.UUID, pd.DataFrame] = {}
    for prediction in due:
        if prediction.user_id not in by_user:
            viewer = Actor(prediction.user_id, "", "analyst", "free")
            by_user[prediction.user_id] = read_prices(session=session, actor=viewer, ticker=ticker)
        prices = by_user[prediction.user_id]
        target = pd.Timestamp(prediction.target_date)
        on_or_after = prices[prices["date"] >= target]
        if on_or_after.empty:
            continue
        bar_day = on_or_after["date"].iloc[0]
        if bar_day != target and target in calendar.sessions:
            continue
        if now < session_end(bar_day.date(), ticker):
            continue
        close = float(on_or_after["close"].iloc[0])
        if prediction.actual_value == close:
            continue  # the usual case: every due prediction is read, few closes are ever rewritten
        if set_actual(session=session, prediction_id=prediction.id, actual=close):
            changed += 1
    return changed


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


NO_ONE_DAY_FORECAST_YET = "not tested yet: no one-day forecast has met its close"
# Fewer one-day forecasts are too few for the Diebold-Mariano test's t distribution: four of a drift's forecasts
# before four up days missed by nearly the same amount each, and their tiny variance read as "p < 0.001".
MIN_SCOREBOARD_DAYS = 30


def _too_few_to_test(days: int) -> str:
    """The verdict of a model with fewer than MIN_SCOREBOARD_DAYS matured one-day forecasts."""
    if days == 0:
        return NO_ONE_DAY_FORECAST_YET
    met = "has met its close" if days == 1 else "have met their close"
    return f"not tested yet: {days} of {MIN_SCOREBOARD_DAYS} one-day forecasts {met}"


def scoreboard(ledger: pd.DataFrame) -> pd.DataFrame:
    """Out-of-sample scores per model over its matured predictions, beside persistence on the same days.

    A forecast made again (Predict pressed twice on one day) counts once. The verdict says "beats
    persistence" only when a Diebold-Mariano test says so (p < 0.05), and the test takes only each
    day's one-day-ahead forecast: the days of a five-day run share four of their moves with the next
    run's, and counted as independent they made "significant" ten times as often as chance allows. Below
    MIN_SCOREBOARD_DAYS of them there is no test (p NaN) and the verdict counts the days still to come. The
    direction's hit rate and p-value are of the one-day forecasts too; MAE, MASE and coverage of all.
    """
    # As timestamps: grouped as Python dates, pandas took the slow path, half a second over 20,000 rows.
    ledger = ledger.assign(made=pd.to_datetime(ledger["prediction_date"]), due=pd.to_datetime(ledger["target_date"]))
    # A run's one-day forecast is its first target day, matured or not: while the first day waits for its
    # close, the second is still a two-day forecast.
    ledger = ledger.assign(one_day=ledger["due"] == ledger.groupby(["model", "made"])["due"].transform("min"))
    matured = ledger.dropna(subset=["actual_value", "base_close"])
    # The ledger comes newest first: the kept copy of a repeated forecast is the latest.
    # Each version's name is its own, a deleted one's too ("SPX v2 · ridge, deleted"): keyed on it, two
    # versions' forecasts for the same days are never taken for copies of one.
    matured = matured.drop_duplicates(["model", "made", "due"])
    rows = []
    for model, group in matured.groupby("model"):
        actual, predicted, base = (group[c].to_numpy(float) for c in ("actual_value", "predicted_value", "base_close"))
        inside = (actual >= group["lower"].to_numpy(float)) & (actual <= group["upper"].to_numpy(float))
        one_day = group[group["one_day"]]
        # Both tests take the one-day forecasts alone, for the same reason: overlapping days counted as
        # independent tosses made an always-up model "right about direction" far beyond chance.
        day_actual, day_predicted, day_base = (
            one_day[c].to_numpy(float) for c in ("actual_value", "predicted_value", "base_close")
        )
        if len(one_day):
            rate, hits, days = metrics.directional_accuracy(day_actual - day_base, day_predicted - day_base)
            _, dm_pvalue, said = judged(day_actual, day_predicted, day_base)
        else:  # every matured row of the model is a later day of a run whose first day waits for its close
            rate, hits, days, dm_pvalue, said = float("nan"), 0, 0, float("nan"), NO_ONE_DAY_FORECAST_YET
        if len(one_day) < MIN_SCOREBOARD_DAYS:
            dm_pvalue = float("nan")
            if said != SAME_AS_PERSISTENCE:  # a fact of the forecasts themselves, true from the first day
                said = _too_few_to_test(len(one_day))
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
    return _with_outcomes(session, actor, read_ledger(session=session, actor=actor, **filters))


class LedgerCursorError(BadInput, ValueError):
    """A ledger cursor that is not one ledger_page gave; the message says what is wrong with it."""


@dataclass(frozen=True)
class LedgerPage:
    """Rows of the ledger as ledger_with_outcomes gives them, and the cursor of the page after (None: the last)."""

    rows: pd.DataFrame
    next_cursor: str | None


def ledger_page(
    *, session: Session, actor: Actor, limit: int, after: LedgerPosition | None = None, **filters
) -> LedgerPage:
    """The first `limit` rows of the ledger past `after` (from the top without it), filtered as
    ledger_with_outcomes is; the database does the limiting, never a frame of the whole ledger."""
    # One row more than the page says whether another page follows, without counting the rest.
    read = read_ledger(session=session, actor=actor, limit=limit + 1, after=after, **filters)
    page = read.iloc[:limit]
    last = page.iloc[-1] if len(read) > limit else None
    next_cursor = None
    if last is not None:
        made = pd.Timestamp(last["created_at"]).to_pydatetime()
        next_cursor = ledger_cursor(LedgerPosition(target_date=last["target_date"], created_at=made, id=last["id"]))
    return LedgerPage(_with_outcomes(session, actor, page), next_cursor)


_CURSOR_SEPARATOR = "|"
NOT_A_CURSOR = "not a cursor this API gave; pass on the next_cursor (or Next-Cursor header) of a page as it came"


def ledger_cursor(position: LedgerPosition) -> str:
    """The position as a cursor for a URL: opaque to clients, who only hand it back."""
    text = _CURSOR_SEPARATOR.join((position.target_date.isoformat(), position.created_at.isoformat(), position.id.hex))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def ledger_position(cursor: str) -> LedgerPosition:
    """The position a cursor of ledger_cursor holds; LedgerCursorError naming the problem for anything else."""
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        raise LedgerCursorError(NOT_A_CURSOR) from None
    fields = text.split(_CURSOR_SEPARATOR)
    if len(fields) != 3:
        raise LedgerCursorError(NOT_A_CURSOR)
    day, made, row_id = fields
    try:
        target_date = date.fromisoformat(day)
    except ValueError:
        raise LedgerCursorError(f"{NOT_A_CURSOR} ({day!r} is no day)") from None
    try:
        created_at = datetime.fromisoformat(made)
    except ValueError:
        created_at = None
    if created_at is None or created_at.tzinfo is None:  # the database compares only zoned times
        raise LedgerCursorError(f"{NOT_A_CURSOR} ({made!r} is no time with its zone)")
    try:
        # Here rather than when the query binds it: the first and last hours of the calendar, zoned,
        # have no UTC time, and the database compares in UTC.
        created_at = created_at.astimezone(UTC)
    except OverflowError:
        raise LedgerCursorError(f"{NOT_A_CURSOR} ({made!r} has no time in UTC)") from None
    try:
        return LedgerPosition(target_date=target_date, created_at=created_at, id=uuid.UUID(hex=row_id))
    except ValueError:
        raise LedgerCursorError(f"{NOT_A_CURSOR} ({row_id!r} is no prediction id)") from None


def ledger_freshness(*, session: Session, actor: Actor) -> LedgerFreshness:
    """What the actor's ledger is now, in a few numbers read by one small query: equal to the freshness read
    with a copy of the ledger, that copy is still the ledger, with its outcomes."""
    return read_ledger_freshness(session=session, actor=actor)


def _with_outcomes(session: Session, actor: Actor, ledger: pd.DataFrame) -> pd.DataFrame:
    """Rows read by read_ledger with their models named and their outcomes (see ledger_with_outcomes)."""
    ledger = ledger.reset_index(drop=True)  # a page is a slice of what was read: a frame of its own
    names = [
        ledger_model_name(ticker, number, kind, deleted=bool(deleted))
        for ticker, number, kind, deleted in zip(
            ledger["ticker"], ledger["model_version"], ledger["model_type"], ledger["version_deleted"], strict=True
        )
    ]
    ledger.insert(ledger.columns.get_loc("model_version"), "model", names)
    ledger = ledger.drop(columns=["model_version", "version_deleted", "created_at"])
    ledger.insert(ledger.columns.get_loc("actual_value"), "actual_close", ledger["actual_value"])
    ledger["actual_value"] = ledger["actual_close"] * _scale_change(session, actor, ledger)
    ledger["error"] = ledger["actual_value"] - ledger["predicted_value"]
    matured = ledger["actual_value"].notna()
    ledger["inside"] = pd.Series(pd.NA, index=ledger.index, dtype="boolean")
    ledger.loc[matured, "inside"] = (ledger.loc[matured, "actual_value"] >= ledger.loc[matured, "lower"]) & (
        ledger.loc[matured, "actual_value"] <= ledger.loc[matured, "upper"]
    )
    return ledger


def ledger_model_name(ticker: str, number: object, kind: object, *, deleted: bool) -> str:
    """How the ledger names a row's model: the version's name, marked ", deleted" once the version is gone.

    A row made before its version's number was kept on it (before 0013) whose version is gone has only its
    ticker left. A page saying what a deletion leaves in the ledger names it with this, as the ledger's filter does.
    """
    if pd.isna(number):
        return f"{ticker} · deleted model"
    name = version_name(ticker, int(number), kind)
    return f"{name}, deleted" if deleted else name


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
