"""CSV downloads that a spreadsheet cannot turn into formulas."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV in which text cells that would start a formula get a leading quote; numbers stay numbers,
    but for one that is not finite (an unbounded interval's bound), an empty cell as JSON's null is."""
    safe = frame.copy()
    for column in safe.columns:
        if not is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
        elif safe[column].dtype.kind == "f":
            # Written, "-inf" would open as a formula.
            safe[column] = safe[column].mask(np.isinf(safe[column]))
    safe.columns = [neutralise(str(column)) for column in safe.columns]
    # Quoting every text cell keeps a carriage return inside its cell instead of ending the row.
    return safe.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")
