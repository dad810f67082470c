"""Market data: cached daily prices, their indicators, and the record of every upload."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.models._columns import created_at, one_of, owner_fk, uuid_pk
from db.types import utc_now

PRICE_SOURCES = ("yahoo", "sample", "upload")
UPLOAD_KINDS = ("prices", "tickers")
UPLOAD_STATUSES = ("accepted", "partial", "rejected")
ACTION_KINDS = ("split", "dividend")


def unique_per_scope(table: str, *columns: str) -> tuple[Index, Index]:
    """Uniqueness among shared rows and, apart, among each owner's rows.

    Two partial indexes because a plain UNIQUE(owner_id, ...) would let PostgreSQL store the same
    shared row twice (NULLs are distinct there).
    """
    key = "_".join(columns)
    shared = text("owner_id IS NULL")
    owned = text("owner_id IS NOT NULL")
    return (
        Index(f"uq_{table}_shared_{key}", *columns, unique=True, postgresql_where=shared, sqlite_where=shared),
        Index(f"uq_{table}_owner_{key}", "owner_id", *columns, unique=True, postgresql_where=owned, sqlite_where=owned),
    )


class HistoricalPrice(Base):
    """One trading day of one ticker.

    Shared market data (Yahoo, the bundled sample) has no owner; a user's CSV upload is theirs.
    Uniqueness is split in two partial indexes because a plain UNIQUE(owner_id, ticker, date)
    would let PostgreSQL store the same shared day twice (NULLs are distinct there).
    """

    __tablename__ = "historical_data"
    __table_args__ = (
        Index("idx_historical_data_ticker_date", "ticker", "date"),
        *unique_per_scope("historical_data", "ticker", "date"),
        one_of("source", PRICE_SOURCES),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID | None] = owner_fk(nullable=True, index=False)
    ticker: Mapped[str] = mapped_column(String(32))
    date: Mapped[date]
    open: Mapped[float]
    high: Mapped[float]
    low: Mapped[float]
    close: Mapped[float]
    adjusted_close: Mapped[float]
    volume: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))
    last_updated: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class PriceSeriesVersion(Base):
    """Which state one ticker's prices in one scope are in: a new random version on every write.

    Readers that keep a rendered copy of a series (the API's JSON) compare versions instead of the
    rows. Random rather than counted, so a version never repeats: not after a delete and a new
    upload, not in another database the same process reads.
    """

    __tablename__ = "price_series_versions"
    __table_args__ = unique_per_scope("price_series_versions", "ticker")

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID | None] = owner_fk(nullable=True, index=False)
    ticker: Mapped[str] = mapped_column(String(32))
    version: Mapped[uuid.UUID]
    changed_at: Mapped[datetime] = mapped_column(default=utc_now)


class PriceSummary(Base):
    """What one ticker's cache holds in one scope from one source: first and last day, days, last write.

    Kept by every write of the prices (db.repositories.prices), in the write's transaction, so the
    ticker list reads one row per series instead of aggregating every stored day.
    """

    __tablename__ = "price_summaries"
    __table_args__ = (*unique_per_scope("price_summaries", "ticker", "source"), one_of("source", PRICE_SOURCES))

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID | None] = owner_fk(nullable=True, index=False)
    ticker: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    first_date: Mapped[date]
    last_date: Mapped[date]
    days: Mapped[int]
    last_updated: Mapped[datetime]


class TechnicalIndicator(Base):
    """Indicator values with their default parameters for one ticker's day in one scope.

    Keyed like the prices (scope, ticker, date) rather than by a reference to the price row: a
    per-row foreign key made every bulk write check 100,000s of references. Deleting a ticker's
    prices deletes these rows with them (db.repositories.prices.delete_prices); deleting the owner
    cascades.
    """

    __tablename__ = "technical_indicators"
    __table_args__ = unique_per_scope("technical_indicators", "ticker", "date")

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID | None] = owner_fk(nullable=True, index=False)
    ticker: Mapped[str] = mapped_column(String(32))
    date: Mapped[date]
    rsi_14: Mapped[float | None]
    ema_12: Mapped[float | None]
    ema_26: Mapped[float | None]
    ema_50: Mapped[float | None]
    ema_200: Mapped[float | None]
    hv_20: Mapped[float | None]
    bb_upper: Mapped[float | None]
    bb_middle: Mapped[float | None]
    bb_lower: Mapped[float | None]
    macd: Mapped[float | None]
    macd_signal: Mapped[float | None]
    macd_hist: Mapped[float | None]
    atr_14: Mapped[float | None]
    obv: Mapped[float | None]
    computed_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class LatestIndicators(Base):
    """What the screener asks of one ticker in one scope, kept when its indicators are stored.

    The screener's conditions look back a trading year (the HV median, the last MACD cross): kept
    here as two numbers, they spare it reading 250 rows of every ticker on each run.
    """

    __tablename__ = "latest_indicators"
    __table_args__ = unique_per_scope("latest_indicators", "ticker")

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID | None] = owner_fk(nullable=True, index=False)
    ticker: Mapped[str] = mapped_column(String(32))
    date: Mapped[date]
    close: Mapped[float]
    rsi_14: Mapped[float | None]
    ema_200: Mapped[float | None]
    macd_hist: Mapped[float | None]
    hv_20: Mapped[float | None]
    hv_20_year_median: Mapped[float | None]
    # Trading days since MACD last crossed above its signal within the year (0: on the latest day).
    macd_cross_age: Mapped[int | None]
    computed_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class CorporateAction(Base):
    """A split or dividend a source reported for one ticker and day, kept beside the raw prices.

    value is new shares per old share for a split (2.0 for 2:1, 0.1 for 1:10), cash per share for a
    dividend. Shared like the prices it came with, or the uploader's own.
    """

    __tablename__ = "corporate_actions"
    __table_args__ = (
        *unique_per_scope("corporate_actions", "ticker", "date", "kind"),
        one_of("kind", ACTION_KINDS),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID | None] = owner_fk(nullable=True, index=False)
    ticker: Mapped[str] = mapped_column(String(32))
    date: Mapped[date]
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[float]
    source: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = created_at()


class DataUpload(Base):
    """One uploaded file, accepted or not, with its validation summary."""

    __tablename__ = "data_uploads"
    __table_args__ = (one_of("kind", UPLOAD_KINDS), one_of("status", UPLOAD_STATUSES))

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = owner_fk()
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    # Every ticker the file held: a long or wide file may carry hundreds.
    tickers: Mapped[list[str]] = mapped_column(default=list)
    row_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16))
    # "metadata" is reserved on declarative classes, hence the attribute name.
    details: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = created_at()
