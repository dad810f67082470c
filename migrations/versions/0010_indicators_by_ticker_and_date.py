"""technical_indicators keyed by (scope, ticker, date) instead of a foreign key to each price row;
latest_indicators: what the screener reads, one row per ticker and scope.

The per-row foreign key made each bulk indicator write check every reference (about three times
the cost of the COPY itself); the screener read a year of every ticker on each run.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
INDICATORS = (
    "rsi_14", "ema_12", "ema_26", "ema_50", "ema_200", "hv_20", "bb_upper", "bb_middle", "bb_lower",
    "macd", "macd_signal", "macd_hist", "atr_14", "obv",
)  # fmt: skip
VALUES = ", ".join(INDICATORS)
INDICATORS_SCREENED = ("rsi_14", "ema_200", "macd_hist", "hv_20")
YEAR_ROWS = 252
SAME_SCOPE = "(hp.owner_id = ti.owner_id OR (hp.owner_id IS NULL AND ti.owner_id IS NULL))"


def _indicator_columns() -> list[sa.Column]:
    return [sa.Column(name, sa.Double(), nullable=True) for name in INDICATORS]


def _owner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["owner_id"], ["users.id"], name=op.f(f"fk_{table}_owner_id_users"), ondelete="CASCADE"
    )


def _per_scope_indexes(table: str, *columns: str) -> None:
    key = "_".join(columns)
    for name, keys, where in (
        (f"uq_{table}_shared_{key}", list(columns), "owner_id IS NULL"),
        (f"uq_{table}_owner_{key}", ["owner_id", *columns], "owner_id IS NOT NULL"),
    ):
        op.create_index(name, table, keys, unique=True, postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def _drop_per_scope_indexes(table: str, *columns: str) -> None:
    key = "_".join(columns)
    op.drop_index(f"uq_{table}_owner_{key}", table_name=table)
    op.drop_index(f"uq_{table}_shared_{key}", table_name=table)


def upgrade() -> None:
    op.execute(
        f"CREATE TABLE indicators_0010 AS SELECT ti.id, hp.owner_id, hp.ticker, hp.date, {VALUES}, ti.computed_at "
        "FROM technical_indicators ti JOIN historical_data hp ON hp.id = ti.price_id"
    )
    op.drop_table("technical_indicators")
    op.create_table(
        "technical_indicators",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        *_indicator_columns(),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        _owner_fk("technical_indicators"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technical_indicators")),
    )
    _per_scope_indexes("technical_indicators", "ticker", "date")
    columns = f"id, owner_id, ticker, date, {VALUES}, computed_at"
    op.execute(f"INSERT INTO technical_indicators ({columns}) SELECT {columns} FROM indicators_0010")
    op.drop_table("indicators_0010")

    latest = op.create_table(
        "latest_indicators",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("close", sa.Double(), nullable=False),
        sa.Column("rsi_14", sa.Double(), nullable=True),
        sa.Column("ema_200", sa.Double(), nullable=True),
        sa.Column("macd_hist", sa.Double(), nullable=True),
        sa.Column("hv_20", sa.Double(), nullable=True),
        sa.Column("hv_20_year_median", sa.Double(), nullable=True),
        sa.Column("macd_cross_age", sa.Integer(), nullable=True),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        _owner_fk("latest_indicators"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_latest_indicators")),
    )
    _per_scope_indexes("latest_indicators", "ticker")
    rows = _latest_rows()
    if rows:
        op.bulk_insert(latest, rows)


def _latest_rows() -> list[dict]:
    """The screener's row of every stored ticker and scope, from its last trading year.

    A copy of the rule the app applies when it stores indicators, as it is today: a revision never
    imports app code.
    """
    import uuid
    from datetime import UTC, datetime

    query = sa.text(
        "SELECT owner_id, ticker, date, close, rsi_14, ema_200, macd_hist, hv_20 FROM ("
        "SELECT ti.owner_id, ti.ticker, ti.date, hp.close, ti.rsi_14, ti.ema_200, ti.macd_hist, ti.hv_20, "
        "row_number() OVER (PARTITION BY ti.owner_id, ti.ticker ORDER BY ti.date DESC) AS age "
        f"FROM technical_indicators ti JOIN historical_data hp ON hp.ticker = ti.ticker AND hp.date = ti.date "
        f"AND {SAME_SCOPE}) recent WHERE age <= {YEAR_ROWS} ORDER BY owner_id, ticker, date"
    ).columns(owner_id=sa.Uuid(), date=sa.Date())
    frame = pd.DataFrame(op.get_bind().execute(query).all())
    if frame.empty:
        return []
    now = datetime.now(UTC)
    rows = []
    for (owner_id, ticker), days in frame.groupby(["owner_id", "ticker"], dropna=False, sort=False):
        last = days.iloc[-1]
        above = days["macd_hist"].to_numpy(dtype=float) > 0
        crossed = np.flatnonzero(above[1:] & ~above[:-1]) + 1
        rows.append(
            {
                "id": uuid.uuid4(),
                "owner_id": None if pd.isna(owner_id) else owner_id,
                "ticker": ticker,
                "date": last["date"],
                "close": float(last["close"]),
                **{name: None if pd.isna(last[name]) else float(last[name]) for name in INDICATORS_SCREENED},
                "hv_20_year_median": None if days["hv_20"].isna().all() else float(days["hv_20"].median()),
                "macd_cross_age": int(len(days) - 1 - crossed[-1]) if len(crossed) else None,
                "computed_at": now,
            }
        )
    return rows


def downgrade() -> None:
    _drop_per_scope_indexes("latest_indicators", "ticker")
    op.drop_table("latest_indicators")
    op.execute(
        f"CREATE TABLE indicators_0009 AS SELECT ti.id, hp.id AS price_id, {VALUES}, ti.computed_at "
        f"FROM technical_indicators ti JOIN historical_data hp ON hp.ticker = ti.ticker AND hp.date = ti.date "
        f"AND {SAME_SCOPE}"
    )
    _drop_per_scope_indexes("technical_indicators", "ticker", "date")
    op.drop_table("technical_indicators")
    op.create_table(
        "technical_indicators",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("price_id", sa.Uuid(), nullable=False),
        *_indicator_columns(),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["price_id"],
            ["historical_data.id"],
            name=op.f("fk_technical_indicators_price_id_historical_data"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technical_indicators")),
        sa.UniqueConstraint("price_id", name=op.f("uq_technical_indicators_price_id")),
    )
    columns = f"id, price_id, {VALUES}, computed_at"
    op.execute(f"INSERT INTO technical_indicators ({columns}) SELECT {columns} FROM indicators_0009")
    op.drop_table("indicators_0009")
