"""Candlecast: the entry point. Page set-up, settings check, and the router over pages/."""

import streamlit as st

from ui.bootstrap import settings_or_stop
from ui.navigation import app_pages

st.set_page_config(page_title="Candlecast", page_icon=":material/candlestick_chart:", layout="wide")
settings_or_stop()
st.navigation(app_pages()).run()
