"""Why an interval coverage is blank, said once under any table that leaves it blank."""

import streamlit as st

from core.forecasting.intervals import UNBOUNDED_COVERAGE
from ui.text import plain


def show_blank_coverage(names: list[str]) -> None:
    """A caption naming the rows whose interval was unbounded; nothing when there are none."""
    if names:
        st.caption(plain(f"Interval coverage is blank for {', '.join(names)}: {UNBOUNDED_COVERAGE}."))
