"""The prediction ledger: forecasts as made, and their actual values once the day has come."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import ModelVersion, Prediction
from db.repositories.actor import Actor, own_rows
from db.types import utc_now

LEDGER_COLUMNS = (
    "id", "ticker", "model_version", "model_type", "prediction_date", "target_date", "base_close", "predicted_value",
    "lower", "upper", "confidence_score", "actual_value", "matured_at",
)  # fmt: skip


def add_predictions(*, session: Session, rows: Sequence[Prediction]) -> None:
    session.add_all(rows)
    session.flush()


def count_predictions_of(*, session: Session, version: ModelVersion) -> int:
    """How many ledger rows the version made."""
    query = select(func.count()).select_from(Prediction).where(Prediction.model_version_id == version.id)
    return int(session.scalar(query) or 0)


def pending_predictions(*, session: Session, ticker: str, up_to: date) -> Sequence[Prediction]:
    """Predictions of a ticker whose day has come (target_date <= up_to) and that have no actual yet."""
    query = select(Prediction).where(
        Prediction.ticker == ticker, Prediction.actual_value.is_(None), Prediction.target_date <= up_to
    )
    return session.scalars(query).all()


def set_actual(*, session: Session, prediction_id: uuid.UUID, actual: float) -> bool:
    """Record the actual value once: a second call for the same prediction changes nothing."""
    result = session.execute(
        update(Prediction)
        .where(Prediction.id == prediction_id, Prediction.actual_value.is_(None))
        .values(actual_value=actual, matured_at=utc_now())
    )
    return result.rowcount == 1


def read_ledger(
    *, session: Session, actor: Actor, ticker: str | None = None, model_version_id: uuid.UUID | None = None,
    since: date | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The actor's predictions, newest target day first, with the version number and type they came from
    (none once that version is deleted)."""
    query = (
        select(
            Prediction.id,
            Prediction.ticker,
            ModelVersion.version.label("model_version"),
            ModelVersion.model_type,
            Prediction.prediction_date,
            Prediction.target_date,
            Prediction.base_close,
            Prediction.predicted_value,
            Prediction.lower,
            Prediction.upper,
            Prediction.confidence_score,
            Prediction.actual_value,
            Prediction.matured_at,
        )
        .outerjoin(ModelVersion, ModelVersion.id == Prediction.model_version_id)
        .where(own_rows(Prediction.user_id, actor))
        .order_by(Prediction.target_date.desc(), Prediction.created_at.desc())
    )
    if ticker:
        query = query.where(Prediction.ticker == ticker)
    if model_version_id:
        query = query.where(Prediction.model_version_id == model_version_id)
    if since:
        query = query.where(Prediction.target_date >= since)
    return pd.DataFrame(session.execute(query).all(), columns=list(LEDGER_COLUMNS))
