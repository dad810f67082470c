"""Candlecast's domain code: data, indicators, forecasting, jobs. Never imports Streamlit."""
