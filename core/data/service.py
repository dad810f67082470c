"""What the Tickers page and the command line do with prices: import, fetch, refresh, load, delete.

Each user-facing function checks the actor's role and quota, does its work in the caller's
transaction (imports are all-or-nothing), and leaves an audit record.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pandas as pd
from limits import parse
from sqlalchemy.orm import Session, sessionmaker

from common.config import Settings
from common.logging import get_logger, without_controls
from common.words import plural
from core.actions import ActionLimitedError, action_limit, authorise_action
from core.audit import record_event
from core.auth.roles import Permission, PermissionDeniedError, can, require
from core.data.csv_prices import parse_price_csv
from core.data.errors import FileFormatError
from core.data.frames import OHLCV_COLUMNS, Normalised, reported_actions
from core.data.layouts import UnrecognisedLayoutError
from core.data.sample import SAMPLE_SOURCE, SAMPLE_TICKER, sample_bytes
from core.data.shared_fetch import request_budget, shared_fetches
from core.data.split_review import CONFIRMED
from core.data.splits import shows_split
from core.data.table import shorten
from core.data.tickers import parse_ticker_file, parse_ticker_text
from core.data.validation import ValidationReport, validate_prices
from core.data.yahoo import UNFINISHED_BAR_NOTE, NoDataError, PriceSourceError, SourceUnreachableError, YahooSource
from core.indicator_store import refresh_indicators, refresh_indicators_of
from core.predictions import fill_matured
from core.throttle import Throttle, ThrottleUnavailableError
from db.engine import session_scope
from db.repositories.actor import Actor
from db.repositories.preferences import update_preferences
from db.repositories.prices import (
    cached_span,
    delete_prices,
    read_scope_actions,
    replace_actions,
    stored_days,
    upsert_prices,
    upsert_prices_of,
)
from db.repositories.uploads import record_upload

log = get_logger("data")
DEFAULT_HISTORY_YEARS = 5
UNREACHABLE = "Yahoo Finance unreachable"


MESSAGE_TICKERS = 8
# What a refusal or a note may say: the page shows it and data_uploads keeps it, and a file can put
# values of any length into one (a header, a ticker quoted back).
MAX_MESSAGE_CHARS = 1_000
MAX_NOTE_CHARS = 500


@dataclass(frozen=True)
class ImportResult:
    status: str  # accepted | partial | rejected
    written: int
    tickers: tuple[str, ...]
    report: ValidationReport | None
    error: str | None = None
    notes: tuple[str, ...] = ()
    layout: str = ""
    first_date: date | None = None
    last_date: date | None = None
    # When no layout fits: the header and the first rows, for the user to map the columns.
    columns: tuple[str, ...] = ()
    preview: pd.DataFrame | None = None
    # A workbook's other sheets, when its first (read unasked) was no prices: the refusal names them.
    other_sheets: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status != "rejected"

    @property
    def needs_mapping(self) -> bool:
        return bool(self.columns)

    def message(self) -> str:
        if self.error:
            return f"Rejected, nothing written: {self.error}"
        assert self.report is not None
        if self.status == "rejected":
            return f"Rejected, nothing written: {self.report.summary()}"
        what = f"of {_ticker_list(self.tickers)}"
        if self.first_date and self.last_date:
            what += f" from {self.first_date:%Y-%m-%d} to {self.last_date:%Y-%m-%d}"
        row = "valid row" if self.status == "partial" else "row"
        skipped = f"; skipped {plural(self.report.invalid_rows, 'bad row')}" if self.status == "partial" else ""
        # Rows the same as stored are left alone and not counted as written: the same file again writes none.
        unchanged = max(0, self.report.valid_rows - self.written)
        if not self.written:
            are = "is" if unchanged == 1 else "are"
            stored = f"{are} stored already as the file gives them"
            return f"Nothing new: the {plural(unchanged, row)} {what} {stored}{skipped}"
        already = f" ({unchanged:,} stored already as the file gives them)" if unchanged else ""
        return f"Wrote {plural(self.written, row)} {what}{already}{skipped}"


def _bounded(error: Exception) -> str:
    return shorten(str(error), MAX_MESSAGE_CHARS)


def _through_confirmed_splits(
    session: Session, rows: pd.DataFrame, events: pd.DataFrame | None, owner_id: uuid.UUID | None
) -> tuple[pd.DataFrame, list[str]]:
    """Rows with no adjusted close of their own, divided by the splits confirmed in their scope.

    A confirmed split lives in the adjusted closes it divided: written over with a file's close, it
    would be undone without a word, and, its day being decided, never offered again. Each is applied
    to the days before it, as on confirming, unless the file reports that day's split itself (the
    parser divided by it then) or the file's own close already runs through it (another source's
    split-adjusted prices). Rows are sorted by ticker and date.
    """
    reported = set()
    if events is not None and "split" in events.columns:
        split = events["split"]
        days = events.loc[split.notna() & (split > 0) & (split != 1.0), ["ticker", "date"]]
        reported = {(str(ticker), pd.Timestamp(day).date()) for ticker, day in days.itertuples(index=False)}
    given = rows["adjusted_close"].to_numpy(dtype=float)
    adjusted = given.copy()
    days = pd.to_datetime(rows["date"]).to_numpy()
    notes = []
    for symbol, positions in rows.groupby("ticker", sort=True).indices.items():
        splits = read_scope_actions(session=session, ticker=str(symbol), owner_id=owner_id, kind="split")
        confirmed = splits[splits["source"] == CONFIRMED]
        for day, value in zip(confirmed["date"], confirmed["value"], strict=True):
            day = pd.Timestamp(day).date()
            if (str(symbol), day) in reported:
                continue
            before = positions[days[positions] < pd.Timestamp(day).to_datetime64()]
            if not len(before):
                continue
            label = _split_label(float(value))
            after = positions[len(before) :]
            if len(after) and not shows_split(given[before[-1]], given[after[0]], float(value)):
                notes.append(
                    f"{symbol}: the split confirmed on {day} ({label}) not applied: "
                    "the file's close already runs through it"
                )
                continue
            adjusted[before] /= float(value)
            notes.append(
                f"{symbol}: the adjusted close divided by the split confirmed on {day} ({label}) on the "
                f"{plural(len(before), 'day')} before it"
            )
    return rows.assign(adjusted_close=adjusted), notes


def _first_split(actions: pd.DataFrame) -> tuple[date, str] | None:
    """The day and label of the first split among reported actions (a 1:1 one is none)."""
    splits = actions[(actions["kind"] == "split") & (actions["value"] != 1.0)] if not actions.empty else actions
    if splits.empty:
        return None
    first = splits.sort_values("date").iloc[0]
    return pd.Timestamp(first["date"]).date(), _split_label(float(first["value"]))


def _split_label(factor: float) -> str:
    ratio = Fraction(factor).limit_denominator(100)
    return f"{ratio.numerator}:{ratio.denominator}"


def _ticker_list(tickers: tuple[str, ...]) -> str:
    shown = ", ".join(tickers[:MESSAGE_TICKERS])
    more = len(tickers) - MESSAGE_TICKERS
    return f"{shown} and {more} more" if more > 0 else shown


def import_prices(
    *,
    session: Session,
    data: bytes,
    ticker: str | None,
    date_format: str | None,
    skip_bad_rows: bool,
    owner: Actor | None,
    source: str = "upload",
    filename: str = "",
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
) -> ImportResult:
    """Parse, validate and store a price file: every row or none, unless bad rows are to be skipped."""
    try:
        parsed = parse_price_csv(
            data, ticker=ticker, date_format=date_format, filename=filename, sheet=sheet, mapping=mapping
        )
    except UnrecognisedLayoutError as error:
        columns, preview = tuple(error.columns), error.preview
        return ImportResult(
            "rejected",
            0,
            (),
            None,
            error=_bounded(error),
            columns=columns,
            preview=preview,
            other_sheets=error.other_sheets,
        )
    except FileFormatError as error:
        return ImportResult("rejected", 0, (), None, error=_bounded(error), other_sheets=error.other_sheets)
    report, valid = validate_prices(parsed.frame, raw_date_column="raw_date")
    notes = tuple(shorten(note, MAX_NOTE_CHARS) for note in parsed.notes)
    if "unparseable date" in report.counts and not date_format:
        notes += ("dates must look like 2024-01-31 unless you state their format, e.g. %d.%m.%Y",)
    if not report.ok and (not skip_bad_rows or report.valid_rows == 0):
        return ImportResult("rejected", 0, (), report, notes=notes, layout=parsed.layout)
    rows = parsed.frame.loc[valid]
    owner_id = owner.user_id if owner else None
    if not parsed.adjusted_close_given:
        events = parsed.events.loc[valid.to_numpy()] if parsed.events is not None else None
        rows, applied = _through_confirmed_splits(session, rows, events, owner_id)
        notes += tuple(shorten(note, MAX_NOTE_CHARS) for note in applied)
    symbols = [str(symbol) for symbol in rows["ticker"].unique()]
    written = upsert_prices_of(
        session=session, frame=rows[["ticker", *OHLCV_COLUMNS]], owner_id=owner_id, source=source
    )
    # Decided only now, not before writing: another import of these tickers, committed while the upsert
    # waited for its rows or its series lock, has added days the file lacks, and the indicators must
    # run over them too. Every day of the file is stored, so as many days as rows means no other.
    file_is_history = stored_days(session=session, tickers=symbols, owner_id=owner_id) == len(rows)
    if parsed.events is not None:
        valid_events = parsed.events.loc[valid.to_numpy()]
        for symbol, group in valid_events.groupby("ticker", sort=True):
            actions = reported_actions(group)
            replace_actions(session=session, ticker=str(symbol), owner_id=owner_id, actions=actions, source=source)
    # Volumes as stored (whole shares), so the indicators match a later recomputation from the table.
    history = rows[["ticker", *OHLCV_COLUMNS]].assign(volume=rows["volume"].round()) if file_is_history else None
    refresh_indicators_of(session=session, tickers=symbols, owner_id=owner_id, history=history)
    for symbol in symbols:
        fill_matured(session=session, ticker=symbol)
    status = "accepted" if report.ok else "partial"
    return ImportResult(
        status,
        written,
        tuple(sorted(rows["ticker"].unique())),
        report,
        notes=notes,
        layout=parsed.layout,
        first_date=rows["date"].min().date(),
        last_date=rows["date"].max().date(),
    )


class InvalidRowsError(FileFormatError):
    """Rows of a price file fail validation; report gives the count per rule and the offending lines."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(report.summary())
        self.report = report


SHOWN_SERIES_TICKERS = 5


def read_price_series(data: bytes, *, ticker: str | None) -> pd.DataFrame:
    """The rows of a price file that holds one ticker's series (the one named, else its Ticker column's).

    Every row must be valid: a series with a day missing is not the series. Raises FileFormatError for
    a file that is not prices or whose Ticker column names several tickers, InvalidRowsError for bad rows.
    """
    parsed = parse_price_csv(data, ticker=ticker)
    # A named ticker over several is refused by the parser; unnamed, their days would read as one series.
    named = sorted(parsed.frame["ticker"].unique())
    if len(named) > 1:
        shown = ", ".join(named[:SHOWN_SERIES_TICKERS]) + (", …" if len(named) > SHOWN_SERIES_TICKERS else "")
        raise FileFormatError(f"its Ticker column names {len(named)} tickers ({shown}): pass one ticker's rows")
    report, valid = validate_prices(parsed.frame, raw_date_column="raw_date")
    if not report.ok:
        raise InvalidRowsError(report)
    return parsed.frame.loc[valid]


def upload_prices(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    throttle: Throttle,
    data: bytes,
    filename: str,
    ticker: str | None,
    date_format: str | None = None,
    skip_bad_rows: bool = False,
    client_ip: str | None = None,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
) -> ImportResult:
    """A user's price upload: their own rows, recorded in data_uploads whether accepted or not.

    Only an upload that writes rows counts against the hourly quota (a refused file, or the same file again,
    does not); a full quota refuses before any reading.
    """
    started = time.perf_counter()
    filename = without_controls(filename)
    require(actor, Permission.UPLOAD)
    _refuse_when_quota_spent(actor, "upload", settings, throttle)
    result = import_prices(
        session=session,
        data=data,
        ticker=ticker,
        date_format=date_format,
        skip_bad_rows=skip_bad_rows,
        owner=actor,
        filename=filename,
        sheet=sheet,
        mapping=mapping,
    )
    if result.accepted and result.written:
        # Counted once the rows are written, never taken before and given back: nothing to undo for a refused
        # file or one that changes nothing. Should the window have filled meanwhile, this raises and the caller
        # rolls the rows back.
        authorise_action(session=session, actor=actor, action="upload", settings=settings, throttle=throttle)
    details: dict[str, Any] = {
        "report": result.report.to_dict() if result.report else None,
        "notes": list(result.notes),
        "layout": result.layout,
    }
    if result.error:
        details["error"] = result.error
    record_upload(
        session=session,
        actor=actor,
        filename=filename,
        kind="prices",
        status=result.status,
        row_count=result.written,
        tickers=result.tickers or ([ticker] if ticker else []),
        details=details,
    )
    record_event(
        session=session,
        action="upload",
        status="ok" if result.accepted else "failed",
        actor=actor,
        detail=f"{filename}: {result.message()}"[:500],
        ip=client_ip,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    return result


def _refuse_when_quota_spent(actor: Actor, action: str, settings: Settings, throttle: Throttle) -> None:
    """Raise ActionLimitedError when the window has no room left, without using any of it."""
    limit = action_limit(settings, actor, action)
    try:
        if throttle.remaining(parse(limit), "action", action, str(actor.user_id)) > 0:
            return
        retry_after = throttle.retry_after(parse(limit), "action", action, str(actor.user_id))
    except ThrottleUnavailableError:
        return  # quotas fail open, as authorise_action does
    raise ActionLimitedError(action, limit, actor.tier, retry_after)


def save_ticker_list(
    *,
    session: Session,
    actor: Actor,
    text: str = "",
    data: bytes | None = None,
    filename: str = "",
    column: str | None = None,
) -> tuple[list[str], list[str]]:
    """Make a typed or uploaded list the actor's default tickers; with any problem nothing is saved.

    An uploaded file is recorded in data_uploads either way. Returns (tickers, problems).
    """
    if data is not None:
        tickers, problems = parse_ticker_file(data, column=column)
        record_upload(
            session=session,
            actor=actor,
            filename=without_controls(filename),
            kind="tickers",
            status="accepted" if not problems else ("partial" if tickers else "rejected"),
            row_count=len(tickers),
            details={"tickers": tickers, "problems": problems},
        )
    else:
        tickers, problems = parse_ticker_text(text)
    if not problems:
        update_preferences(session=session, actor=actor, default_tickers=tickers)
    return tickers, problems


def load_sample(*, session: Session, actor: Actor | None) -> int:
    """Store the bundled S&P 500 sample as shared market data; returns the rows written."""
    if actor is not None and not can(actor, Permission.FETCH):
        raise PermissionDeniedError(f"the {actor.role} role cannot load data")
    result = import_prices(
        session=session,
        data=sample_bytes(),
        ticker=SAMPLE_TICKER,
        date_format=None,
        skip_bad_rows=False,
        owner=None,
        source=SAMPLE_SOURCE,
    )
    if actor is not None:
        record_event(session=session, action="load sample", status="ok", actor=actor, detail=result.message())
    return result.written


@dataclass
class FetchOutcome:
    ticker: str
    status: str  # ok | up to date | error | skipped
    rows: int = 0
    message: str = ""
    dropped_rows: int = 0
    unreachable: bool = field(default=False, repr=False)


@dataclass
class FetchRun:
    outcomes: list[FetchOutcome] = field(default_factory=list)

    @property
    def offline(self) -> bool:
        return any(outcome.unreachable for outcome in self.outcomes)

    def table(self) -> pd.DataFrame:
        columns = ["ticker", "status", "rows", "dropped_rows", "message"]
        return pd.DataFrame([{name: getattr(o, name) for name in columns} for o in self.outcomes], columns=columns)


def fetch_tickers(
    *,
    sessions: sessionmaker[Session],
    actor: Actor | None,
    tickers: Iterable[str],
    end: date,
    settings: Settings,
    throttle: Throttle | None,
    start: date | None = None,
    source: YahooSource | None = None,
    refresh: bool = False,
    client_ip: str | None = None,
    on_progress: Callable[[int, int, FetchOutcome], None] | None = None,
) -> FetchRun:
    """Fetch each ticker into the shared cache, each on its own: one failure stops no other.

    With refresh, only the days after the last cached one are asked for. Once Yahoo proves
    unreachable the rest are skipped, so an offline machine answers at once.
    """
    source = source or YahooSource(budget=request_budget())
    symbols = list(dict.fromkeys(tickers))
    run = FetchRun()
    for position, ticker in enumerate(symbols, start=1):
        if run.offline:
            outcome = FetchOutcome(ticker, "skipped", message=f"not tried: {UNREACHABLE}")
        else:
            job = _FetchJob(sessions, actor, settings, throttle, source, client_ip)
            outcome = job.run(ticker, start, end, refresh)
        run.outcomes.append(outcome)
        if on_progress:
            on_progress(position, len(symbols), outcome)
    return run


@dataclass
class _FetchJob:
    """One ticker's fetch, in three steps so no transaction stays open while the network is slow."""

    sessions: sessionmaker[Session]
    actor: Actor | None
    settings: Settings
    throttle: Throttle | None
    source: YahooSource
    client_ip: str | None

    def run(self, ticker: str, start: date | None, end: date, refresh: bool) -> FetchOutcome:
        started = time.perf_counter()
        try:
            with session_scope(self.sessions, action=f"fetch {ticker}: authorise") as session:
                if self.actor is not None and self.throttle is not None:
                    authorise_action(
                        session=session,
                        actor=self.actor,
                        action="fetch",
                        settings=self.settings,
                        throttle=self.throttle,
                    )
                cached_first, last = cached_span(session=session, ticker=ticker, owner_id=None)
                if not refresh:
                    last = None
        except (PermissionDeniedError, ActionLimitedError) as error:
            return FetchOutcome(ticker, "error", message=str(error))

        first = last + timedelta(days=1) if last else (start or end - timedelta(days=365 * DEFAULT_HISTORY_YEARS))
        if first > end:
            return FetchOutcome(ticker, "up to date")
        try:
            fetched = self._fetch(ticker, first, end)
        except NoDataError as error:
            if last is not None:
                return FetchOutcome(ticker, "up to date", message="no new trading days")
            return self._failed(ticker, error, started)
        except PriceSourceError as error:
            return self._failed(ticker, error, started)
        note = UNFINISHED_BAR_NOTE if fetched.dropped_unfinished_rows else ""
        split = _first_split(fetched.actions) if last is not None and cached_first is not None else None
        if split is not None:
            # Yahoo divides every adjusted close before a split by it: the days cached before it are
            # on the old basis, and the series would jump on the split's day. Fetched again whole,
            # they run through it.
            day, label = split
            try:
                fetched = self._fetch(ticker, cached_first, end)
                first = cached_first
                done = f"the history from {cached_first} fetched again, so its adjusted close runs through it"
            except PriceSourceError as error:
                done = f"fetching the history again failed ({error}), so the adjusted close before it stays as it was"
            note = f"a split on {day} ({label}): {done}"

        with session_scope(self.sessions, action=f"fetch {ticker}: store") as session:
            written = upsert_prices(
                session=session, frame=fetched.frame, ticker=ticker, owner_id=None, source=self.source.name
            )
            replace_actions(
                session=session, ticker=ticker, owner_id=None, actions=fetched.actions, source=self.source.name
            )
            refresh_indicators(session=session, ticker=ticker, owner_id=None)
            fill_matured(session=session, ticker=ticker)
            self._audit(session, "ok", f"{ticker}: {written} rows from {first} to {end}", started)
        dropped = fetched.dropped_empty_rows + fetched.dropped_incomplete_rows
        return FetchOutcome(ticker, "ok", rows=written, dropped_rows=dropped, message=note)

    def _fetch(self, ticker: str, first: date, end: date) -> Normalised:
        return shared_fetches().fetch(
            (ticker, first, end, self.source.name), lambda: self.source.fetch(ticker, first, end)
        )

    def _failed(self, ticker: str, error: PriceSourceError, started: float) -> FetchOutcome:
        log.warning("fetch of %s failed: %s", ticker, getattr(error, "detail", error))
        with session_scope(self.sessions, action=f"fetch {ticker}: audit") as session:
            self._audit(session, "failed", f"{ticker}: {error}", started)
        if isinstance(error, SourceUnreachableError):
            # The page says it once above the table; each row says only what happened to it.
            return FetchOutcome(ticker, "error", message=UNREACHABLE, unreachable=True)
        return FetchOutcome(ticker, "error", message=str(error))

    def _audit(self, session: Session, status: str, detail: str, started: float) -> None:
        if self.actor is None:
            return
        record_event(
            session=session,
            action="fetch",
            status=status,
            actor=self.actor,
            detail=detail[:500],
            ip=self.client_ip,
            latency_ms=(time.perf_counter() - started) * 1000,
        )


def delete_ticker(*, session: Session, actor: Actor, ticker: str, shared: bool) -> int:
    """Remove a ticker's cached rows: the actor's own uploads, or (admins only) the shared rows; the ledger's
    actuals of the ticker follow the closes left."""
    if shared and not actor.is_admin:
        raise PermissionDeniedError("only an admin can delete shared market data")
    if not can(actor, Permission.UPLOAD):
        raise PermissionDeniedError(f"the {actor.role} role cannot delete data")
    deleted = delete_prices(session=session, ticker=ticker, owner_id=None if shared else actor.user_id)
    if shared:
        # Whoever laid rows of their own over the shared ones now has only theirs.
        refresh_indicators(session=session, ticker=ticker, owner_id=None)
    # The ledger's actuals are the closes each user sees: those of the rows left, or none (pending again).
    fill_matured(session=session, ticker=ticker)
    record_event(
        session=session,
        action="delete prices",
        status="ok",
        actor=actor,
        detail=f"{ticker} ({'shared' if shared else 'own'}): {deleted} rows",
    )
    return deleted
