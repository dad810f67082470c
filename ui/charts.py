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


def fit_y_to_window(figure: go.Figure, window: list[pd.Timestamp] | None) -> None:
    """Scale each pane's y-axis to the bars inside the initial window.

    Plotly scales y over all the data, so a one-year window of a twenty-year history would be
    squashed into a thin band; the range buttons still move x freely afterwards.
    """
    if window is None:
        return
    start, end = window
    bounds: dict[str, list[float]] = {}
    for trace in figure.data:
        x = pd.to_datetime(pd.Series(trace.x))
        inside = ((x >= start) & (x <= end)).to_numpy()
        columns = ("low", "high") if trace.type == "candlestick" else ("y",)
        for name in columns:
            values = pd.to_numeric(pd.Series(getattr(trace, name)), errors="coerce")[inside].dropna()
            if values.empty:
                continue
            axis = trace.yaxis or "y"
            low, high = bounds.get(axis, [float("inf"), float("-inf")])
            bounds[axis] = [min(low, float(values.min())), max(high, float(values.max()))]
    for axis, (low, high) in bounds.items():
        if axis == "y" or not figure.layout[f"yaxis{axis[1:]}"].range:
            pad = (high - low) * 0.05 or abs(high) * 0.05 or 1.0
            figure.layout[f"yaxis{axis[1:]}"].range = [low - pad, high + pad]


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


PANE_HEIGHT = 0.16
OVERLAY_COLOURS = ("#2563eb", "#d97706", "#7c3aed", "#db2777", "#0891b2")


def indicator_figure(
    view: pd.DataFrame,
    *,
    overlays: list[str],
    panes: list[str],
    ema_spans: tuple[int, ...],
    title: str = "",
    template: str = "plotly_white",
    window: str = "All",
) -> go.Figure:
    """Candlesticks and volume with EMA and Bollinger overlays, and one pane per oscillator below.

    view has the price columns and compute_all's columns; every pane shares the x-axis.
    """
    rows = 2 + len(panes)
    heights = [1.0 - PANE_HEIGHT * (rows - 1), *([PANE_HEIGHT] * (rows - 1))]
    figure = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.02, row_heights=heights,
        subplot_titles=["", "volume", *panes],
    )  # fmt: skip
    x = view["date"]
    figure.add_trace(
        go.Candlestick(
            x=x, open=view["open"], high=view["high"], low=view["low"], close=view["close"], name="price",
            increasing_line_color=UP, decreasing_line_color=DOWN, showlegend=False,
        ),
        row=1, col=1,
    )  # fmt: skip
    if "EMA" in overlays:
        for colour, span in zip(OVERLAY_COLOURS, ema_spans, strict=False):
            figure.add_trace(
                go.Scatter(x=x, y=view[f"ema_{span}"], name=f"EMA {span}", line={"width": 1.2, "color": colour}),
                row=1,
                col=1,
            )
    if "Bollinger" in overlays:
        band = {"width": 1, "color": "rgba(100,116,139,0.9)"}
        figure.add_trace(go.Scatter(x=x, y=view["bb_upper"], name="Bollinger upper", line=band), row=1, col=1)
        figure.add_trace(
            go.Scatter(
                x=x, y=view["bb_lower"], name="Bollinger lower", line=band, fill="tonexty",
                fillcolor="rgba(100,116,139,0.08)",
            ),
            row=1, col=1,
        )  # fmt: skip
        figure.add_trace(
            go.Scatter(x=x, y=view["bb_middle"], name="Bollinger middle", line=band | {"dash": "dot"}),
            row=1,
            col=1,
        )
    rising = view["close"] >= view["open"]
    figure.add_trace(
        go.Bar(x=x, y=view["volume"], name="volume", marker_color=rising.map({True: UP, False: DOWN})),
        row=2,
        col=1,
    )
    for row, pane in enumerate(panes, start=3):
        _add_pane(figure, view, pane, row)
    figure.update_layout(
        title=title,
        template=template,
        height=420 + 150 * len(panes),
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.03, "x": 0},
        xaxis={"rangeselector": {"buttons": RANGE_BUTTONS}, "rangeslider": {"visible": False}},
    )
    figure.update_xaxes(rangebreaks=trading_day_breaks(x))
    shown = initial_window(x, window)
    if shown:
        figure.update_xaxes(range=shown)
        fit_y_to_window(figure, shown)
    return figure


def _add_pane(figure: go.Figure, view: pd.DataFrame, pane: str, row: int) -> None:
    x = view["date"]
    column = {
        "RSI": _first(view, "rsi_"),
        "ATR": _first(view, "atr_"),
        "HV": _first(view, "hv_"),
        "OBV": "obv",
    }
    if pane == "MACD":
        figure.add_trace(
            go.Bar(x=x, y=view["macd_hist"], name="MACD histogram", marker_color="#94a3b8"), row=row, col=1
        )
        figure.add_trace(go.Scatter(x=x, y=view["macd"], name="MACD", line={"color": "#2563eb"}), row=row, col=1)
        figure.add_trace(
            go.Scatter(x=x, y=view["macd_signal"], name="MACD signal", line={"color": "#d97706"}),
            row=row,
            col=1,
        )
        return
    figure.add_trace(go.Scatter(x=x, y=view[column[pane]], name=pane, line={"color": "#0f766e"}), row=row, col=1)
    if pane == "RSI":
        for level in (30, 70):
            figure.add_hline(y=level, line={"dash": "dash", "width": 1, "color": "#64748b"}, row=row, col=1)
        figure.update_yaxes(range=[0, 100], row=row, col=1)


def _first(view: pd.DataFrame, prefix: str) -> str:
    return next(column for column in view.columns if str(column).startswith(prefix))


def ledger_figure(ledger: pd.DataFrame, *, template: str = "plotly_white") -> go.Figure:
    """Predicted against actual closes by target day, with the prediction interval as a band."""
    ordered = ledger.sort_values("target_date")
    x = pd.to_datetime(ordered["target_date"])
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=x, y=ordered["upper"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
    )
    figure.add_trace(
        go.Scatter(
            x=x, y=ordered["lower"], mode="lines", fill="tonexty", fillcolor="rgba(37,99,235,0.12)", line={"width": 0},
            name="interval",
        )
    )  # fmt: skip
    figure.add_trace(
        go.Scatter(x=x, y=ordered["predicted_value"], mode="lines+markers", name="predicted", line={"color": "#2563eb"})
    )
    figure.add_trace(
        go.Scatter(x=x, y=ordered["actual_value"], mode="lines+markers", name="actual", line={"color": UP})
    )
    figure.update_layout(
        template=template, height=380, margin={"l": 10, "r": 10, "t": 20, "b": 10}, legend={"orientation": "h"}
    )
    return figure


def window_scores_figure(windows: list[dict], *, template: str = "plotly_white") -> go.Figure:
    """MASE of the model and the baselines in each walk-forward window; 1 is tomorrow = today."""
    labels = [f"{w['first_day']}" for w in windows]
    figure = go.Figure()
    for name, colour in (("predicted", "#2563eb"), ("drift", "#d97706"), ("moving_average", "#7c3aed")):
        figure.add_trace(
            go.Bar(
                x=labels,
                y=[w["scores"][name]["mase"] for w in windows],
                name="model" if name == "predicted" else name,
                marker_color=colour,
            )
        )
    figure.add_hline(y=1.0, line={"dash": "dash", "color": "#64748b"}, annotation_text="persistence")
    figure.update_layout(
        template=template, barmode="group", height=320, margin={"l": 10, "r": 10, "t": 20, "b": 10},
        yaxis_title="MASE", xaxis_title="window starting", legend={"orientation": "h"},
    )  # fmt: skip
    return figure


def residual_figure(forecast: pd.DataFrame, *, template: str = "plotly_white") -> go.Figure:
    """Forecast errors (actual minus predicted) by day, beside persistence's, to see drift or bias."""
    figure = go.Figure()
    x = pd.to_datetime(forecast["date"])
    figure.add_trace(
        go.Scatter(
            x=x,
            y=forecast["actual"] - forecast["predicted"],
            mode="markers",
            name="model",
            marker={"size": 4, "color": "#2563eb"},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=forecast["actual"] - forecast["persistence"],
            mode="markers",
            name="persistence",
            marker={"size": 4, "color": "#94a3b8"},
        )
    )
    figure.add_hline(y=0, line={"color": "#0f172a", "width": 1})
    figure.update_layout(
        template=template,
        height=320,
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        yaxis_title="actual - forecast",
        legend={"orientation": "h"},
    )
    return figure


def _history_range(values: pd.Series, metric: str) -> list[float]:
    """A y-range that shows differences at their size: MASE spans at least 0.9-1.1, MAE at least +-10 %."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    if metric == "Direction accuracy":
        return [0.0, 1.0]
    if values.empty:
        return [0.0, 1.0]
    low, high = float(values.min()), float(values.max())
    if metric == "MASE":
        low, high = min(low, 0.9), max(high, 1.1)
    else:
        middle = (low + high) / 2
        half = max((high - low) / 2, abs(middle) * 0.1, 1e-9)
        low, high = middle - half, middle + half
    pad = (high - low) * 0.05
    return [low - pad, high + pad]


def metric_history_figure(history: pd.DataFrame, metric: str, *, template: str = "plotly_white") -> go.Figure:
    """A metric of each ticker's versions in the order they were trained, on whole version numbers."""
    figure = go.Figure()
    for ticker, rows in history.sort_values("trained").groupby("ticker"):
        figure.add_trace(go.Scatter(x=rows["version"], y=rows[metric], mode="lines+markers", name=str(ticker)))
    if metric == "MASE":
        figure.add_hline(y=1.0, line={"dash": "dash", "color": "#64748b"}, annotation_text="persistence")
    figure.update_layout(
        template=template,
        height=300,
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        xaxis={"title": "version", "tickmode": "linear", "dtick": 1, "tickformat": "d"},
        yaxis={
            "title": metric,
            "range": _history_range(history[metric], metric),
            "tickformat": ".0%" if metric == "Direction accuracy" else None,
        },
    )
    return figure


def equity_figure(equity: pd.DataFrame, *, template: str = "plotly_white") -> go.Figure:
    figure = go.Figure()
    x = pd.to_datetime(equity["date"])
    figure.add_trace(go.Scatter(x=x, y=equity["strategy"], name="strategy", line={"color": "#2563eb"}))
    figure.add_trace(go.Scatter(x=x, y=equity["buy_and_hold"], name="buy and hold", line={"color": "#94a3b8"}))
    figure.update_layout(
        template=template,
        height=320,
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        yaxis_title="value of 1",
        legend={"orientation": "h"},
    )
    return figure


def fan_figure(fan: pd.DataFrame, *, template: str = "plotly_white") -> go.Figure:
    """Bootstrapped scenarios: the median path with the 25-75 and 5-95 percentile bands."""
    figure = go.Figure()
    for low, high, alpha in (("p05", "p95", 0.12), ("p25", "p75", 0.25)):
        figure.add_trace(go.Scatter(x=fan["day"], y=fan[high], line={"width": 0}, showlegend=False, hoverinfo="skip"))
        figure.add_trace(
            go.Scatter(
                x=fan["day"],
                y=fan[low],
                fill="tonexty",
                fillcolor=f"rgba(37,99,235,{alpha})",
                line={"width": 0},
                name=f"{low[1:]}-{high[1:]} %",
            )
        )
    figure.add_trace(go.Scatter(x=fan["day"], y=fan["p50"], name="median", line={"color": "#1d4ed8"}))
    figure.update_layout(
        template=template,
        height=320,
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        xaxis_title="trading days ahead",
        yaxis_title="value of 1",
    )
    return figure


def correlation_figure(correlation: pd.DataFrame, *, template: str = "plotly_white") -> go.Figure:
    figure = go.Figure(
        go.Heatmap(
            z=correlation.to_numpy(),
            x=list(correlation.columns),
            y=list(correlation.index),
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            text=correlation.round(2).to_numpy(),
            texttemplate="%{text}",
        )
    )
    figure.update_layout(template=template, height=300, margin={"l": 10, "r": 10, "t": 20, "b": 10})
    return figure
