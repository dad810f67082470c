"""Predictions: forecast the next trading days from a model version, keep them, and score them later."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.config import Settings
from common.errors import BadInput, NotFound
from common.words import plural
from core.actions import authorise_action
from core.audit import record_event
from core.auth.roles import Permission, require
from core.data.calendar import calendar_for, is_stale, session_end
from core.data.splits import COMMON_FACTORS
from core.data.splits import TOLERANCE as SPLIT_TOLERANCE
from core.forecasting import metrics
from core.forecasting.config import MAX_FORECAST_DAYS, TrainingConfig
from core.forecasting.history import MIN_TEST_DAYS as MIN_SCOREBOARD_DAYS
from core.forecasting.history import SAME_AS_PERSISTENCE, judged
from core.forecasting.zoo import version_name
from core.throttle import Throttle
from db.models import HistoricalPrice, ModelVersion, Prediction
from db.repositories.actor import Actor
from db.repositories.models import get_active_version, get_model_version
from db.repositories.predictions import (
    LedgerFreshness,
    LedgerPosition,
    clear_actual,
    due_predictions,
    keep_forecast_run,
    read_ledger,
    set_actual,
)
from db.repositories.predictions import ledger_freshness as read_ledger_freshness
from db.repositories.prices import read_prices, read_prices_of

if TYPE_CHECKING:
    from core.forecasting.predict import DayForecast


class PredictionError(NotFound, ValueError):
    """A prediction cannot be made; the message says what is missing."""


class TooFewPricesError(BadInput, ValueError):
    """The ticker's prices cannot give the model what it reads before a forecast; the message counts the days."""


@dataclass(frozen=True)
class PredictionsMade:
    """The run's predictions as the ledger keeps them, the version that made them (for its verdict), how many
    this call added (0: the same forecast was already there), and whether the prices they start from are stale."""

    version: ModelVersion
    rows: list[Prediction]
    added: int
    last_bar: date
    stale: bool


def prices_are_stale(ticker: str, last_bar: date, *, now: datetime | None = None) -> bool:
    """True when a session of the ticker's exchange after `last_bar` has closed by `now` (the pages' rule)."""
    return is_stale(last_bar, now or datetime.now(UTC), ticker)


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
    now: datetime | None = None,
) -> PredictionsMade:
    """Forecast the next `days` trading days from the latest closed session's prices and store them in the ledger.

    A bar whose session has not closed by `now` (an upload exported while the exchange trades) is left out, as
    a fetch leaves it out: its close is the price so far, and a forecast from it would stay the day's forecast.
    """
    from core.forecasting.predict import forecast_days
    from core.forecasting.registry import load_version

    started = time.perf_counter()
    require(actor, Permission.PREDICT)
    # Before the quota, as a training job's checks are: a request that could only fail must not use up the
    # hour's predictions (a scheduler looping over tickers, some without a model, locked itself out).
    version = _version(session, actor, ticker, version_id)
    prices = read_prices(session=session, actor=actor, ticker=ticker)
    if prices.empty:
        raise PredictionError(f"no cached prices of {ticker}")
    # Left out rather than refused: an analyst asking for a forecast from the latest prices means the latest
    # close, here the session before; the result's last_bar (the page's "Made from the close of ...") names it.
    prices = _closed_sessions(prices, ticker, now or datetime.now(UTC))
    if prices.empty:
        raise TooFewPricesError(f"{ticker}'s only prices are of a session still open: a forecast starts from a close")
    needed = _days_needed(version)
    if len(prices) < needed:
        have = plural(len(prices), "day")
        raise TooFewPricesError(f"{ticker} has {have} of prices; this model needs at least {needed}")
    if not 1 <= days <= MAX_FORECAST_DAYS:
        raise BadInput(f"days: 1 to {MAX_FORECAST_DAYS}, got {days}")
    loaded = load_version(version)
    try:
        forecasts = forecast_days(loaded.model, prices, days, ticker)
    except BadInput:
        raise  # the calendar's own sentence: prices that end before the exchange's calendar starts
    except ValueError as error:  # prices the model cannot read, a gap in its window (a volume of 0, say)
        raise TooFewPricesError(f"{ticker}'s prices cannot be forecast by this model: {error}") from None
    _refuse_non_prices(
        forecasts, f"{ticker} v{version.version}", unbounded=not np.isfinite(loaded.model.interval.scale)
    )
    authorise_action(session=session, actor=actor, action="predict", settings=settings, throttle=throttle)
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
    return PredictionsMade(version, rows, added, last_bar, prices_are_stale(ticker, last_bar, now=now))


def _refuse_non_prices(forecasts: list[DayForecast], name: str, *, unbounded: bool) -> None:
    """PredictionError unless every forecast is a price (finite, above 0) inside finite bounds; an unbounded
    interval's upper bound, infinite by design (too few validation residuals for its level), stays."""
    for forecast in forecasts:
        upper_ok = np.isfinite(forecast.upper) or (unbounded and forecast.upper == np.inf)
        if (
            not (np.isfinite(forecast.predicted_close) and forecast.predicted_close > 0)
            or not np.isfinite(forecast.lower)
            or not upper_ok
            or not np.isfinite(forecast.confidence)
        ):
            raise PredictionError(
                f"{name} forecasts no price for {forecast.target_date:%Y-%m-%d} "
                f"(predicted {forecast.predicted_close:.4g}, interval {forecast.lower:.4g} to {forecast.upper:.4g}): "
                "nothing was stored; its parameters are not "
                "those of a model fitted on prices, so delete it or activate another version"
            )


def _closed_sessions(prices: pd.DataFrame, ticker: str, now: datetime) -> pd.DataFrame:
    """The prices without the newest bars whose session has not closed by `now`."""
    end = len(prices)
    while end and now < session_end(prices["date"].iloc[end - 1].date(), ticker):
        end -= 1
    return prices.iloc[:end]


def _days_needed(version: ModelVersion) -> int:
    """The fewest days of prices the version forecasts from: a network's window, each day of it with its features
    (the indicators' warm-up before it), an ARIMA's two closes, any other type's one."""
    from core.forecasting.dataset import warm_up_days

    if version.model_type == "arima":
        return 2
    if version.model_type not in ("lstm", "gru"):
        return 1
    parameters = version.parameters or {}
    defaults = TrainingConfig.model_fields
    window = int(parameters.get("window", defaults["window"].default))
    features = tuple(parameters.get("features") or defaults["features"].default)
    return window + warm_up_days(features)


def fill_matured(*, session: Session, ticker: str, now: datetime | None = None) -> int:
    """Give each prediction of the ticker whose day has closed the close of that day as stored now.

    Called wherever prices are written, so a close corrected by a later fetch or import corrects the
    actual too; returns how many rows that set or changed. The actual is the close of the target day as
    the predicting user sees the prices (their own upload before shared data), once the session has
    closed: a bar fetched while it trades holds a price of the day so far. A target day the exchange
    traded whose price is not stored yet waits for it: the next day's close would be stored as that
    day's. Only a day the calendar says had no session (a target named past the calendar's horizon)
    takes the next close. An actual whose close is no longer stored (a deleted upload's) is cleared: the
    prediction waits again.
    """
    latest = session.scalar(select(func.max(HistoricalPrice.date)).where(HistoricalPrice.ticker == ticker))
    due = due_predictions(session=session, ticker=ticker, up_to=latest)
    if not due:
        return 0  # the usual upload: no calendar built (a second, the first time in a process)
    now = now or datetime.now(UTC)
    sessions = calendar_for(ticker).sessions
    changed = 0
    by_user: dict[uuid.UUID, pd.DataFrame] = {}
    for prediction in due:
        if prediction.user_id not in by_user:
            viewer = Actor(prediction.user_id, "", "analyst", "free")
            by_user[prediction.user_id] = read_prices(session=session, actor=viewer, ticker=ticker)
        target = pd.Timestamp(prediction.target_date)
        close = _close_of(by_user[prediction.user_id], target, sessions, ticker, now)
        if prediction.actual_value == close:
            continue  # the usual case: every due prediction is read, few closes are ever rewritten
        if close is None:
            if clear_actual(session=session, prediction_id=prediction.id):
                changed += 1
        elif set_actual(session=session, prediction_id=prediction.id, actual=close):
            changed += 1
    return changed


def _close_of(
    prices: pd.DataFrame, target: pd.Timestamp, sessions: pd.DatetimeIndex, ticker: str, now: datetime
) -> float | None:
    """The close fill_matured gives a prediction for `target` from these prices; None while there is none."""
    on_or_after = prices[prices["date"] >= target] if not prices.empty else prices
    if on_or_after.empty:
        return None
    bar_day = on_or_after["date"].iloc[0]
    if bar_day != target and target in sessions:
        return None
    if now < session_end(bar_day.date(), ticker):
        return None
    return float(on_or_after["close"].iloc[0])


@dataclass(frozen=True)
class Scoreboard:
    """A model's row: first the verdict and the figures of the one-day forecasts it tested, then those of every
    matured forecast.

    The one-day MASE is the ratio the verdict tests: beside it, the verdict never stands next to a MASE of
    every horizon that says the opposite (2.41 beside "beats persistence", whose one-day MASE was 0.70). The
    verdict comes first: on a phone the table shows two columns before it scrolls.
    """

    model: str
    verdict: str
    one_day_mase: float
    dm_pvalue: float
    dm_days: int  # the one-day-ahead forecasts the Diebold-Mariano test compares
    hit_rate: float
    hit_p_value: float
    predictions: int
    mae: float
    persistence_mae: float
    mase: float
    coverage: float


NO_ONE_DAY_FORECAST_YET = "not tested yet: no one-day forecast has met its close"


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
    direction's hit rate and p-value, and one_day_mase, are of the one-day forecasts too; MAE, MASE and
    coverage of every horizon.
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
    # Sorted by model as groupby would group them, each model's rows in their order: its rows are then a slice
    # of each column's array. Grouped by pandas, taking 300 models' rows and columns apart cost 0.2 s.
    matured = matured[matured["model"].notna()].sort_values("model", kind="stable")
    models = matured["model"].to_numpy()
    columns = {
        c: matured[c].to_numpy(float) for c in ("actual_value", "predicted_value", "base_close", "lower", "upper")
    }
    one_days = matured["one_day"].to_numpy(bool)
    starts = np.flatnonzero(models[1:] != models[:-1]) + 1
    scored = []  # each model's scores but the direction's p-value, with the hits and days it is of
    for start, end in pairwise([0, *starts.tolist(), len(models)] if len(models) else []):
        actual, predicted, base, lower, upper = (values[start:end] for values in columns.values())
        inside = (actual >= lower) & (actual <= upper)
        one_day = one_days[start:end]
        # Both tests take the one-day forecasts alone, for the same reason: overlapping days counted as
        # independent tosses made an always-up model "right about direction" far beyond chance.
        day_actual, day_predicted, day_base = actual[one_day], predicted[one_day], base[one_day]
        dm_days = len(day_actual)
        if dm_days:
            rate, hits, days = metrics.directional_accuracy(day_actual - day_base, day_predicted - day_base)
            _, dm_pvalue, said = judged(day_actual, day_predicted, day_base)
            one_day_mase = metrics.mase(day_actual, day_predicted, day_base)
        else:  # every matured row of the model is a later day of a run whose first day waits for its close
            rate, hits, days, dm_pvalue, said = float("nan"), 0, 0, float("nan"), NO_ONE_DAY_FORECAST_YET
            one_day_mase = float("nan")
        if dm_days < MIN_SCOREBOARD_DAYS:
            dm_pvalue = float("nan")
            if said != SAME_AS_PERSISTENCE:  # a fact of the forecasts themselves, true from the first day
                said = _too_few_to_test(dm_days)
        scores = {
            "model": str(models[start]),
            "predictions": end - start,
            "mae": metrics.mae(actual, predicted),
            "persistence_mae": metrics.mae(actual, base),
            "mase": metrics.mase(actual, predicted, base),
            "coverage": float(np.mean(inside)),
            "dm_days": dm_days,
            "hit_rate": rate,
            "dm_pvalue": dm_pvalue,
            "one_day_mase": one_day_mase,
            "verdict": said,
        }
        scored.append((scores, hits, days))
    # Every model's p-value in one call: one at a time, a long ledger's 300 models took a scipy call each.
    p_values = metrics.direction_p_values(
        np.array([hits for _, hits, _ in scored], dtype=int), np.array([days for _, _, days in scored], dtype=int)
    )
    rows = [Scoreboard(**scores, hit_p_value=float(p)) for (scores, _, _), p in zip(scored, p_values, strict=True)]
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
    ticker left. The deletion of a version names what it leaves in the ledger with this, as the ledger's filter does.
    """
    if pd.isna(number):
        return f"{ticker} · deleted model"
    name = version_name(ticker, int(number), kind)
    return f"{name}, deleted" if deleted else name


SPLIT_FACTORS = np.array([float(factor) for factor in COMMON_FACTORS])


def _scale_change(session: Session, actor: Actor, ledger: pd.DataFrame) -> np.ndarray:
    """Per ledger row, the target day's adjustment (adjusted / close) over the prediction day's (its adjusted
    close / the base close the forecast started from); 1 unknown.

    Read from the prices as they are now, so a split confirmed after the actual was stored still counts. After
    a split a source may serve the earlier closes divided by its factor (Yahoo does): a prediction day's close
    stored now that is its base close divided by a split's factor is that, and the day's adjustment is taken
    over the base close. Any other difference (a corrected close) leaves the stored close the day's scale, and
    a dividend moves only the adjusted closes.
    """
    matured = ledger[ledger["actual_value"].notna()]
    if matured.empty:
        return np.ones(len(ledger))
    # Only the days the matured rows name: the Home page reads the ledger on every visit.
    start = min(matured["prediction_date"])
    prices = read_prices_of(session=session, actor=actor, tickers=sorted(set(matured["ticker"])), start=start)
    days = pd.to_datetime(prices["date"]).dt.date
    stored = pd.DataFrame(
        {"adjusted": prices["adjusted_close"].to_numpy(dtype=float), "close": prices["close"].to_numpy(dtype=float)},
        index=pd.MultiIndex.from_arrays([prices["ticker"].to_numpy(), days.to_numpy()]),
    )
    stored = stored[~stored.index.duplicated()]

    def on(day_column: str) -> pd.DataFrame:
        keys = pd.MultiIndex.from_arrays([ledger["ticker"].to_numpy(), ledger[day_column].to_numpy()])
        return stored.reindex(keys)

    target, made = on("target_date"), on("prediction_date")
    close = made["close"].to_numpy()
    base = ledger["base_close"].to_numpy(dtype=float)  # NaN on rows kept before base closes were
    with np.errstate(divide="ignore", invalid="ignore"):
        restated = np.abs((base / close)[:, None] / SPLIT_FACTORS - 1) <= SPLIT_TOLERANCE
        started_from = np.where(restated.any(axis=1), base, close)
        change = (target["adjusted"] / target["close"]).to_numpy() / (made["adjusted"].to_numpy() / started_from)
    return np.where(np.isfinite(change), change, 1.0)
