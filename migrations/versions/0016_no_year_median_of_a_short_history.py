"""No stored one-year HV median for a ticker whose last year holds too few hv_20 values.

The screener's "HV above its one-year median" compared a ticker's hv_20 with the median of however
many values it had: ten, for a month of prices. The app now keeps the median only when the last
market year of rows holds hv_20 on at least half of them (core.indicator_store.latest_rows); the
rows stored before are put right here, as an upload nobody writes again would keep its median for
good. Downgrading puts back the median of the values the year holds.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import re
import statistics
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rules as they stood at this revision (core.data.calendar.days_a_year, core.indicator_store):
# a migration must not follow later changes to them.
CRYPTO_PAIR = re.compile(r"^[A-Z0-9]{2,12}-(USD|USDT|USDC|EUR|GBP|JPY|CAD|AUD|CHF|CNY|KRW|INR|BTC|ETH)$")
LONGEST_YEAR = 365


def _days_a_year(ticker: str) -> int:
    symbol = ticker.upper()
    if CRYPTO_PAIR.match(symbol):
        return 365
    if symbol.endswith("=X"):
        return 260
    return 252


def _short_years() -> dict[tuple[object, str], list[float]]:
    """The hv_20 values of each scope's last market year that holds fewer than half a year of them."""
    query = sa.text(
        "SELECT owner_id, ticker, hv_20, age FROM ("
        "SELECT owner_id, ticker, hv_20, row_number() OVER (PARTITION BY owner_id, ticker ORDER BY date DESC) AS age "
        f"FROM technical_indicators) recent WHERE age <= {LONGEST_YEAR}"
    ).columns(owner_id=sa.Uuid())
    years: dict[tuple[object, str], list[float]] = {}
    for owner_id, ticker, hv_20, age in op.get_bind().execute(query):
        values = years.setdefault((owner_id, ticker), [])
        if hv_20 is not None and age <= _days_a_year(ticker):
            values.append(hv_20)
    return {scope: values for scope, values in years.items() if len(values) < _days_a_year(scope[1]) // 2}


def _set_median(owner_id: object, ticker: str, median: float | None) -> None:
    scope = "owner_id IS NULL" if owner_id is None else "owner_id = :owner"
    statement = sa.text(f"UPDATE latest_indicators SET hv_20_year_median = :median WHERE ticker = :ticker AND {scope}")
    parameters = {"median": median, "ticker": ticker}
    if owner_id is not None:
        statement = statement.bindparams(sa.bindparam("owner", type_=sa.Uuid()))
        parameters["owner"] = owner_id
    op.get_bind().execute(statement, parameters)


def upgrade() -> None:
    for (owner_id, ticker), _ in _short_years().items():
        _set_median(owner_id, ticker, None)


def downgrade() -> None:
    for (owner_id, ticker), values in _short_years().items():
        if values:
            _set_median(owner_id, ticker, statistics.median(values))
