"""The prediction ledger: forecasts as made, and their actual values once the day has come."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, literal, or_, select, true, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import ModelVersion, Prediction, PriceSeriesVersion
from db.repositories.actor import Actor, own_rows, shared_or_own
from db.types import utc_now

# What makes two rows one forecast (the unique index uq_predictions_forecast).
FORECAST_KEY = ["user_id", "model_version_id", "prediction_date", "target_date"]

LEDGER_COLUMNS = (
    "id", "ticker", "model_version_id", "model_version", "model_type", "version_deleted", "prediction_date",
    "target_date", "base_close", "predicted_value", "lower", "upper", "confidence_score", "actual_value",
    "matured_at", "created_at",
)  # fmt: skip
# The ledger's one order, newest first: target day, then the moment stored, then the id, which no two rows
# share, so a page's last row says exactly where the next page starts.
LEDGER_ORDER = (Prediction.target_date, Prediction.created_at, Prediction.id)


@dataclass(frozen=True)
class LedgerPosition:
    """A row's place in the ledger's order (LEDGER_ORDER): a page read after it starts with the next row."""

    target_date: date
    created_at: datetime
    id: uuid.UUID


def keep_forecast_run(*, session: Session, rows: Sequence[dict[str, Any]]) -> tuple[list[Prediction], int]:
    """Store one run's forecasts (one user, version and day made) that the ledger lacks.

    Returns the ledger's rows for the run's target days, earliest first, and how many of them this call
    added: a day already forecast keeps the row made first. ON CONFLICT rather than look-then-insert, so
    a retried request racing the first one waits for it and adds nothing.
    """
    if not rows:
        return [], 0
    (run,) = {(row["user_id"], row["model_version_id"], row["prediction_date"]) for row in rows}
    new_ids = {row.setdefault("id", uuid.uuid4()) for row in rows}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Prediction).on_conflict_do_nothing(index_elements=FORECAST_KEY), list(rows))
    user_id, version_id, made_on = run
    stored = session.scalars(
        select(Prediction)
        .where(
            Prediction.user_id == user_id,
            Prediction.model_version_id == version_id,
            Prediction.prediction_date == made_on,
            Prediction.target_date.in_([row["target_date"] for row in rows]),
        )
        .order_by(Prediction.target_date)
    ).all()
    return list(stored), sum(row.id in new_ids for row in stored)


def count_predictions_of(*, session: Session, version: ModelVersion) -> int:
    """How many ledger rows the version made."""
    query = select(func.count()).select_from(Prediction).where(Prediction.model_version_id == version.id)
    return int(session.scalar(query) or 0)


def due_predictions(*, session: Session, ticker: str, up_to: date | None) -> Sequence[Prediction]:
    """Predictions of a ticker whose day has come (target_date <= up_to; None: no price stored), and every
    matured one: a close rewritten since may change an actual, a close deleted since may clear it."""
    has_come = Prediction.actual_value.is_not(None)
    if up_to is not None:
        has_come = or_(Prediction.target_date <= up_to, has_come)
    return session.scalars(select(Prediction).where(Prediction.ticker == ticker, has_come)).all()


def set_actual(*, session: Session, prediction_id: uuid.UUID, actual: float) -> bool:
    """Record the target day's close as stored now; True when that changed the row.

    matured_at stays the first time the prediction met its actual.
    """
    result = session.execute(
        update(Prediction)
        .where(
            Prediction.id == prediction_id,
            or_(Prediction.actual_value.is_(None), Prediction.actual_value != actual),
        )
        .values(actual_value=actual, matured_at=func.coalesce(Prediction.matured_at, utc_now()))
    )
    return result.rowcount == 1


def clear_actual(*, session: Session, prediction_id: uuid.UUID) -> bool:
    """Make a matured prediction pending again (its close is no longer stored); True when it was matured."""
    result = session.execute(
        update(Prediction)
        .where(Prediction.id == prediction_id, Prediction.actual_value.is_not(None))
        .values(actual_value=None, matured_at=None)
    )
    return result.rowcount == 1


def read_ledger(
    *, session: Session, actor: Actor, ticker: str | None = None, model_version_id: uuid.UUID | None = None,
    since: date | None = None, matured_after: datetime | None = None, limit: int | None = None,
    after: LedgerPosition | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The actor's predictions, newest target day first, with the version (id, number and type) they came from
    and whether that version is deleted (its number and type unknown for rows made before 0013), and when
    each was stored (created_at, its place in the order with target_date and id).

    matured_after: only those that met their actual after this moment; limit: the first so many;
    after: only the rows past this position, so a client's pages neither skip nor repeat a row when
    predictions are added meanwhile (an offset would).
    """
    query = (
        select(
            Prediction.id,
            Prediction.ticker,
            Prediction.model_version_id,
            func.coalesce(ModelVersion.version, Prediction.model_version_number).label("model_version"),
            func.coalesce(ModelVersion.model_type, Prediction.model_type).label("model_type"),
            Prediction.model_version_id.is_(None).label("version_deleted"),
            Prediction.prediction_date,
            Prediction.target_date,
            Prediction.base_close,
            Prediction.predicted_value,
            Prediction.lower,
            Prediction.upper,
            Prediction.confidence_score,
            Prediction.actual_value,
            Prediction.matured_at,
            Prediction.created_at,
        )
        .outerjoin(ModelVersion, ModelVersion.id == Prediction.model_version_id)
        .where(own_rows(Prediction.user_id, actor))
        .order_by(*(column.desc() for column in LEDGER_ORDER))
    )
    if ticker:
        query = query.where(Prediction.ticker == ticker)
    if model_version_id:
        query = query.where(Prediction.model_version_id == model_version_id)
    if since:
        query = query.where(Prediction.target_date >= since)
    if matured_after is not None:
        query = query.where(Prediction.actual_value.is_not(None), Prediction.matured_at > matured_after)
    if after is not None:
        # Typed as the columns, so each value is stored-form alike (a UUID as SQLite's hex text, say).
        values = (after.target_date, after.created_at, after.id)
        query = query.where(
            tuple_(*LEDGER_ORDER) < tuple_(*(literal(v, c.type) for v, c in zip(values, LEDGER_ORDER, strict=True)))
        )
    if limit is not None:
        query = query.limit(limit)
    return pd.DataFrame(session.execute(query).all(), columns=list(LEDGER_COLUMNS))


@dataclass(frozen=True)
class LedgerFreshness:
    """A few numbers that change whenever the actor's ledger, as read_ledger and ledger_with_outcomes give
    it, does: equal freshness, equal ledgers, so a reader holding a copy compares these instead of the rows."""

    user_id: uuid.UUID
    predictions: int
    newest_made: datetime | None
    newest_matured: datetime | None
    linked_to_a_version: int  # falls when a version is deleted: its rows are named "…, deleted"
    matured: int
    # A corrected close rewrites an actual and keeps matured_at; such rewrites come with a price write,
    # which the series below see too, but the sum costs nothing in the same scan.
    actual_total: float | None
    price_series: int
    # The scale of the actuals is read from the adjusted closes as they are now (a split confirmed later).
    newest_price_change: datetime | None


def ledger_freshness(*, session: Session, actor: Actor) -> LedgerFreshness:
    """The actor's LedgerFreshness, in one query: aggregates of their predictions and of the price series
    of the tickers they predicted (shared and their own), the scopes ledger_with_outcomes reads."""
    own = own_rows(Prediction.user_id, actor)
    ledger = (
        select(
            func.count().label("predictions"),
            func.max(Prediction.created_at).label("newest_made"),
            func.max(Prediction.matured_at).label("newest_matured"),
            func.count(Prediction.model_version_id).label("linked"),
            func.count(Prediction.actual_value).label("matured"),
            func.sum(Prediction.actual_value).label("actual_total"),
        )
        .where(own)
        .subquery()
    )
    prices = (
        select(
            func.count().label("series"),
            func.max(PriceSeriesVersion.changed_at).label("newest_change"),
        )
        .where(
            PriceSeriesVersion.ticker.in_(select(Prediction.ticker).where(own).distinct()),
            shared_or_own(PriceSeriesVersion.owner_id, actor),
        )
        .subquery()
    )
    row = session.execute(select(ledger, prices).select_from(ledger.join(prices, true()))).one()
    return LedgerFreshness(
        user_id=actor.user_id,
        predictions=row.predictions,
        newest_made=row.newest_made,
        newest_matured=row.newest_matured,
        linked_to_a_version=row.linked,
        matured=row.matured,
        actual_total=row.actual_total,
        price_series=row.series,
        newest_price_change=row.newest_change,
    )


def any_predictions(*, session: Session, actor: Actor) -> bool:
    return session.scalar(select(select(Prediction.id).where(own_rows(Prediction.user_id, actor)).exists())) or False


def count_matured(*, session: Session, actor: Actor, since: datetime) -> int:
    """How many of the actor's predictions met their actual value after `since`."""
    return session.scalar(
        select(func.count())
        .select_from(Prediction)
        .where(own_rows(Prediction.user_id, actor), Prediction.actual_value.is_not(None), Prediction.matured_at > since)
    )
