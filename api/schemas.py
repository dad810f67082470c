"""Request and response bodies of the API, as OpenAPI documents them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import UploadFile
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    ValidationInfo,
    field_validator,
)

from core.data.tickers import MAX_TICKER_LENGTH, TickerError, normalise_ticker
from core.forecasting.config import MAX_FORECAST_DAYS, WALK_FORWARD_WINDOWS, TrainingConfig
from core.forecasting.evaluation import stored_verdict
from core.forecasting.zoo import configured_kind


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD: pydantic alone would read "0" as 1 January 1970."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else _not_iso(value)
        except ValueError:
            _not_iso(value)
    return value


def _not_iso(value: str) -> None:
    raise ValueError(f"{value!r} is not a date like 2024-01-31")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# A stored job's or run's model type, read from its configuration as every page names it.
ConfiguredKind = Annotated[str, BeforeValidator(lambda config: str(configured_kind(config)))]


def _numbers_are_numbers(value: object) -> object:
    """JSON true, false or "5" are no number of epochs: refuse what pydantic's lax mode would coerce."""
    if isinstance(value, dict):
        for name, item in value.items():
            field = TrainingConfig.model_fields.get(name)
            numeric = field is not None and field.annotation in (int, float)
            if numeric and (isinstance(item, bool) or not isinstance(item, int | float)):
                raise ValueError(f"{name}: a number, got {item!r}")
    return value


Settings = Annotated[TrainingConfig, BeforeValidator(_numbers_are_numbers)]


def _whole_number(value: object) -> object:
    """2 and 2.0 (JSON Schema's integers both); never "2", true or 2.5."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a whole number is needed")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Strict but for 2.0: clients that write every number as a float (JavaScript, some notebooks) send it.
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
TICKER_DESCRIPTION = "a ticker symbol as Yahoo spells it, in any case: MSFT, brk-b, ^GSPC, EURUSD=X, 7203.T"
# The one rule uploads store tickers by (trimmed, upper case), so `msft` reads what an upload of msft stored;
# a symbol no upload could store is refused here (422), by name, rather than found missing later.
Symbol = Annotated[str, AfterValidator(normalise_ticker)]
Ticker = Annotated[Symbol, Field(min_length=1, max_length=MAX_TICKER_LENGTH, description=TICKER_DESCRIPTION)]


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CachedTickerOut(Orm):
    ticker: str
    owned: bool = Field(description="your own upload (true) or shared market data (false)")
    source: str
    first_date: date
    last_date: date
    rows: int
    last_updated: datetime


class TickerList(BaseModel):
    count: int
    tickers: list[CachedTickerOut]


class PriceRow(BaseModel):
    date: date
    open: float
    high: float
    low: float
    close: float
    adjusted_close: float | None
    volume: float
    source: str


class PriceTable(BaseModel):
    ticker: str
    count: int
    prices: list[PriceRow]


class IndicatorTable(BaseModel):
    ticker: str
    count: int
    rows: list[dict[str, float | str | None]] = Field(
        description="date, OHLCV and one column per indicator (named after its period, e.g. rsi_14); null in warm-up"
    )


class ValidationReportOut(BaseModel):
    rows: int
    invalid_rows: int
    counts: dict[str, int]
    examples: list[dict[str, Any]]


def _a_file(value: object) -> object:
    """A form field sent as text is no file: say so in words, not as the class UploadFile expected."""
    if isinstance(value, str):
        raise ValueError("a file is needed: send it as a file part of the form (with a filename), not as text")
    return value


class PriceUpload(BaseModel):
    """The multipart form of an upload; a field it does not name is refused, not ignored (a misspelt
    date_format would have the file's days read month first)."""

    model_config = ConfigDict(extra="forbid")

    file: Annotated[UploadFile, BeforeValidator(_a_file)] = Field(
        description="a price CSV (Yahoo's layout and its variants)"
    )
    ticker: Annotated[
        Symbol | None, Field(min_length=1, max_length=MAX_TICKER_LENGTH, description=TICKER_DESCRIPTION)
    ] = None
    date_format: Annotated[str | None, Field(min_length=1, max_length=32, examples=["%d.%m.%Y"])] = None


class UploadResult(BaseModel):
    status: str = Field(description="accepted: every row written; nothing is written otherwise")
    written: int
    tickers: list[str]
    message: str
    report: ValidationReportOut | None
    notes: list[str]


class Judged(Orm):
    """Stored scores whose verdict is judged from their numbers, as the pages judge it."""

    metrics: dict[str, Any] = Field(description="The scores as stored; verdict is judged from them, as the pages do")

    @field_validator("metrics")
    @classmethod
    def judged_verdict(cls, metrics: dict[str, Any]) -> dict[str, Any]:
        # A run stored before the verdict judged absolute errors may carry a sentence claiming more.
        return {**metrics, "verdict": stored_verdict(metrics)}


class ModelVersionOut(Judged):
    id: uuid.UUID
    ticker: str
    version: int
    model_type: str
    is_active: bool
    trained_on: str | None = Field(
        description="the ticker whose prices trained it, when it was imported under another; null: its own"
    )
    parameters: dict[str, Any]
    data_start: date | None
    data_end: date | None
    created_at: datetime


class ModelVersionList(BaseModel):
    count: int
    versions: list[ModelVersionOut]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticker: Ticker
    days: WholeNumber = Field(1, ge=1, le=MAX_FORECAST_DAYS, description="trading days ahead, each from the one before")
    version_id: uuid.UUID | None = Field(None, description="a stored version of this ticker; default: the active one")


class PredictionOut(Orm):
    id: uuid.UUID
    ticker: str
    model_version_id: uuid.UUID | None
    prediction_date: date
    target_date: date
    base_close: float | None
    predicted_value: float
    lower: float | None
    upper: float | None
    confidence_score: float | None


class PredictionList(BaseModel):
    count: int
    added: int = Field(
        description="how many of these predictions this request added to the ledger; 0 when the same forecast "
        "(version, last close, target days) was already there, whose rows are returned as first made"
    )
    stale: bool = Field(
        description="true when the exchange has completed a session after last_bar: the forecast starts from "
        "old prices; refresh them (the Tickers page, or POST /v1/prices) and predict again"
    )
    last_bar: date = Field(description="the day of the last close the forecasts start from")
    model: ModelVersionOut = Field(description="the version that made them, with its test metrics and verdict")
    predictions: list[PredictionOut]


class LedgerRow(BaseModel):
    id: uuid.UUID
    ticker: str
    model_version_id: uuid.UUID | None = Field(
        description="the version that made it (GET /v1/models/{id}); null once that version is deleted"
    )
    model: str = Field(
        description='the version and its type, "SPX v2 · auto ensemble"; "SPX v2 · auto ensemble, deleted" once '
        'deleted ("SPX · deleted model" for a prediction stored before versions were named on it)'
    )
    model_type: str | None = Field(
        description="the version's model type (auto, ridge, lstm, ...), kept once deleted; none for a deleted "
        "version's prediction stored before versions were named on it"
    )
    prediction_date: date
    target_date: date
    base_close: float | None
    predicted_value: float
    lower: float | None
    upper: float | None
    confidence_score: float | None
    actual_close: float | None = Field(description="the target day's close as traded, once matured")
    actual_value: float | None = Field(
        description="that close on the prediction day's price scale, as predicted_value is: a split between the "
        "two days, once the adjusted close accounts for it, is no move"
    )
    matured_at: datetime | None
    error: float | None = Field(description="actual minus predicted, once matured")
    inside: bool | None = Field(description="whether the actual fell inside the interval, once matured")


class Ledger(BaseModel):
    count: int
    next_cursor: str | None = Field(
        description="where the next page starts: pass it back as `cursor`; null on the last page "
        "(the Next-Cursor header carries it too, the only place a CSV answer has for it)"
    )
    ledger: list[LedgerRow]


class TrainingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticker: Ticker
    config: Settings = Field(default_factory=TrainingConfig)


class WalkForwardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticker: Ticker
    windows: WholeNumber = Field(WALK_FORWARD_WINDOWS, ge=1, le=50)
    # The bounds on the number itself, ahead of the whole-number check: on the optional field, or after the
    # check, they stood in the schema as pydantic's own ge/le, words JSON Schema lacks, and no client saw them.
    step: Annotated[int, Field(ge=5, le=1000), BeforeValidator(_whole_number)] | None = Field(
        None,
        description="trading days per window; null: the config's test fraction of the history (the last 20 % by "
        "default) split evenly over the windows",
    )
    retrain_every: WholeNumber = Field(1, ge=1, le=50)
    config: Settings = Field(default_factory=TrainingConfig)

    @field_validator("retrain_every")
    @classmethod
    def _retrain_within_windows(cls, retrain_every: int, info: ValidationInfo) -> int:
        # On the field, not the model: a rule across fields is named at the field it judges.
        windows = info.data.get("windows")
        if windows is not None and retrain_every > windows:
            raise ValueError(f"1 to the number of windows ({windows}), got {retrain_every}")
        return retrain_every


class JobOut(Orm):
    id: uuid.UUID
    ticker: str
    kind: str
    model_type: ConfiguredKind | None = Field(
        validation_alias="config",
        description="the model type the job trains or evaluates; null for a leaderboard, which ranks every model type",
    )
    status: str
    progress: float
    message: str | None
    error: str | None
    cancel_requested: bool
    model_version_id: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @field_validator("model_type")
    @classmethod
    def _leaderboard_has_none(cls, model_type: str | None, info: ValidationInfo) -> str | None:
        # Its settings still hold the default type ("auto"), which the job does not train alone.
        return None if info.data.get("kind") == "leaderboard" else model_type


class JobList(BaseModel):
    count: int
    jobs: list[JobOut]


class EvaluationOut(Judged):
    id: uuid.UUID
    ticker: str
    kind: str
    model_type: ConfiguredKind = Field(validation_alias="config", description="the model type the run evaluated")
    model_version_id: uuid.UUID | None
    config: dict[str, Any]
    created_at: datetime


class EvaluationDetail(EvaluationOut):
    windows: list[Any]


class EvaluationList(BaseModel):
    count: int
    evaluations: list[EvaluationOut]


class BacktestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evaluation_id: uuid.UUID = Field(description="the walk-forward run whose out-of-sample forecasts are traded")
    threshold_bps: StrictFloat = Field(
        0.0, ge=0, le=500, allow_inf_nan=False, description="act only on larger predicted moves"
    )
    cost_bps: StrictFloat = Field(
        5.0, ge=0, le=100, allow_inf_nan=False, description="paid on every unit of position change"
    )
    allow_short: StrictBool = False


class BacktestOut(Orm):
    id: uuid.UUID
    ticker: str
    model_version_id: uuid.UUID | None
    config: dict[str, Any]
    metrics: dict[str, Any]
    created_at: datetime


class BacktestDetail(BacktestOut):
    trades: list[Any]
    equity_curve: list[Any]


class BacktestList(BaseModel):
    count: int
    backtests: list[BacktestOut]


class RiskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weights: dict[Ticker, Annotated[StrictFloat, Field(ge=0, le=1000, allow_inf_nan=False)]] = Field(
        min_length=1, max_length=20, description="portfolio weight per ticker; one ticker alone is a portfolio too"
    )
    benchmark: Ticker | None = Field(None, description="a ticker to measure beta against")

    @field_validator("weights", mode="before")
    @classmethod
    def _one_spelling_each(cls, weights: object) -> object:
        # Tickers read in any case: "^gspc" and "^GSPC" are one ticker, and the dict would keep one weight unsaid.
        if isinstance(weights, dict):
            spelt: dict[str, str] = {}
            for name in weights:
                try:
                    ticker = normalise_ticker(name)
                except TickerError:
                    continue  # not a ticker at all: the key's own validation names it
                if ticker in spelt:
                    raise ValueError(f"{spelt[ticker]!r} and {name!r} are the same ticker, {ticker}: give it once")
                spelt[ticker] = name
        return weights

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, weights: dict[str, float]) -> dict[str, float]:
        if sum(weights.values()) <= 0:
            raise ValueError("at least one above 0")
        return weights


class RiskOut(Orm):
    id: uuid.UUID
    tickers: list[str]
    weights: list[Any]
    benchmark: str | None
    start_date: date | None
    end_date: date | None
    metrics: dict[str, Any]
    created_at: datetime


class RiskList(BaseModel):
    count: int
    results: list[RiskOut]


class KeyUsageOut(Orm):
    api_key_id: uuid.UUID
    key_name: str
    key_prefix: str
    key_status: Literal["active", "expired", "revoked"] = Field(
        description="whether the key authenticates now (active) or why not"
    )
    key_active: bool = Field(description="true when key_status is active")
    endpoint: str
    requests: int
    last_day: date


class UsageList(BaseModel):
    count: int
    usage: list[KeyUsageOut]
