"""Numbers and dates as files spell them: decimal commas, '$1,234.50', '1.25M', '-', '11/21/2025', 'Nov 21, 2025'."""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

from core.data.errors import FileFormatError

# A number as each convention writes it: '1,234.5' and '1.234,5'. '1.234' fits both and tells nothing.
_POINT_STYLE = r"^[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$"
_COMMA_STYLE = r"^[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$"
_DECORATION = r"[\s\u00a0$€£%]"
_SUFFIXES = {"K": 1e3, "M": 1e6, "B": 1e9}
# Formats tried in turn when none is stated; month-first before day-first, as US sites publish.
DATE_FORMATS = ("%Y%m%d", "%m/%d/%Y", "%d/%m/%Y", "%b %d, %Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y")
# Files that write decimal commas write days first: 05/01 is the 5th of January there.
DAY_FIRST_FORMATS = ("%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", *DATE_FORMATS[3:])
_SAMPLE = 500
# Cells that say "no value here", as sources write them: FRED's ".", Excel's "#N/A", Bloomberg's "#N/A N/A",
# Nasdaq.com's "N/A" and "--".
NO_VALUE = frozenset({"", ".", "-", "--", "#n/a", "#n/a n/a", "n/a", "na", "nan", "null"})


def no_value(values: pd.Series) -> pd.Series:
    """Which text cells hold no value (blank, or a source's marker for none)."""
    return values.fillna("").astype(str).str.strip().str.lower().isin(NO_VALUE)


def numbers(values: pd.Series, *, decimal_comma: bool = False) -> pd.Series:
    """Floats from text cells; what does not parse is NaN, for validation to report by line.

    A column's decimal mark is the one its cells show ('2.736,27' a comma, '2736.27' a point), the same for
    every cell; decimal_comma decides a column that shows none ('1.236', '397.518'). Raises FileFormatError
    for a column showing both.
    """
    if not decimal_comma or not values.str.contains(".", regex=False).any():
        try:
            # Plain decimals throughout, the usual case: numpy's conversion is several times faster.
            return pd.Series(np.asarray(values, dtype=object).astype(float), index=values.index)
        except (ValueError, TypeError):
            pass
    text, scale = _bare(values)
    shown = decimal_comma_shown(values)
    comma = decimal_comma if shown is None else shown
    grouping = "." if comma else ","
    written = text.str.match(_COMMA_STYLE if comma else _POINT_STYLE, na=False)
    plain = text.str.replace(grouping, "", regex=False)
    if comma:
        plain = plain.str.replace(",", ".", regex=False)
    text = text.where(~written, plain)
    parsed = pd.to_numeric(text.replace({"": np.nan, "-": np.nan}), errors="coerce")
    return (parsed * scale.fillna(1.0)).astype(float)


def decimal_comma_of(columns: list[pd.Series]) -> bool | None:
    """Whether a file writes decimal commas, from all its number columns; None when they do not tell or disagree."""
    shown = {decimal_comma_shown(column) for column in columns} - {None}
    return shown.pop() if len(shown) == 1 else None


def decimal_comma_shown(values: pd.Series) -> bool | None:
    """True when a cell reads only with a decimal comma, False only with a point, None when none tells.

    Raises FileFormatError, naming a line of each, when the column shows both.
    """
    text, _ = _bare(values)
    point = text.str.match(_POINT_STYLE, na=False)
    comma = text.str.match(_COMMA_STYLE, na=False)
    only_comma, only_point = comma & ~point, point & ~comma
    if only_comma.any() and only_point.any():
        comma_at, point_at = np.flatnonzero(only_comma.to_numpy())[0], np.flatnonzero(only_point.to_numpy())[0]
        raise FileFormatError(
            f"{values.name}: line {values.index[comma_at]} has {values.iloc[comma_at].strip()!r} with a decimal "
            f"comma, line {values.index[point_at]} has {values.iloc[point_at].strip()!r} with a decimal point: "
            "write the column with one decimal mark"
        )
    if only_comma.any():
        return True
    return False if only_point.any() else None


def _bare(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The cells without currency signs, spaces and a K/M/B suffix, and the suffix's scale (NaN for none)."""
    text = values.fillna("").astype(str).str.replace(_DECORATION, "", regex=True)
    scale = text.str[-1:].str.upper().map(_SUFFIXES)
    return text.where(scale.isna(), text.str[:-1]), scale


# Codes of a time of day: a date format holding one was mistyped (%M, minutes, for %m, the month).
_TIME_CODES = {"H": "hours", "I": "hours", "M": "minutes", "S": "seconds", "p": "AM or PM", "f": "microseconds"}
_TIME_CODES |= {"X": "a time of day", "z": "a UTC offset", "Z": "a time zone"}


def check_date_format(date_format: str) -> None:
    """Refuse a stated format that cannot read a date, before any row is read with it."""
    problem = _format_problem(date_format)
    if problem:
        raise FileFormatError(f"date format {date_format!r}: {problem}; e.g. %d.%m.%Y or %m/%d/%Y")


def _format_problem(date_format: str) -> str | None:
    codes = re.findall(r"%(.)", date_format)
    repeated = next((code for code in codes if codes.count(code) > 1 and code != "%"), None)
    if repeated:
        return f"it uses %{repeated} twice"
    timed = next((code for code in codes if code in _TIME_CODES), None)
    if timed:
        hint = "; the month is %m" if timed == "M" else ""
        return f"%{timed} is a time code ({_TIME_CODES[timed]}), not a date's{hint}"
    if not {"d", "j"} & set(codes) or not {"y", "Y"} & set(codes):
        return "it needs a day (%d) and a year (%Y or %y)"
    if not {"m", "b", "B", "j"} & set(codes):
        return "it needs a month (%m, %b or %B)"
    try:
        sample = datetime(2024, 1, 31).strftime(date_format)
        if datetime.strptime(sample, date_format).date() != datetime(2024, 1, 31).date():
            return "it does not read back the dates it writes"
    except (ValueError, re.error) as error:
        return str(error)
    return None


class DatesRead(NamedTuple):
    values: pd.Series  # midnight, no time zone; NaT where unreadable
    format: str | None  # the format used, when it was not ISO
    also_fits: str | None  # another format that reads every sampled date as well: the file is ambiguous


def dates(values: pd.Series, date_format: str | None = None, *, day_first: bool = False) -> DatesRead:
    """Dates and the format used; day_first prefers 05/01 as the 5th of January when both readings fit."""
    text = values.str.strip()
    if date_format:
        check_date_format(date_format)
        return DatesRead(_normalise(pd.to_datetime(text, format=date_format, errors="coerce")), date_format, None)
    try:
        # Plain ISO days throughout, the usual case: one exact format is the fastest parse.
        return DatesRead(_normalise(pd.to_datetime(text, format="%Y-%m-%d")), None, None)
    except (ValueError, TypeError):
        pass
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=False)
    given = text != ""
    if not (parsed.isna() & given).any():
        return DatesRead(_normalise(parsed), None, None)
    sample = text[given].drop_duplicates().head(_SAMPLE)
    counts = {
        candidate: int(pd.to_datetime(sample, format=candidate, errors="coerce").notna().sum())
        for candidate in (DAY_FIRST_FORMATS if day_first else DATE_FORMATS)
    }
    best = max(counts, key=lambda candidate: counts[candidate])  # the first of equals: the order is the preference
    if counts[best] <= int(pd.to_datetime(sample, format="ISO8601", errors="coerce").notna().sum()):
        return DatesRead(_normalise(parsed), None, None)
    also_fits = next((other for other, count in counts.items() if other != best and count == counts[best]), None)
    return DatesRead(_normalise(pd.to_datetime(text, format=best, errors="coerce")), best, also_fits)


def _normalise(parsed: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        # Mixed offsets come back as objects; their local dates are what the exchange traded on.
        parsed = pd.to_datetime(parsed.map(lambda v: v.replace(tzinfo=None) if hasattr(v, "tzinfo") else v))
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize()
