"""Forecasting: model versions with their artifacts, training jobs, predictions, backtests, risk."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.models._columns import created_at, one_of, owner_fk, uuid_pk


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ModelVersion(Base):
    """A trained model: parameters, metrics, the data it saw, and its artifact with a checksum."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("user_id", "ticker", "version"),
        Index(
            "uq_model_versions_active",
            "user_id",
            "ticker",
            unique=True,
            postgresql_where=text("is_active"),
            sqlite_where=text("is_active = 1"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = owner_fk(index=False)
    ticker: Mapped[str] = mapped_column(String(32))
    version: Mapped[int]
    model_type: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data_start: Mapped[date | None]
    data_end: Mapped[date | None]
    data_hash: Mapped[str | None] = mapped_column(String(64))
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    # The SHA-256 of the model itself (type, settings, files), whatever signed or zipped it: one model is
    # imported once per ticker. None where the stored artifact could not be read when it was computed.
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    # The ticker whose prices the model was fitted on, when not this version's own (an import under another).
    trained_on: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = created_at()


class ModelVersionNumber(Base):
    """The last version number given per user and ticker: a deleted version's number is not given again."""

    __tablename__ = "model_version_numbers"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ticker: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_version: Mapped[int]


class TrainingJob(Base):
    """A background training or evaluation run and its live progress."""

    __tablename__ = "training_jobs"
    __table_args__ = (
        one_of("status", [s.value for s in JobStatus]),
        # A key names one job of its user: a retried submission finds the job the first one queued.
        Index("uq_training_jobs_idempotency_key", "user_id", "idempotency_key", unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = owner_fk()
    ticker: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), default="train")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    history: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    queue_job_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))  # the API's Idempotency-Key header
    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    model_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))


class Prediction(Base):
    """One forecast in the ledger; actual_value is filled once the target date has passed."""

    __tablename__ = "predictions"
    __table_args__ = (
        Index("idx_predictions_user_ticker", "user_id", "ticker"),
        Index("idx_predictions_date", "target_date"),
        # One forecast per version, day made and target day: Predict pressed twice, or a retried request,
        # finds the row already there. A deleted version's rows (link cleared) fall outside it, as they should.
        Index("uq_predictions_forecast", "user_id", "model_version_id", "prediction_date", "target_date", unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = owner_fk(index=False)
    # The ledger outlives a deleted model version: the row stays, the link is cleared.
    model_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), index=True
    )
    ticker: Mapped[str] = mapped_column(String(32))
    # The version's number and type as made: once the version is deleted they still name it ("SPX v2 · ridge").
    model_version_number: Mapped[int | None]
    model_type: Mapped[str | None] = mapped_column(String(32))
    prediction_date: Mapped[date]
    target_date: Mapped[date]
    # The last close the forecast started from: persistence's forecast for the same target day.
    base_close: Mapped[float | None]
    predicted_value: Mapped[float]
    lower: Mapped[float | None]
    upper: Mapped[float | None]
    confidence_score: Mapped[float | None]
    actual_value: Mapped[float | None]
    matured_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()


class Evaluation(Base):
    """A stored evaluation run, such as a walk-forward: its settings, per-window and overall metrics."""

    __tablename__ = "evaluations"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = owner_fk()
    model_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    ticker: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32), default="walkforward")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    windows: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = created_at()


class BacktestResult(Base):
    """A strategy backtest against buy-and-hold."""

    __tablename__ = "backtest_results"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = owner_fk()
    model_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    ticker: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trades: Mapped[list[Any]] = mapped_column(default=list)
    equity_curve: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = created_at()


class RiskMetrics(Base):
    """Risk figures of a ticker or a weighted portfolio over a date range."""

    __tablename__ = "risk_metrics"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = owner_fk()
    tickers: Mapped[list[str]] = mapped_column(default=list)
    weights: Mapped[list[Any]] = mapped_column(default=list)
    benchmark: Mapped[str | None] = mapped_column(String(32))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created_at()
