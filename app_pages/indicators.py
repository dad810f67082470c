"""Indicators: RSI, EMA, volatility, Bollinger bands, MACD, ATR and OBV on interactive charts."""

import streamlit as st

from ui.auth import require_login


def main() -> None:
    require_login()
    st.title("Indicators")
    st.info(
        "Coming here: candlestick charts with RSI, EMA, historical volatility, Bollinger bands, "
        "MACD, ATR and OBV, and a screener across your tickers.",
        icon=":material/construction:",
    )


if __name__ == "__main__":
    main()
