"""Chart builders, in one place for every page: candlesticks with volume, and the panes added to them."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

RANGE_BUTTONS = [
    {"count": 1, "label": "1M", "step": "month", "stepmode": "backward"},
    {"count": 6, "label": "6M", "step": "month", "stepmode": "backward"},
    {"count": 1, "label": "YTD", "step": "year", "stepmode": "todate"},
    {"count": 1, "label": "1Y", "step": "year", "stepmode": "backward"},
    {"count": 5, "label": "5Y", "step": "year", "stepmode": "backward"},
    {"step": "all", "label": "All"},
]
UP, DOWN = "#0f766e", "#b91c1c"


def trading_day_breaks(dates: pd.Series) -> list[dict]:
    """Weekends and the weekdays with no bar (holidays), so the x-axis shows no empty gaps."""
    days = pd.DatetimeIndex(pd.to_datetime(dates))
    if days.empty:
        return []
    weekdays = pd.bdate_range(days.min(), days.max())
    holidays = weekdays.difference(days.normalize())
    breaks: list[dict] = [{"bounds": ["sat", "mon"]}]
    if len(holidays):
        breaks.append({"values": [day.strftime("%Y-%m-%d") for day in holidays]})
    return breaks


def initial_window(dates: pd.Series, label: str) -> list[pd.Timestamp] | None:
    """The x-range a range button label (1M, 6M, YTD, 1Y, 5Y, All) shows, ending at the last bar."""
    days = pd.to_datetime(dates)
    if days.empty or label == "All":
        return None
    end = days.max()
    offsets = {"1M": pd.DateOffset(months=1), "6M": pd.DateOffset(months=6), "1Y": pd.DateOffset(years=1)}
    offsets["5Y"] = pd.DateOffset(years=5)
    start = pd.Timestamp(year=end.year, month=1, day=1) if label == "YTD" else end - offsets[label]
    return [max(start, days.min()), end]


def candlestick_figure(
    prices: pd.DataFrame, *, title: str = "", template: str = "plotly_white", window: str = "All"
) -> go.Figure:
    """Candlesticks over a volume pane that shares the x-axis; prices has date, open..close, volume."""
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.03)
    figure.add_trace(
        go.Candlestick(
            x=prices["date"],
            open=prices["open"],
            high=prices["high"],
            low=prices["low"],
            close=prices["close"],
            name="price",
            increasing_line_color=UP,
            decreasing_line_color=DOWN,
        ),
        row=1,
        col=1,
    )
    rising = prices["close"] >= prices["open"]
    figure.add_trace(
        go.Bar(
            x=prices["date"],
            y=prices["volume"],
            name="volume",
            marker_color=rising.map({True: UP, False: DOWN}),
        ),
        row=2,
        col=1,
    )
    figure.update_layout(
        title=title,
        template=template,
        showlegend=False,
        height=520,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        xaxis={"rangeselector": {"buttons": RANGE_BUTTONS}, "rangeslider": {"visible": False}},
    )
    figure.update_xaxes(rangebreaks=trading_day_breaks(prices["date"]))
    shown = initial_window(prices["date"], window)
    if shown:
        figure.update_xaxes(range=shown)
    figure.update_yaxes(title_text="price", row=1, col=1)
    figure.update_yaxes(title_text="volume", row=2, col=1)
    return figure
