"""What lists of stored results leave in the database: the per-day detail only one result's view shows."""

from __future__ import annotations

from sqlalchemy.orm import defer
from sqlalchemy.orm.interfaces import LoaderOption

from db.models import BacktestResult, Evaluation

# A walk-forward run's forecasts (0.2 MB for ten windows of the sample), a backtest's trades and
# equity curve. Read from a listed row, they raise rather than query once per row behind a page's back.
DETAIL_COLUMNS: dict[type, tuple[str, ...]] = {Evaluation: ("windows",), BacktestResult: ("trades", "equity_curve")}


def without_detail(kind: type) -> list[LoaderOption]:
    """Query options that leave the kind's detail columns unloaded."""
    return [defer(getattr(kind, name), raiseload=True) for name in DETAIL_COLUMNS.get(kind, ())]
