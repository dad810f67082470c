"""The one way a page shows a table: text cells that a spreadsheet would run as formulas are neutralised.

Streamlit's table toolbar exports exactly what is displayed, so neutralising here covers that export too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core.data.export import neutralise


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


def show_table(data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any], **options: Any) -> None:
    """st.dataframe on the neutralised data; options pass through (column_config, hide_index, ...)."""
    st.dataframe(safe_frame(data), **options)
