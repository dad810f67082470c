"""The one way a page shows or offers a table: text cells that a spreadsheet would run as formulas are neutralised.

Streamlit's table toolbar exports exactly what is displayed, so neutralising here covers that export too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from core.data.export import neutralise, to_safe_csv


def safe_frame(data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> pd.DataFrame:
    """A copy of the data in which every text cell, column name and index label is neutralised."""
    frame = data.copy() if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(neutralise)
    frame.columns = [neutralise(column) for column in frame.columns]
    if not isinstance(frame.index, pd.RangeIndex):
        frame.index = frame.index.map(neutralise)
    return frame


MISSING = "—"  # Streamlit's own placeholder is the word None, greyed: a reader takes it for a value


def show_table(data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any], **options: Any) -> None:
    """st.dataframe on the neutralised data, a dash for a missing value; options pass through (column_config, ...)."""
    st.dataframe(safe_frame(data), **({"placeholder": MISSING} | options))


# The tables' font draws about 6.3 px a character on average; a cell has about 16 px of padding.
CHAR_PX, CELL_PADDING_PX, WIDEST_TEXT_PX = 7, 24, 560


def text_width(values: Iterable[object], header: str = "") -> int:
    """Pixels a text column needs to show its longest value (or its header) whole, up to WIDEST_TEXT_PX."""
    longest = max((len(value) for value in values if isinstance(value, str)), default=0)
    return min(CHAR_PX * max(longest, len(header)) + CELL_PADDING_PX, WIDEST_TEXT_PX)


def csv_download(label: str, frame: pd.DataFrame, file_name: str, *, container: Any = st) -> None:
    """A button that downloads the frame as a neutralised CSV, written only when it is pressed.

    Written up front, the CSV of 5,000 days cost about 0.1 s of every run of the page offering it. The
    click does not rerun the page: a file is all it asks for, and a run racing the file's request is a
    run in which Streamlit may replace the button's file id.
    """
    container.download_button(
        label, partial(to_safe_csv, frame), file_name=file_name, mime="text/csv", on_click="ignore"
    )
