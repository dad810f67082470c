"""Market-data actions: prices in (upload, fetch, sample), out (read, list, quality), ticker lists, splits.

Every function owns its transaction (fetching opens one per ticker, so no transaction waits on
the network) and refuses with a common.errors.Refusal whose message is for the user. The
request's address for the audit rows comes from core.audit's per-request binding.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pandas as pd

from common.config import get_settings
from common.errors import BadInput
from core.audit import current_client_address, refusals_audited
from core.auth.roles import Permission, require
from core.data import service as data
from core.data.quality import QualityReport, ticker_quality
from core.data.rendered_prices import RenderedPrices, RenderedSeries
from core.data.service import FetchOutcome, FetchRun, ImportResult
from core.data.split_review import SplitDecisions, decide_splits, open_candidates
from core.data.splits import SplitCandidate
from core.data.tickers import TickerError, parse_ticker_text
from core.throttle import get_throttle
from db.engine import get_sessionmaker, session_scope
from db.repositories import prices as price_rows
from db.repositories.actor import Actor
from db.repositories.prices import CachedTicker

MAX_REFUSAL_DETAIL = 200
# About 80 series of 5,000 days; the least recently read go first.
_RENDERED = RenderedPrices(max_chars=64 * 1024 * 1024)


class DateRangeError(BadInput, ValueError):
    """The first day of a requested range comes after its last."""


def check_date_range(start: date | None, end: date | None, *, first_day: str) -> None:
    """Refuse (DateRangeError) a range whose first day comes after its last; first_day names where it was given."""
    if start and end and start > end:
        raise DateRangeError(f"{first_day}: the first day comes after the last")


def list_tickers(actor: Actor) -> list[CachedTicker]:
    """Every ticker the actor can read: shared market data and their own uploads, with their span."""
    with session_scope(action="list tickers", read_only=True) as session:
        require(actor, Permission.READ)
        return price_rows.list_cached_tickers(session=session, actor=actor)


def read_prices(actor: Actor, ticker: str, *, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """A ticker's daily prices as the actor sees them (their upload wins over shared data on a day)."""
    check_date_range(start, end, first_day="start")
    with session_scope(action=f"read prices of {ticker}", read_only=True) as session:
        require(actor, Permission.READ)
        return price_rows.read_prices(session=session, actor=actor, ticker=ticker, start=start, end=end)


def read_prices_json(
    actor: Actor, ticker: str, *, start: date | None = None, end: date | None = None
) -> tuple[int, str]:
    """The rows read_prices returns, counted and as a JSON array of records written by the database.

    Served from the series rendered at its current versions when this process has it: a read of
    5,000 days then costs one small query instead of formatting 35,000 numbers.
    """
    check_date_range(start, end, first_day="start")
    with session_scope(action=f"read prices of {ticker}", read_only=True) as session:
        require(actor, Permission.READ)
        # Versions before rows: a write landing between the two reads makes the kept copy look
        # older than it is (rendered again on the next read), never newer.
        versions = price_rows.series_versions(session=session, actor=actor, ticker=ticker)
        key = (ticker, actor.user_id if actor.user_id in versions else None)
        series = _RENDERED.get(key, versions)
        if series is None:
            series = RenderedSeries.of(*price_rows.read_price_records(session=session, actor=actor, ticker=ticker))
            if versions:
                _RENDERED.put(key, versions, series)
    return series.between(start, end)


def upload_prices(
    actor: Actor,
    *,
    data_bytes: bytes,
    filename: str,
    ticker: str | None = None,
    date_format: str | None = None,
    skip_bad_rows: bool = False,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
) -> ImportResult:
    """Store a price file as the actor's own rows: all or nothing unless bad rows are to be skipped.

    A file refused for its content is an answer (its report, or the columns to map), recorded
    and committed; a role or a spent quota is a refusal.
    """
    scope = session_scope(action=f"upload of {filename}")
    with scope as session, refusals_audited(session=session, action="upload", actor=actor):
        return data.upload_prices(
            session=session,
            actor=actor,
            settings=get_settings(),
            throttle=get_throttle(),
            data=data_bytes,
            filename=filename,
            ticker=ticker,
            date_format=date_format,
            skip_bad_rows=skip_bad_rows,
            client_ip=current_client_address(),
            sheet=sheet,
            mapping=mapping,
        )


def fetch_prices(
    actor: Actor,
    *,
    tickers: str,
    start: date,
    end: date,
    refresh: bool = False,
    on_progress: Callable[[int, int, FetchOutcome], None] | None = None,
) -> FetchRun:
    """Fetch typed tickers from Yahoo into the shared cache, each on its own; one failure stops no other."""
    require(actor, Permission.FETCH)
    symbols, problems = parse_ticker_text(tickers)
    if problems:
        raise TickerError("; ".join(problems))
    if not symbols:
        raise TickerError("name at least one ticker, e.g. MSFT")
    check_date_range(start, end, first_day="From")
    return data.fetch_tickers(
        sessions=get_sessionmaker(),
        actor=actor,
        tickers=symbols,
        start=start,
        end=end,
        settings=get_settings(),
        throttle=get_throttle(),
        refresh=refresh,
        client_ip=current_client_address(),
        on_progress=on_progress,
    )


def load_sample(actor: Actor) -> int:
    """Store the bundled S&P 500 sample as shared market data; returns the rows written."""
    with (
        session_scope(action="load sample") as session,
        refusals_audited(session=session, action="load sample", actor=actor),
    ):
        return data.load_sample(session=session, actor=actor)


def delete_prices(actor: Actor, ticker: str, *, shared: bool) -> int:
    """Remove a ticker's prices and indicators: the actor's own upload, or (admins only) the shared data."""
    scope = session_scope(action=f"delete prices of {ticker}")
    with scope as session, refusals_audited(session=session, action="delete prices", actor=actor):
        return data.delete_ticker(session=session, actor=actor, ticker=ticker, shared=shared)


def save_ticker_list(
    actor: Actor, *, text: str = "", data_bytes: bytes | None = None, filename: str = "", column: str | None = None
) -> list[str]:
    """Make a typed or uploaded list the actor's default tickers; with any problem nothing is saved.

    An uploaded file is recorded either way. Refuses with every problem named; nothing is saved then.
    """
    with session_scope(action="save ticker list") as session:
        tickers, problems = data.save_ticker_list(
            session=session, actor=actor, text=text, data=data_bytes, filename=filename, column=column
        )
    if problems:
        raise TickerError("; ".join(problems))
    return tickers


def quality_report(actor: Actor, ticker: str, *, today: date | datetime) -> QualityReport:
    """The data-quality report of the prices the actor sees for a ticker, its staleness judged at `today` (an
    aware instant; a bare day counts from its first instant in UTC)."""
    with session_scope(action=f"quality of {ticker}", read_only=True) as session:
        require(actor, Permission.READ)
        return ticker_quality(session=session, actor=actor, ticker=ticker, today=today)


def split_candidates(actor: Actor, ticker: str, *, shared: bool) -> list[SplitCandidate]:
    """Detected splits awaiting a decision, in the actor's own prices of a ticker or the shared ones."""
    with session_scope(action=f"split candidates of {ticker}", read_only=True) as session:
        require(actor, Permission.READ)
        return open_candidates(session=session, ticker=ticker, owner_id=None if shared else actor.user_id)


def review_splits(
    actor: Actor, ticker: str, *, shared: bool, confirm: list[date], reject: list[date]
) -> SplitDecisions:
    """Confirm and reject detected splits together: the adjusted closes are rewritten, or nothing is."""
    scope = session_scope(action=f"review splits of {ticker}")
    with scope as session, refusals_audited(session=session, action="review splits", actor=actor):
        return decide_splits(session=session, actor=actor, ticker=ticker, shared=shared, confirm=confirm, reject=reject)
