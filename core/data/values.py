"""Numbers and dates as files spell them: decimal commas, '$1,234.50', '1.25M', '-', '11/21/2025', 'Nov 21, 2025'."""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd

from core.data.errors import FileFormatError

_DECIMAL_COMMA = r"^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d+$"
_THOUSANDS_COMMA = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
_DECORATION = r"[\s\u00a0$€£%]"
_SUFFIXES = {"K": 1e3, "M": 1e6, "B": 1e9}
# Formats tried in turn when none is stated; month-first before day-first, as US sites publish.
DATE_FORMATS = ("%Y%m%d", "%m/%d/%Y", "%d/%m/%Y", "%b %d, %Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y")
_SAMPLE = 500
# Cells that say "no value here", as sources write them: FRED's ".", Excel's "#N/A", Bloomberg's "#N/A N/A".
NO_VALUE = frozenset({"", ".", "-", "#n/a", "#n/a n/a", "n/a", "na", "nan", "null"})


def no_value(values: pd.Series) -> pd.Series:
    """Which text cells hold no value (blank, or a source's marker for none)."""
    return values.fillna("").astype(str).str.strip().str.lower().isin(NO_VALUE)


def numbers(values: pd.Series, *, decimal_comma: bool = False) -> pd.Series:
    """Floats from text cells; what does not parse is NaN, for validation to report by line."""
    try:
        # Plain decimals throughout, the usual case: numpy's conversion is several times faster.
        return pd.Series(np.asarray(values, dtype=object).astype(float), index=values.index)
    except (ValueError, TypeError):
        pass
    plain = pd.to_numeric(values, errors="coerce")
    given = values.str.strip() != ""
    if not (plain.isna() & given).any():
        return plain.astype(float)
    text = values.str.replace(_DECORATION, "", regex=True)
    if decimal_comma:
        comma = text.str.match(_DECIMAL_COMMA, na=False)
        text = text.where(~comma, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    thousands = text.str.match(_THOUSANDS_COMMA, na=False)
    text = text.where(~thousands, text.str.replace(",", "", regex=False))
    scale = text.str[-1:].str.upper().map(_SUFFIXES)
    text = text.where(scale.isna(), text.str[:-1])
    parsed = pd.to_numeric(text.replace({"": np.nan, "-": np.nan}), errors="coerce")
    return (parsed * scale.fillna(1.0)).astype(float)


def check_date_format(date_format: str) -> None:
    """Refuse a stated format that cannot read a date, before any row is read with it."""
    problem = None
    if not re.search(r"%[dj]", date_format) or not re.search(r"%[yY]", date_format):
        problem = "it needs a day (%d) and a year (%Y or %y)"
    else:
        try:
            sample = datetime(2024, 1, 31).strftime(date_format)
            if datetime.strptime(sample, date_format).date() != datetime(2024, 1, 31).date():
                problem = "it does not read back the dates it writes"
        except ValueError as error:
            problem = str(error)
    if problem:
        raise FileFormatError(f"date format {date_format!r}: {problem}; e.g. %d.%m.%Y or %m/%d/%Y")


def dates(values: pd.Series, date_format: str | None = None) -> tuple[pd.Series, str | None]:
    """Dates (midnight, no time zone; NaT where unreadable) and the format used when it was not ISO."""
    text = values.str.strip()
    if date_format:
        check_date_format(date_format)
        return _normalise(pd.to_datetime(text, format=date_format, errors="coerce")), date_format
    try:
        # Plain ISO days throughout, the usual case: one exact format is the fastest parse.
        return _normalise(pd.to_datetime(text, format="%Y-%m-%d")), None
    except (ValueError, TypeError):
        pass
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=False)
    given = text != ""
    if not (parsed.isna() & given).any():
        return _normalise(parsed), None
    sample = text[given].drop_duplicates().head(_SAMPLE)
    best, best_count = None, int(pd.to_datetime(sample, format="ISO8601", errors="coerce").notna().sum())
    for candidate in DATE_FORMATS:
        count = int(pd.to_datetime(sample, format=candidate, errors="coerce").notna().sum())
        if count > best_count:
            best, best_count = candidate, count
    if best is None:
        return _normalise(parsed), None
    return _normalise(pd.to_datetime(text, format=best, errors="coerce")), best


def _normalise(parsed: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        # Mixed offsets come back as objects; their local dates are what the exchange traded on.
        parsed = pd.to_datetime(parsed.map(lambda v: v.replace(tzinfo=None) if hasattr(v, "tzinfo") else v))
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize()
