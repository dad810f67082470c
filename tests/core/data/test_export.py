"""CSV downloads are safe to open in a spreadsheet."""

import csv
import io

import pandas as pd

from core.data.export import to_safe_csv


def read_back(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_text_that_would_be_a_formula_is_quoted_and_numbers_stay_numbers():
    notes = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tTab", "\rCR", "plain"]
    frame = pd.DataFrame({"note": notes, "close": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    header, *rows = read_back(to_safe_csv(frame))
    assert header == ["note", "close"]
    assert [row[0] for row in rows] == ["'" + note for note in notes[:6]] + ["plain"]
    assert [row[1] for row in rows][:2] == ["-1.5", "2.0"]


def test_column_names_are_quoted_too():
    assert read_back(to_safe_csv(pd.DataFrame({"=cmd": [1]})))[0] == ["'=cmd"]


def test_a_number_that_is_not_finite_is_an_empty_cell_as_a_missing_one_is():
    # "-inf" would open as a formula in a spreadsheet, and JSON has null for all three.
    frame = pd.DataFrame({"lower": [0.0, float("-inf"), 1.0], "upper": [float("inf"), 2.0, float("nan")]})
    header, *rows = read_back(to_safe_csv(frame))
    assert header == ["lower", "upper"]
    assert rows == [["0.0", ""], ["", "2.0"], ["1.0", ""]]
    assert frame["upper"].iloc[0] == float("inf"), "the caller's frame is left as it was"
