"""Stored MACD from the EMAs the chart draws, and OBV from 0, as TradingView computes them.

TA-Lib's MACD seeded its fast EMA where the slow one starts, so the stored line differed from the
stored ema_12 - ema_26 for months of a history, and with it the signal, the histogram and the
screener's macd_cross_age. The app now takes the line as EMA(12) - EMA(26), the signal as TA-Lib's
EMA(9) of the line from its first value, and the histogram as their difference
(core.indicators._macd); the stored EMAs are the ones it uses, so the rows are put right here from
them. TA-Lib's OBV started at the first day's volume, TradingView's at 0: every stored OBV less its
scope's first one. Shared tickers whose close / adjusted close steps by a split below 1.4 (5:4, 4:3,
6:5 and their reverses), whose earlier volumes the app now counts in the shares after the split,
have their OBV recomputed from their prices.

Not put right here: an owner's stored values over shared days split this way, and an owner's rows
uploaded without an adjusted close over shared split days (now put on the shared rows' scale); both
are recomputed when the ticker's prices are next written in that scope. Downgrading keeps the values
(the older code rewrites them on the ticker's next write): TA-Lib's seeding needs the closes, which
the stored indicators do not hold.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

import re
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import sqlalchemy as sa
import talib
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rules as they stand at this revision (core.indicators, core.indicator_store.latest_rows,
# core.data.calendar.days_a_year, core.data.splits.split_steps): a migration must not follow later changes.
FAST, SLOW, SIGNAL = 12, 26, 9
CRYPTO_PAIR = re.compile(r"^[A-Z0-9]{2,12}-(USD|USDT|USDC|EUR|GBP|JPY|CAD|AUD|CHF|CNY|KRW|INR|BTC|ETH)$")
SHARE_FACTORS = tuple(
    Fraction(new, old)
    for new, old in (
        (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (8, 1), (10, 1), (15, 1), (20, 1), (3, 2),
        (1, 2), (1, 3), (1, 4), (1, 5), (1, 8), (1, 10), (1, 15), (1, 20), (1, 25), (1, 50), (2, 3),
        (5, 4), (4, 3), (6, 5), (4, 5), (3, 4), (5, 6),
    )
)  # fmt: skip
NEWLY_COUNTED = {Fraction(5, 4), Fraction(4, 3), Fraction(6, 5), Fraction(4, 5), Fraction(3, 4), Fraction(5, 6)}
STEP_TOLERANCE = 0.01


def _days_a_year(ticker: str) -> int:
    symbol = ticker.upper()
    if CRYPTO_PAIR.match(symbol):
        return 365
    if symbol.endswith("=X"):
        return 260
    return 252


def _none(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(value) else float(value) for value in values]


def _macd(ema_fast: np.ndarray, ema_slow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The MACD of a scope from its stored EMAs; None for one too short to have one (or without them), left as stored."""
    line = ema_fast - ema_slow
    valid = np.flatnonzero(~np.isnan(line))
    if len(line) < SLOW + SIGNAL - 1 or len(valid) < SIGNAL:
        return None
    signal = np.full(len(line), np.nan)
    signal[valid[0] :] = talib.EMA(line[valid[0] :], timeperiod=SIGNAL)
    return line, signal, line - signal


def _share_counts(close: np.ndarray, adjusted: np.ndarray) -> tuple[np.ndarray, bool]:
    """Per day, the shares one share became through the later splits; whether a newly counted split is among them."""
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(close != 0, adjusted / close, np.nan)
        factor = np.where(np.isnan(factor), 1.0, factor)
        ratio = 1.0 / factor
        steps = ratio[:-1] / ratio[1:]
        moves = np.abs(np.log(steps))
    shares, newly = np.ones(len(close)), False
    # The smallest split, 6:5, is a step of log(1.2) = 0.18 less its tolerance.
    for position in np.flatnonzero(np.isfinite(moves) & (moves > 0.17)):
        step = float(steps[position])
        split = min(SHARE_FACTORS, key=lambda f: abs(step / float(f) - 1))
        if abs(step / float(split) - 1) <= STEP_TOLERANCE:
            shares[: position + 1] *= float(split)
            newly |= split in NEWLY_COUNTED
    return shares, newly


def _recounted_obv(connection: sa.Connection, ticker: str) -> dict[object, float] | None:
    """The shared scope's OBV by price row date, from its prices, if a newly counted split is in them."""
    rows = connection.execute(
        sa.text(
            "SELECT date, close, adjusted_close, volume FROM historical_data"
            " WHERE ticker = :ticker AND owner_id IS NULL ORDER BY date"
        ),
        {"ticker": ticker},
    ).all()
    if len(rows) < 2:
        return None
    close = np.array([row[1] for row in rows], dtype=float)
    adjusted = np.array([row[2] for row in rows], dtype=float)
    volume = np.array([row[3] for row in rows], dtype=float)
    shares, newly = _share_counts(close, adjusted)
    if not newly:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(close != 0, adjusted / close, np.nan)
    prices = close * np.where(np.isnan(factor), 1.0, factor)
    counted = volume * shares
    obv = talib.OBV(prices, counted) - counted[0]
    return {str(row[0])[:10]: float(value) for row, value in zip(rows, obv, strict=True)}


def upgrade() -> None:
    connection = op.get_bind()
    uuid_type = sa.Uuid()
    scopes = connection.execute(
        sa.text("SELECT DISTINCT owner_id, ticker FROM technical_indicators").columns(owner_id=uuid_type)
    ).all()
    for owner_id, ticker in scopes:
        where = "ticker = :ticker AND " + ("owner_id IS NULL" if owner_id is None else "owner_id = :owner")
        parameters: dict[str, object] = {"ticker": ticker}
        if owner_id is not None:
            parameters["owner"] = owner_id
        bind = (lambda statement: statement.bindparams(sa.bindparam("owner", type_=uuid_type))) if owner_id else None
        select = sa.text(f"SELECT id, date, ema_12, ema_26, obv FROM technical_indicators WHERE {where} ORDER BY date")
        rows = connection.execute(bind(select) if bind else select, parameters).all()
        ema_fast = np.array([np.nan if row[2] is None else row[2] for row in rows], dtype=float)
        ema_slow = np.array([np.nan if row[3] is None else row[3] for row in rows], dtype=float)
        obv = np.array([np.nan if row[4] is None else row[4] for row in rows], dtype=float)
        macd = _macd(ema_fast, ema_slow)
        recounted = _recounted_obv(connection, ticker) if owner_id is None else None
        if recounted is not None:
            obv = np.array([recounted.get(str(row[1])[:10], np.nan) for row in rows], dtype=float)
        elif len(obv):
            obv = obv - obv[0]
        if macd is None:
            update = "UPDATE technical_indicators SET obv = :obv WHERE id = :id"
            updates = [{"id": row[0], "obv": o} for row, o in zip(rows, _none(obv), strict=True)]
        else:
            update = (
                "UPDATE technical_indicators SET macd = :macd, macd_signal = :signal, macd_hist = :hist, obv = :obv"
                " WHERE id = :id"
            )
            values = zip(*(_none(series) for series in macd), _none(obv), strict=True)
            updates = [
                {"id": row[0], "macd": m, "signal": s, "hist": h, "obv": o}
                for row, (m, s, h, o) in zip(rows, values, strict=True)
            ]
        if updates:
            connection.execute(sa.text(update), updates)  # the id as read back: no conversion either way
        if macd is not None:
            _update_latest(connection, bind, where, parameters, ticker, macd[2])


def _update_latest(connection, bind, where: str, parameters: dict, ticker: str, histogram: np.ndarray) -> None:
    """The screener's histogram and days since MACD last crossed above its signal, over the last market year."""
    year = histogram[-_days_a_year(ticker) :]
    before = np.concatenate([[np.nan], year[:-1]])
    crossed = np.flatnonzero((year > 0) & (before <= 0))
    age = int(len(year) - 1 - crossed[-1]) if len(crossed) else None
    latest = None if not len(year) or np.isnan(year[-1]) else float(year[-1])
    statement = sa.text(f"UPDATE latest_indicators SET macd_hist = :hist, macd_cross_age = :age WHERE {where}")
    connection.execute(bind(statement) if bind else statement, parameters | {"hist": latest, "age": age})


def downgrade() -> None:
    pass
