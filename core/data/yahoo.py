"""Daily prices from Yahoo Finance through yfinance, with its failures turned into clear outcomes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import pandas as pd

from common.errors import Refusal
from common.logging import get_logger
from core.data.calendar import session_end
from core.data.frames import Normalised, normalise_provider_frame
from db.types import utc_now

log = get_logger("data")

OFFLINE_MESSAGE = (
    "Yahoo Finance cannot be reached from here: upload a price CSV or load the bundled S&P 500 sample instead."
)
RETRIES = 3
BACKOFF_SECONDS = 2.0
REQUEST_TIMEOUT_SECONDS = 10
UNFINISHED_BAR_NOTE = "today's session is still open: its bar is left for the next fetch"
# Closing auctions print minutes after the scheduled close, and Yahoo shows most exchanges outside
# the US 15 to 20 minutes late: until then the day's bar may still lack its final close.
CLOSE_SETTLES = timedelta(minutes=30)


class PriceSourceError(Refusal, RuntimeError):
    """A fetch failed; the message is fit to show the user."""


class NoDataError(PriceSourceError):
    def __init__(self, ticker: str) -> None:
        super().__init__(f"no data for {ticker}")


class RateLimitedError(PriceSourceError):
    retry_note = "rate limited"

    def __init__(self, ticker: str, attempts: int) -> None:
        super().__init__(f"Yahoo Finance refused {ticker} as rate limited, {attempts} times: try again later")


class SlowAnswerError(PriceSourceError):
    retry_note = "no answer in time"

    def __init__(self, ticker: str, attempts: int) -> None:
        super().__init__(
            f"Yahoo Finance took more than {REQUEST_TIMEOUT_SECONDS} s to answer for {ticker}, {attempts} times: "
            "try again later"
        )


def without_unfinished_bar(normalised: Normalised, ticker: str, now: datetime) -> Normalised:
    """The bars with the newest one left out while its session still trades (or just closed).

    Yahoo's daily history includes the session in progress; stored, its partial close would stay for
    good, as later fetches start the day after the newest stored bar. Only the newest bar can be open.
    """
    frame = normalised.frame
    if frame.empty or session_end(frame["date"].iloc[-1], ticker) + CLOSE_SETTLES <= now:
        return normalised
    return replace(normalised, frame=frame.iloc[:-1], dropped_unfinished_rows=1)


class SourceUnreachableError(PriceSourceError):
    def __init__(self, detail: str) -> None:
        super().__init__(OFFLINE_MESSAGE)
        self.detail = detail


def yfinance_history(ticker: str, **options: Any) -> pd.DataFrame:
    """The network edge: one call into yfinance. Imported here so pages load without it."""
    import logging

    import yfinance

    # yfinance logs each failure itself; ours name the ticker and what to do instead.
    logging.getLogger("yfinance").setLevel(logging.CRITICAL)
    return yfinance.Ticker(ticker).history(**options)


def _is_rate_limit(error: BaseException) -> bool:
    from yfinance.exceptions import YFRateLimitError

    return isinstance(error, YFRateLimitError)


def _is_missing_ticker(error: BaseException) -> bool:
    from yfinance.exceptions import YFTickerMissingError

    return isinstance(error, YFTickerMissingError)


def _retried_failure(error: BaseException) -> type[RateLimitedError | SlowAnswerError] | None:
    """What a failure worth retrying with backoff is called once retries run out; None for the rest."""
    from curl_cffi.requests.exceptions import ConnectTimeout, ReadTimeout

    if _is_rate_limit(error):
        return RateLimitedError
    # Connected, then no answer in time: Yahoo is there but slow with this request, and another
    # ticker (or this one again) may well be answered. A connection that timed out is unreachable.
    if isinstance(error, ReadTimeout) and not isinstance(error, ConnectTimeout):
        return SlowAnswerError
    return None


def _is_unreachable(error: BaseException) -> bool:
    # curl_cffi's connection errors derive from OSError, as do socket and timeout errors.
    return isinstance(error, OSError | TimeoutError)


class Budget(Protocol):
    """The app's allowance of Yahoo requests (core.data.shared_fetch.RequestBudget)."""

    def take(self) -> None: ...

    def pause(self) -> None: ...


@dataclass
class YahooSource:
    """Fetches one ticker's daily bars, retrying rate limits with exponential backoff.

    With a budget, each request first takes one unit of it, and a rate-limit answer pauses every
    user of the budget, not only this fetch.
    """

    history: Callable[..., pd.DataFrame] | None = None  # None: yfinance itself
    sleep: Callable[[float], None] = time.sleep
    retries: int = RETRIES
    backoff_seconds: float = BACKOFF_SECONDS
    name: str = "yahoo"
    budget: Budget | None = None
    now: Callable[[], datetime] = utc_now  # the fetch's clock; tests pass their own

    def fetch(self, ticker: str, start: date, end: date) -> Normalised:
        """Bars from start to end inclusive, of sessions closed by now.

        Raises NoDataError, RateLimitedError, SlowAnswerError, SourceUnreachableError, or PriceSourceError
        for the rest.
        """
        for attempt in range(1, self.retries + 1):
            if self.budget is not None:
                self.budget.take()
            try:
                raw = (self.history or yfinance_history)(
                    ticker,
                    start=start.isoformat(),
                    # yfinance's end is exclusive.
                    end=(end + timedelta(days=1)).isoformat(),
                    interval="1d",
                    # Raw and adjusted closes both, with the splits and dividends between them.
                    auto_adjust=False,
                    actions=True,
                    raise_errors=True,
                    timeout=REQUEST_TIMEOUT_SECONDS,
                )
                break
            except Exception as error:  # sorted into our outcomes below
                retried_as = _retried_failure(error)
                if retried_as is not None:
                    if retried_as is RateLimitedError and self.budget is not None:
                        self.budget.pause()
                    if attempt == self.retries:
                        raise retried_as(ticker, attempt) from error
                    wait = self.backoff_seconds * 2 ** (attempt - 1)
                    log.warning("%s on %s, retry %d in %.0f s", retried_as.retry_note, ticker, attempt, wait)
                    self.sleep(wait)
                    continue
                if _is_missing_ticker(error):
                    raise NoDataError(ticker) from error
                if _is_unreachable(error):
                    raise SourceUnreachableError(str(error)) from error
                raise PriceSourceError(f"{ticker}: {type(error).__name__}: {error}") from error
        if raw is None or raw.empty:
            raise NoDataError(ticker)
        normalised = without_unfinished_bar(normalise_provider_frame(raw), ticker, self.now())
        if normalised.dropped_unfinished_rows:
            log.info("%s: %s", ticker, UNFINISHED_BAR_NOTE)
        if normalised.frame.empty:
            raise NoDataError(ticker)
        if normalised.dropped_empty_rows or normalised.dropped_incomplete_rows:
            log.info(
                "%s: dropped %d empty and %d incomplete rows",
                ticker,
                normalised.dropped_empty_rows,
                normalised.dropped_incomplete_rows,
            )
        return normalised


YAHOO_HOST = "query2.finance.yahoo.com"


def yahoo_reachable(timeout_seconds: float = 3.0) -> bool:
    """Whether Yahoo's API host resolves and accepts a connection; no request is sent."""
    import socket

    try:
        with socket.create_connection((YAHOO_HOST, 443), timeout=timeout_seconds):
            return True
    except OSError:
        return False
