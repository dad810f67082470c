"""Numbers and dates as files spell them: decimal commas, '$1,234.50', '1.25M', '-', '11/21/2025', 'Nov 21, 2025'."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

from core.data.errors import FileFormatError

# Swiss and Liechtenstein exports group thousands with an apostrophe ('1'234.50'), straight or typographic;
# U+0092 is the typographic one of a Windows-1252 file, which is read as Latin-1. It is never a decimal mark.
_APOSTROPHES = "'\u2019\u0092"
_APOSTROPHE_GROUPS = rf"\d{{1,3}}([{_APOSTROPHES}]\d{{3}})+"
# A number as each convention writes it: '1,234.5' and '1.234,5'. '1.234' fits both and tells nothing,
# and so does '1'234', a whole number either way.
_POINT_STYLE = rf"^[+-]?(\d+|\d{{1,3}}(,\d{{3}})+|{_APOSTROPHE_GROUPS})(\.\d+)?$"
_COMMA_STYLE = rf"^[+-]?(\d+|\d{{1,3}}(\.\d{{3}})+|{_APOSTROPHE_GROUPS})(,\d+)?$"
_DECORATION = r"[\s\u00a0$€£%]"
_SUFFIXES = {"K": 1e3, "M": 1e6, "B": 1e9}
# Formats tried in turn when none is stated; month-first before day-first, as US sites publish. Refinitiv Eikon
# writes 31-Dec-2018, Excel's d-mmm-yy 31-Dec-18.
_NAMED_OR_SINGLE = ("%b %d, %Y", "%d.%m.%Y", "%d.%m.%y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y")
DATE_FORMATS = ("%Y%m%d", "%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y", *_NAMED_OR_SINGLE)
# Files that write decimal commas write days first: 05/01 is the 5th of January there.
DAY_FIRST_FORMATS = ("%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%y", "%m/%d/%y", *_NAMED_OR_SINGLE)
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
    plain = text.str.replace(grouping, "", regex=False).str.replace(f"[{_APOSTROPHES}]", "", regex=True)
    if comma:
        plain = plain.str.replace(",", ".", regex=False)
    text = text.where(~written, plain)
    parsed = pd.to_numeric(text.replace({"": np.nan, "-": np.nan}), errors="coerce")
    return (parsed * scale.fillna(1.0)).astype(float)


class Marks(NamedTuple):
    comma: bool | None  # True: a cell reads only with a decimal comma; False: only with a point; None: none tells
    # With comma True or False, the first cell that shows it; with None, the first with a '.' that reads either way.
    example: str | None
    # With None, the first cell like '6,650': a decimal comma, or a ',' grouping thousands.
    comma_either_way: str | None = None


def decimal_comma_shown(values: pd.Series) -> bool | None:
    """True when a cell reads only with a decimal comma, False only with a point, None when none tells.

    Raises FileFormatError, naming a line of each, when the column shows both.
    """
    return decimal_marks(values).comma


def decimal_marks(values: pd.Series) -> Marks:
    """What the column's cells show of their decimal mark, and a cell to quote; see decimal_comma_shown."""
    try:
        np.asarray(values, dtype=object).astype(float)
    except (ValueError, TypeError):
        pass
    else:
        # Plain numbers throughout, as a big file's are: no comma, no second '.', no decoration, so only the
        # cells that are not '1.234' can tell, and they tell a point. Two string scans instead of _bare's.
        dotted = values.str.contains(".", regex=False)
        either = dotted & values.str.strip().str.fullmatch(r"[+-]?\d{1,3}\.\d{3}")
        if (dotted & ~either).any():
            return Marks(False, _first(values, dotted & ~either))
        return Marks(None, _first(values, either))
    text, _ = _bare(values)
    point = text.str.match(_POINT_STYLE, na=False)
    comma = text.str.match(_COMMA_STYLE, na=False)
    only_comma, only_point = comma & ~point, point & ~comma
    if only_comma.any() and only_point.any():
        comma_at, point_at = np.flatnonzero(only_comma.to_numpy())[0], np.flatnonzero(only_point.to_numpy())[0]
        raise FileFormatError(
            f"{values.name}: line {values.index[comma_at]} has {quoted(values.iloc[comma_at])} with a decimal "
            f"comma, line {values.index[point_at]} has {quoted(values.iloc[point_at])} with a decimal point: "
            "write the column with one decimal mark"
        )
    if only_comma.any():
        return Marks(True, _first(values, only_comma))
    if only_point.any():
        return Marks(False, _first(values, only_point))
    either_way = point & comma
    return Marks(
        None,
        _first(values, either_way & text.str.contains(".", regex=False)),
        _first(values, either_way & text.str.contains(",", regex=False)),
    )


def quoted(cell: object, limit: int = 24) -> str:
    """A cell as a message quotes it: stripped, in quotes, cut short when long."""
    text = str(cell).strip()
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _first(values: pd.Series, mask: pd.Series) -> str | None:
    return str(values[mask].iloc[0]).strip() if mask.any() else None


def _bare(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The cells without currency signs, spaces and a K/M/B suffix, and the suffix's scale (NaN for none)."""
    text = values.fillna("").astype(str).str.replace(_DECORATION, "", regex=True)
    scale = text.str[-1:].str.upper().map(_SUFFIXES)
    return text.where(scale.isna(), text.str[:-1]), scale


# Codes of a time of day. A stated format may end with them ('%m/%d/%Y %H:%M:%S', a time read and left
# out); inside the date one is a typo (%M, minutes, for %m, the month).
_TIME_CODES = {"H": "hours", "I": "hours", "M": "minutes", "S": "seconds", "p": "AM or PM", "f": "microseconds"}
_TIME_CODES |= {"X": "a time of day", "z": "a UTC offset", "Z": "a time zone"}
_DATE_CODES = frozenset("aAbBdehjmyY")
# A time of day after a date, with an optional UTC offset or zone: GOOGLEFINANCE's '1/2/2024 16:00:00',
# German Excel's '02.01.2024 00:00', yfinance's '2024-03-08 00:00:00-05:00', '2024-01-02T14:30:00Z', '... EST'.
_TIMED = (
    r"^(?P<day>.*?\d),?(?:T|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d{1,9})?)?"
    r"\s*(?P<half>[AaPp]\.?[Mm]\.?)?\s*(?:Z|[A-Z]{3,5}|(?:UTC|GMT)?[+-]\d{2}(?::?\d{2})?)?$"
)


def check_date_format(date_format: str) -> None:
    """Refuse a stated format that cannot read a date, before any row is read with it."""
    problem = _format_problem(date_format)
    if problem:
        raise FileFormatError(f"date format {date_format!r}: {problem}; e.g. %d.%m.%Y or %m/%d/%Y")


def _format_problem(date_format: str) -> str | None:
    codes = re.findall(r"%(.)", date_format)
    timed_at = next((at for at, code in enumerate(codes) if code in _TIME_CODES), len(codes))
    if any(code in _DATE_CODES for code in codes[timed_at:]):
        timed = codes[timed_at]
        hint = "the month is %m" if timed == "M" else "a time of day goes after the date"
        return f"%{timed} is a time code ({_TIME_CODES[timed]}), not a date's; {hint}"
    repeated = next((code for code in codes if codes.count(code) > 1 and code != "%"), None)
    if repeated:
        return f"it uses %{repeated} twice"
    date_codes = set(codes[:timed_at])
    if not {"d", "j"} & date_codes or not {"y", "Y"} & date_codes:
        return "it needs a day (%d) and a year (%Y or %y)"
    if not {"m", "b", "B", "j"} & date_codes:
        return "it needs a month (%m, %b or %B)" + ("; %M is minutes, the month is %m" if "M" in codes else "")
    try:
        # An aware datetime, so that %z and %Z write something to read back.
        sample = datetime(2024, 1, 31, 16, 0, tzinfo=UTC).strftime(date_format)
        if datetime.strptime(sample, date_format).date() != datetime(2024, 1, 31).date():
            return "it does not read back the dates it writes"
    except (ValueError, re.error) as error:
        return str(error)
    return None


def _date_part(date_format: str) -> str:
    """The format up to its first time code: '%m/%d/%Y %H:%M:%S' reads dates as '%m/%d/%Y'."""
    timed = next((found for found in re.finditer(r"%(.)", date_format) if found[1] in _TIME_CODES), None)
    return date_format if timed is None else date_format[: timed.start()].rstrip(" \tT,@")


# A number in a workbook's date column is a day Excel counts from its epoch when it falls in this span: a cell
# that lost its date format. A price, or a date written 20240131, falls outside it. Five digits in either epoch.
SERIAL_SPAN = (pd.Timestamp("1950-01-01"), pd.Timestamp("2100-12-31"))
# Day 0 of a workbook in the 1900 date system, Windows Excel's and nearly every workbook's (Mac's 1904 is the other).
EXCEL_EPOCH = datetime(1899, 12, 30)
_SERIAL = r"\d{5}(\.\d+)?"


def serial_days(values: pd.Series, epoch: datetime) -> pd.Series:
    """The day (and time) each cell's Excel serial number stands for; NaT where a cell is none in SERIAL_SPAN."""
    text = values.str.strip()
    counted = pd.to_numeric(text.where(text.str.fullmatch(_SERIAL, na=False)), errors="coerce")
    stamps = (pd.Timestamp(epoch) + pd.to_timedelta(counted, unit="D")).dt.round("s")
    return stamps.where(stamps.between(*SERIAL_SPAN))


class DatesRead(NamedTuple):
    values: pd.Series  # midnight, no time zone; NaT where unreadable
    format: str | None  # the format used, when it was not ISO
    also_fits: str | None  # another format that reads every sampled date as well: the file is ambiguous
    # Seconds after midnight each cell gives after its date, NaN where it gives none; None when no cell does.
    times: pd.Series | None = None


def dates(values: pd.Series, date_format: str | None = None, *, day_first: bool = False) -> DatesRead:
    """Dates and the format used; day_first prefers 05/01 as the 5th of January when both readings fit.

    A time of day after a date is set aside in times, and a UTC offset after it ignored: each row is
    the day written, '2024-03-08 00:00:00-05:00' the 8th, whatever the offsets of the other rows.
    """
    text = values.str.strip()
    if date_format:
        check_date_format(date_format)
        days, times = _without_times(text)
        date_part = _date_part(date_format)
        parsed = _parsed(days, date_part)
        if date_part != date_format:
            # A time glued to its date ('%Y%m%d%H%M', '202401021600') reads only with the whole format.
            whole = _parsed(text, date_format)
            seconds = (whole - whole.dt.normalize()).dt.total_seconds()
            times = seconds if times is None else times.fillna(seconds.where(parsed.isna()))
            parsed = parsed.fillna(whole)
        return DatesRead(parsed.dt.normalize(), date_format, None, times)
    try:
        # Plain ISO days throughout, the usual case: one exact format is the fastest parse.
        return DatesRead(pd.to_datetime(text, format="%Y-%m-%d").dt.normalize(), None, None)
    except (ValueError, TypeError):
        pass
    days, times = _without_times(text)
    parsed = _parsed(days, "ISO8601")
    given = days != ""
    if not (parsed.isna() & given).any():
        return DatesRead(parsed.dt.normalize(), None, None, times)
    sample = days[given].drop_duplicates().head(_SAMPLE)
    counts = {
        candidate: int(_parsed(sample, candidate).notna().sum())
        for candidate in (DAY_FIRST_FORMATS if day_first else DATE_FORMATS)
    }
    best = max(counts, key=lambda candidate: counts[candidate])  # the first of equals: the order is the preference
    if counts[best] <= int(_parsed(sample, "ISO8601").notna().sum()):
        return DatesRead(parsed.dt.normalize(), None, None, times)
    also_fits = next((other for other, count in counts.items() if other != best and count == counts[best]), None)
    return DatesRead(_parsed(days, best).dt.normalize(), best, also_fits, times)


def _without_times(text: pd.Series) -> tuple[pd.Series, pd.Series | None]:
    """The cells without the time of day (and UTC offset) after their date, and that time in seconds.

    A cell whose time is no time ('25:00') is kept whole, so that it fails as a date and is reported.
    """
    if not text.str.contains(":", regex=False).any():
        return text, None
    parts = text.str.extract(_TIMED)
    hour, minute = pd.to_numeric(parts["hour"]), pd.to_numeric(parts["minute"])
    second = pd.to_numeric(parts["second"]).fillna(0)
    half = parts["half"].str[:1].str.upper()
    twelve = half.notna()
    valid = parts["day"].notna() & (minute < 60) & (second < 60) & hour.between(1, 12).where(twelve, hour < 24)
    hour = hour.where(~twelve, hour % 12 + 12 * (half == "P"))
    seconds = (hour * 3600 + minute * 60 + second).where(valid)
    return parts["day"].where(valid, text), seconds.astype(float)


def _parsed(text: pd.Series, date_format: str) -> pd.Series:
    """Naive datetimes, NaT where a cell does not read; a cell with a UTC offset keeps the time written."""
    try:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    except (ValueError, TypeError, OverflowError):
        # pandas refuses a column mixing offsets, or zoned and plain cells, even when told to coerce.
        parsed = pd.to_datetime(text.map(lambda cell: _wall_time(cell, date_format)))
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    if "%y" in date_format:
        parsed = _not_in_the_future(parsed)
    return parsed


def _not_in_the_future(parsed: pd.Series) -> pd.Series:
    """A two-digit year as the latest year so written that is not after this one: prices are of days gone by.

    Python reads 69 to 99 as 1969 to 1999 and 00 to 68 as 2000 to 2068: a '30' of a 1930 Dow file would be 2030.
    """
    ahead = parsed.dt.year > datetime.now(UTC).year
    if not ahead.any():
        return parsed
    # 20yy less a century is 19yy: a 29 February stays one (2000, the only century year among them, is never ahead).
    return parsed.where(~ahead, parsed - pd.DateOffset(years=100))


def _wall_time(cell: str, date_format: str) -> pd.Timestamp:
    try:
        value = pd.to_datetime(cell, format=date_format)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    return value.tz_localize(None) if value.tzinfo is not None else value
