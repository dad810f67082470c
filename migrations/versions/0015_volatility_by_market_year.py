"""Stored historical volatility of coins and currency pairs annualised by their own market's year.

hv_20 was annualised by an exchange's 252 days for every ticker; a coin trades 365 days a year and a
currency pair 260, as risk figures and backtests already count them. The daily deviation is unchanged,
so the stored values scale by sqrt(days / 252). The screener's year for a coin is now its last 365
rows: the median kept here is that of its last 252 until the coin's prices are next written.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import math
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rule as it stood at this revision (core.data.calendar.exchange_for): a migration must not follow
# later changes to it.
CRYPTO_PAIR = re.compile(r"^[A-Z0-9]{2,12}-(USD|USDT|USDC|EUR|GBP|JPY|CAD|AUD|CHF|CNY|KRW|INR|BTC|ETH)$")
EXCHANGE_DAYS_A_YEAR = 252
COLUMNS = {"technical_indicators": ("hv_20",), "latest_indicators": ("hv_20", "hv_20_year_median")}


def _days_a_year(ticker: str) -> int:
    symbol = ticker.upper()
    if CRYPTO_PAIR.match(symbol):
        return 365
    if symbol.endswith("=X"):
        return 260
    return EXCHANGE_DAYS_A_YEAR


def _rescale(exponent: int) -> None:
    connection = op.get_bind()
    tickers = connection.scalars(
        sa.text("SELECT ticker FROM technical_indicators UNION SELECT ticker FROM latest_indicators")
    ).all()
    for ticker in tickers:
        days = _days_a_year(ticker)
        if days == EXCHANGE_DAYS_A_YEAR:
            continue
        factor = math.sqrt(days / EXCHANGE_DAYS_A_YEAR) ** exponent
        for table, columns in COLUMNS.items():
            assignments = ", ".join(f"{column} = {column} * :factor" for column in columns)
            connection.execute(
                sa.text(f"UPDATE {table} SET {assignments} WHERE ticker = :ticker"),
                {"factor": factor, "ticker": ticker},
            )


def upgrade() -> None:
    _rescale(1)


def downgrade() -> None:
    _rescale(-1)
