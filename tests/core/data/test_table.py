"""Text tables are measured as the CSV parser splits them: a value cannot hide its length behind a line break."""

import pytest

from core.data.errors import FileFormatError
from core.data.table import MAX_FIELD_CHARS, read_text_table, shorten


@pytest.mark.parametrize(
    "separator",
    ["\u2028", "\u2029", "\x85", "\x0c"],
    ids=["line-separator", "paragraph-separator", "next-line", "form-feed"],
)
def test_a_long_value_broken_by_characters_only_str_splitlines_breaks_at_is_refused(separator):
    text = "Date,Close\n2024-01-02,185.64\n2024-01-03" + (separator + "x" * 500) * 10 + ",184.25\n"
    with pytest.raises(FileFormatError) as refused:
        read_text_table(text.encode("utf-8"))
    assert str(refused.value) == (
        f"line 3, column 1 holds a value of 5,020 characters (at most {MAX_FIELD_CHARS:,}): "
        "this is not a price or ticker table"
    )


def test_a_long_value_quoted_over_several_lines_is_refused():
    text = 'Date,Close\n2024-01-02,185.64\n"2024-01-03' + ("\n" + "x" * 500) * 10 + '",184.25\n'
    with pytest.raises(FileFormatError, match="line 3, column 1 holds a value of 5,020 characters"):
        read_text_table(text.encode())


def test_a_latin_1_file_of_next_line_bytes_is_one_long_value():
    with pytest.raises(FileFormatError, match=r"line 1, column 1 holds a value of 4,955,500 characters"):
        read_text_table((b"x" * 900 + b"\x85") * 5500)


def test_line_numbers_count_only_the_breaks_the_parser_reads():
    text = "Date,Close\r\n2024-01-02,185.64\r2024-01-03,184.25\n\n2024-01-04,181.91\n"
    cells = read_text_table(text.encode()).cells
    assert cells.index.tolist() == [1, 2, 3, 5]
    assert cells[0].tolist() == ["Date", "2024-01-02", "2024-01-03", "2024-01-04"]


def test_shorten():
    assert shorten("abc", 3) == "abc"
    assert shorten("abcd", 3) == "ab…"
