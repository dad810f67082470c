"""Dates and numbers as files spell them: time zones, times of day, decimal marks."""

import pandas as pd
import pytest

from core.data.errors import FileFormatError
from core.data.values import check_date_format, dates, decimal_marks, numbers


def read(*cells: str, **options) -> list[str]:
    return [str(day.date()) if pd.notna(day) else "NaT" for day in dates(pd.Series(cells), **options).values]


@pytest.mark.parametrize(
    "cells",
    [
        # yfinance's history() across New York's change to summer time: two offsets in one column.
        ("2024-03-08 00:00:00-05:00", "2024-03-11 00:00:00-04:00"),
        # UTC marked on some cells only, and offsets written without a colon.
        ("2024-03-08T00:00:00Z", "2024-03-11"),
        ("2024-03-08 00:00:00+0100", "2024-03-11 00:00:00"),
    ],
)
def test_mixed_time_zones_keep_each_rows_date_as_written(cells):
    assert read(*cells) == ["2024-03-08", "2024-03-11"]


def test_a_date_east_of_greenwich_is_not_moved_to_the_day_before():
    assert read("2024-01-04 00:00:00+09:00", "2024-01-05 00:00:00+09:00") == ["2024-01-04", "2024-01-05"]


def test_an_unreadable_cell_among_zoned_ones_is_no_date_not_an_error():
    assert read("2024-03-08 00:00:00-05:00", "someday", "2024-03-11 00:00:00-04:00") == [
        "2024-03-08",
        "NaT",
        "2024-03-11",
    ]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (("1/2/2024 16:00:00", "1/3/2024 16:00:00"), ["2024-01-02", "2024-01-03"]),  # GOOGLEFINANCE
        (("02.01.2024 00:00", "03.01.2024 00:00"), ["2024-01-02", "2024-01-03"]),  # German Excel
        (("Jan 2, 2024 4:00 PM", "Jan 3, 2024 4:00 PM"), ["2024-01-02", "2024-01-03"]),
    ],
)
def test_non_iso_dates_with_a_time_of_day_read_as_their_dates(cells, expected):
    read_ = dates(pd.Series(cells))
    assert [str(day.date()) for day in read_.values] == expected
    assert read_.format is not None


def test_the_time_of_day_is_kept_aside():
    read_ = dates(pd.Series(["1/2/2024 16:00:00", "1/3/2024 4:30 PM", "1/4/2024"]))
    assert read_.times.tolist()[:2] == [16 * 3600, 16.5 * 3600]
    assert pd.isna(read_.times.iloc[2])


@pytest.mark.parametrize(
    ("date_format", "cells"),
    [
        ("%m/%d/%Y %H:%M:%S", ("1/2/2024 16:00:00", "1/3/2024 16:00:00")),
        ("%d.%m.%Y %H:%M", ("02.01.2024 00:00", "03.01.2024 00:00")),
        ("%Y-%m-%dT%H:%M:%S", ("2024-01-02T16:00:00", "2024-01-03T16:00:00")),
        # A stated format without the time still reads dates that carry one.
        ("%m/%d/%Y", ("1/2/2024 16:00:00", "1/3/2024 16:00:00")),
    ],
)
def test_a_stated_format_may_end_with_a_time_of_day(date_format, cells):
    check_date_format(date_format)
    assert read(*cells, date_format=date_format) == ["2024-01-02", "2024-01-03"]


@pytest.mark.parametrize(
    ("date_format", "message"),
    [
        ("%d.%M.%Y", "%M is a time code (minutes), not a date's; the month is %m"),
        ("%M/%d/%Y %H:%M", "%M is a time code (minutes), not a date's; the month is %m"),
        ("%H:%M %d.%m.%Y", "%H is a time code (hours), not a date's; a time of day goes after the date"),
        ("%Y-%d %H:%M", "it needs a month (%m, %b or %B); %M is minutes, the month is %m"),
        ("%d.%m.%Y %H:%Q", "'Q' is a bad directive"),
    ],
)
def test_a_time_code_inside_the_date_is_still_refused(date_format, message):
    with pytest.raises(FileFormatError) as raised:
        check_date_format(date_format)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("cells", "marks"),
    [
        (["123,45", "124,00"], (True, "123,45", None)),
        (["1.095", "1.234.567"], (True, "1.234.567", None)),  # only a '.' grouping thousands writes two
        (["1.095", "1.099", "100"], (None, "1.095", None)),  # reads either way: the file must tell
        (["1.095", "1234.5"], (False, "1234.5", None)),
        (["$1.095", "1.25M"], (False, "1.25M", None)),
        (["$1.095", "25K"], (None, "$1.095", None)),
        (["100", "200"], (None, None, None)),
        # Swiss and Liechtenstein exports group thousands with an apostrophe, straight or typographic.
        (["1'234.50", "1\u2019240.00"], (False, "1'234.50", None)),
        (["1'234,50", "1'240"], (True, "1'234,50", None)),
        (["1'234", "1\u2019240"], (None, None, None)),  # whole numbers: the same in either convention
        (["6,650", "6,782", "12"], (None, None, "6,650")),  # 6.65 or 6650: the file must tell
        (["1,234,567", "1,234"], (False, "1,234,567", None)),  # only a ',' grouping thousands writes two
    ],
)
def test_what_a_column_shows_of_its_decimal_mark(cells, marks):
    assert tuple(decimal_marks(pd.Series(cells, name="close"))) == marks


def test_a_column_showing_both_marks_is_refused_quoting_both_cut_short():
    cells = pd.Series(["1.246,5", "1247.25" + "0" * 40], index=[2, 3], name="close")
    with pytest.raises(FileFormatError) as raised:
        decimal_marks(cells)
    assert str(raised.value) == (
        "close: line 2 has '1.246,5' with a decimal comma, line 3 has '1247.250000000000000000…' with a decimal "
        "point: write the column with one decimal mark"
    )


def test_apostrophe_thousands_read_in_the_columns_convention():
    assert numbers(pd.Series(["1'234.50", "1\u2019000'000", "12.5"])).tolist() == [1234.5, 1_000_000, 12.5]
    assert numbers(pd.Series(["1'234,50", "7,25"]), decimal_comma=True).tolist() == [1234.5, 7.25]


def test_a_column_grouping_thousands_two_ways_is_refused_naming_the_lines():
    cells = pd.Series(["1'234.50", "1.234,50"], index=[2, 3], name="close")
    with pytest.raises(FileFormatError, match=r"close: line 3 has '1.234,50' with a decimal comma, line 2 has"):
        decimal_marks(cells)


@pytest.mark.parametrize(
    ("cells", "date_format"),
    [
        (["31-Dec-2018", "02-Jan-2019"], "%d-%b-%Y"),  # Refinitiv Eikon
        (["31-Dec-18", "02-Jan-19"], "%d-%b-%y"),  # Excel's d-mmm-yy
        (["31.12.18", "02.01.19"], "%d.%m.%y"),
        (["12/31/18", "1/2/19"], "%m/%d/%y"),
        (["31/12/18", "2/1/19"], "%d/%m/%y"),
    ],
)
def test_month_names_and_two_digit_years_are_read(cells, date_format):
    read = dates(pd.Series(cells))
    assert [str(day.date()) for day in read.values] == ["2018-12-31", "2019-01-02"]
    assert read.format == date_format


def test_a_two_digit_year_is_never_in_the_future():
    this_year = pd.Timestamp.today().year
    ahead, behind = (this_year + 1) % 100, this_year % 100
    read = dates(pd.Series([f"01-Jan-{ahead:02d}", f"01-Jan-{behind:02d}", "01-Jan-69", "01-Jan-00"]))
    assert [day.year for day in read.values] == [this_year + 1 - 100, this_year, 1969, 2000]


def test_two_digit_years_day_or_month_first_keep_the_ambiguity_note():
    read = dates(pd.Series(["02/01/18", "03/01/18", "04/01/18"]))
    assert (read.format, read.also_fits) == ("%m/%d/%y", "%d/%m/%y")
    day_first = dates(pd.Series(["02/01/18", "03/01/18", "04/01/18"]), day_first=True)
    assert (day_first.format, day_first.also_fits) == ("%d/%m/%y", "%m/%d/%y")
    assert str(day_first.values.iloc[0].date()) == "2018-01-02"
