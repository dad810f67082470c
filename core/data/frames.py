"""The one shape prices take inside Candlecast, and the conversion of Yahoo's shapes into it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PRICE_COLUMNS = ("open", "high", "low", "close", "adjusted_close")
OHLCV_COLUMNS = ("date", *PRICE_COLUMNS, "volume")

# Header spellings seen in the wild, reduced to letters only, mapped to our names.
COLUMN_ALIASES = {
    "date": "date",
    "datetime": "date",
    "timestamp": "date",
    "day": "date",
    "observationdate": "date",  # FRED
    "exchangedate": "date",  # Refinitiv Eikon
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "last": "close",
    "adjclose": "adjusted_close",
    "adjustedclose": "adjusted_close",
    "closeadjusted": "adjusted_close",
    "adjclosingprice": "adjusted_close",
    "volume": "volume",
    "vol": "volume",
    "ticker": "ticker",
    "symbol": "ticker",
    # Vendors' spellings: Nasdaq.com, Investing.com, Alpha Vantage, Stooq's bulk files.
    "closelast": "close",
    "dividendamount": "dividend",
    "dividends": "dividend",
    "dividend": "dividend",
    "splitcoefficient": "split",
    "stocksplits": "split",
    "per": "period",
    # European exports, in their own languages (accents dropped): onvista, Börse Frankfurt, Boursorama,
    # Spanish and Italian brokers.
    "datum": "date", "fecha": "date", "data": "date",
    "eroffnung": "open", "erster": "open", "ouverture": "open", "ouv": "open", "apertura": "open",
    "hoch": "high", "tageshoch": "high", "plushaut": "high", "haut": "high", "maximo": "high", "massimo": "high",
    "tief": "low", "tagestief": "low", "plusbas": "low", "bas": "low", "minimo": "low",
    "schluss": "close", "schlusskurs": "close", "cloture": "close", "clot": "close", "cierre": "close",
    "chiusura": "close",
    "volumen": "volume", "stucke": "volume",
}  # fmt: skip


def canonical_column(name: object) -> str | None:
    """Our name for a header like ' Adj. Close', 'adj_close' or 'VOLUME'; None when unknown."""
    # Accents dropped before anything else: 'Clôture' and 'Eröffnung' keep every letter.
    unaccented = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z]", "", unaccented.lower())
    return COLUMN_ALIASES.get(key)


@dataclass(frozen=True)
class Normalised:
    frame: pd.DataFrame
    dropped_empty_rows: int
    dropped_incomplete_rows: int
    # date, kind (split | dividend), value: what the provider reported besides prices
    actions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["date", "kind", "value"]))
    # the newest bar, left out while its session still traded when it was fetched
    dropped_unfinished_rows: int = 0


def reported_actions(frame: pd.DataFrame) -> pd.DataFrame:
    """Splits (factor other than 0 or 1) and dividends (above 0) from columns date, split, dividend."""
    parts = []
    for column, kind in (("split", "split"), ("dividend", "dividend")):
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        happened = values.notna() & (values > 0) & ((values != 1.0) if kind == "split" else True)
        parts.append(pd.DataFrame({"date": frame["date"][happened], "kind": kind, "value": values[happened]}))
    if not parts:
        return pd.DataFrame(columns=["date", "kind", "value"])
    return pd.concat(parts, ignore_index=True)


def flatten_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the ticker level of the (Price, Ticker) MultiIndex that yfinance.download returns."""
    if not isinstance(frame.columns, pd.MultiIndex):
        return frame
    for level in range(frame.columns.nlevels):
        names = {canonical_column(value) for value in frame.columns.get_level_values(level)}
        if {"open", "close"} <= names:
            flat = frame.copy()
            flat.columns = frame.columns.get_level_values(level)
            return flat
    raise ValueError(f"no price level in columns {list(frame.columns)[:6]}")


def normalise_provider_frame(frame: pd.DataFrame) -> Normalised:
    """A provider's daily bars as our columns, one row per exchange date.

    Days with no prices at all (holidays the provider pads in) and days missing any price are
    dropped and counted; a price that is infinite, zero or negative is a missing one. The index's
    dates are taken in the exchange's own time zone.
    """
    frame = flatten_columns(frame)
    renamed = {column: canonical_column(column) for column in frame.columns}
    frame = frame.rename(columns={k: v for k, v in renamed.items() if v}).loc[
        :, [v for v in dict.fromkeys(renamed.values()) if v]
    ]
    missing = {"open", "high", "low", "close"} - set(frame.columns)
    if missing:
        raise ValueError(f"prices lack columns: {', '.join(sorted(missing))}")
    if "adjusted_close" not in frame.columns:
        frame["adjusted_close"] = frame["close"]
    if "volume" not in frame.columns:
        frame["volume"] = 0

    index = pd.DatetimeIndex(frame.index)
    # Midnight in New York is the previous evening in UTC: the exchange's own date is the one to keep.
    dates = (index.tz_localize(None) if index.tz is not None else index).normalize()
    out = frame.reset_index(drop=True)
    out.insert(0, "date", dates.date)

    prices = out[list(PRICE_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    empty = prices.isna().all(axis=1)
    # Yahoo sends Infinity now and then (yfinance #2856, #2890) and 0 for a price it lacks; stored, either
    # breaks every return and indicator after it. Open or close outside low-high is kept: the quality report names it.
    prices = prices.where(np.isfinite(prices) & (prices > 0))
    incomplete = ~empty & prices.isna().any(axis=1)
    out = out.loc[~empty & ~incomplete].copy()
    out[list(PRICE_COLUMNS)] = prices.loc[out.index]
    out["volume"] = pd.to_numeric(out["volume"], errors="coerce").fillna(0)
    out = out.drop_duplicates("date", keep="last").sort_values("date").reset_index(drop=True)
    return Normalised(out[list(OHLCV_COLUMNS)], int(empty.sum()), int(incomplete.sum()), reported_actions(out))
