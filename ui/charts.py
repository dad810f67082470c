"""Chart builders, in one place for every page: candlesticks with volume, and the panes added to them."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go

from ui.format import typical_price_decimals

RANGE_LABELS = ("1M", "6M", "YTD", "1Y", "5Y", "All")
# At least 3:1 against both chart backgrounds (white, and the dark theme's #0e1117), as marks must be
# (WCAG 1.4.11): the darker red and blue vanished on the dark theme (2.9:1), the light grey on white (2.6:1).
UP, DOWN = "#0f766e", "#dc2626"
MUTED = "#64748b"  # baselines and reference lines beside a model's own
MEDIAN = "#2563eb"
# A bar covers 80 % of its day, as plotly draws daily bars by default.
BAR_WIDTH_MS = 0.8 * 24 * 60 * 60 * 1000
# Explicit colours per theme: explicit layout colours survive Streamlit's own chart theme, a template alone does not.
THEME_COLOURS = {
    "plotly_dark": {"paper": "#0e1117", "plot": "#0e1117", "font": "#e5e7eb", "grid": "#2a2f3a"},
    "plotly_white": {"paper": "#ffffff", "plot": "#ffffff", "font": "#1f2937", "grid": "#e5e7eb"},
}
PRICE_HOVER = ",.2f"
# Whole-number ticks read well from a price in the hundreds; below, plotly's own ticks (",.0f" reads 0.05 as 0).
WHOLE_TICKS_FROM = 100
# Plotly's mode bar (zoom, pan, reset, download) is drawn over the figure's top-right corner, its buttons 2-24 px
# below the top edge. A touch screen shows it all the time, and at a phone's width it spans nearly the whole
# figure: every figure keeps this band for it, its legend and title start under it.
MODEBAR_PX = 28
# The one plotly config of every chart, and a shorter bar: box and lasso select do nothing on these charts, and
# "Share chart" would upload the user's data to Plotly's cloud.
CHART_CONFIG = {"displaylogo": False, "showSendToCloud": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
MARGIN_UNDER_LEGEND = {"l": 10, "r": 10, "t": MODEBAR_PX + 30, "b": 10}
MARGIN_UNDER_MODEBAR = {"l": 10, "r": 10, "t": MODEBAR_PX + 20, "b": 10}


def legend_under_modebar(height: int) -> dict:
    """A horizontal legend above the plot, its first row under the mode bar's band.

    Left at plotly's default it sat on the date axis and hid its labels. Hung from the band, a legend whose
    rows wrap on a narrow screen pushes the plot down; hung from the plot's top edge, it grew up under the bar.
    """
    return {"orientation": "h", "x": 0, "yref": "container", "y": 1 - MODEBAR_PX / height, "yanchor": "top"}


def weekend_breaks(dates: pd.Series) -> list[dict]:
    """Saturday and Sunday taken out of the date axis, unless a point falls on one (a coin trades every day).

    Plotly draws nothing inside a break, so a weekend break would hide those points.
    """
    days = pd.DatetimeIndex(pd.to_datetime(dates))
    if days.empty or (days.day_of_week >= 5).any():
        return []
    return [{"bounds": ["sat", "mon"]}]


def trading_day_breaks(dates: pd.Series) -> list[dict]:
    """Weekends (when no bar falls on one) and the weekdays with no bar (holidays): no empty gaps on the axis."""
    days = pd.DatetimeIndex(pd.to_datetime(dates))
    if days.empty:
        return []
    weekdays = pd.bdate_range(days.min(), days.max())
    holidays = weekdays.difference(days.normalize())
    breaks = weekend_breaks(dates)
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


EDGE_PAD = pd.Timedelta(days=0.6)  # a candle reaches about 0.4 day either side of its date


def padded_window(window: list[pd.Timestamp], dates: pd.Series, rangebreaks: list[dict]) -> list[pd.Timestamp]:
    """The window widened by 0.6 of a trading day each side, so that its first and last candles show whole.

    Plotly cuts a range at a break it starts inside, so the room before the first candle is taken from the
    last open day before it, never from the weekend or holiday in between.
    """
    days = pd.DatetimeIndex(pd.to_datetime(dates))
    start, end = (pd.Timestamp(day) for day in window)
    if days.empty or pd.isna(start) or pd.isna(end):
        return [start, end]
    start = days[days >= start].min()
    weekend = any(tuple(rangebreak.get("bounds") or ()) == ("sat", "mon") for rangebreak in rangebreaks)
    holidays = {value for rangebreak in rangebreaks for value in rangebreak.get("values") or ()}
    before = start.normalize() - pd.Timedelta(days=1)
    while (weekend and before.day_of_week >= 5) or before.strftime("%Y-%m-%d") in holidays:
        before -= pd.Timedelta(days=1)
    return [before + pd.Timedelta(days=1) - EDGE_PAD, end + EDGE_PAD]


def apply_theme(figure: go.Figure, template: str) -> go.Figure:
    """The user's chart theme, as a template and as explicit colours (which Streamlit's theme keeps)."""
    colours = THEME_COLOURS.get(template, THEME_COLOURS["plotly_white"])
    figure.update_layout(
        template=template,
        paper_bgcolor=colours["paper"],
        plot_bgcolor=colours["plot"],
        font={"color": colours["font"]},
        legend={"bgcolor": "rgba(0,0,0,0)"},
    )
    figure.update_xaxes(gridcolor=colours["grid"], zerolinecolor=colours["grid"])
    figure.update_yaxes(gridcolor=colours["grid"], zerolinecolor=colours["grid"])
    return figure


@dataclass(frozen=True)
class Pane:
    """One horizontal band of a stacked chart; height is its minimum in pixels."""

    title: str
    height: int
    fixed_range: tuple[float, float] | None = None
    hover_format: str = PRICE_HOVER
    tick_format: str | None = None
    axis_title: str | None = None  # beside the value axis; most panes are named by their corner title alone


PRICE_PANE_PX, VOLUME_PANE_PX, INDICATOR_PANE_PX, PANE_GAP_PX = 340, 110, 150, 14
TOP_PX, BOTTOM_PX = 84, 40
# Room for the value axes' labels on the right ("12,345", "1.5B"). Plotly widens a margin too small
# for them (automargin) only by drawing the whole figure a second time: a third of a chart's draw.
RIGHT_AXIS_PX = 60
AXIS_TITLE_PX = 22  # and for a title beside them


class StackedChart:
    """Panes stacked on one shared date axis: one hover line shows every pane's value for the day.

    Without shared_dates each pane has a date axis of its own, under it, fitted to its own days: for panes
    of different series whose days may lie months apart.
    """

    def __init__(self, panes: list[Pane], *, template: str, shared_dates: bool = True) -> None:
        self.panes = panes
        self.figure = go.Figure()
        self.template = template
        self.shared_dates = shared_dates

    def axis(self, pane: int) -> str:
        return "y" if pane == 0 else f"y{pane + 1}"

    def date_axis(self, pane: int) -> str:
        return "x" if self.shared_dates or pane == 0 else f"x{pane + 1}"

    def add(self, trace: go.BaseTraceType, pane: int) -> None:
        trace.update(xaxis=self.date_axis(pane), yaxis=self.axis(pane))
        self.figure.add_trace(trace)

    def finish(self, dates: pd.Series, window: str) -> go.Figure:
        """Lay the panes out at their minimum heights, add the fitted range buttons and the theme."""
        breaks = trading_day_breaks(dates)
        self.lay_out(breaks, top_px=TOP_PX)
        self._range_buttons(dates, window, breaks)
        return apply_theme(self.figure, self.template)

    def lay_out(self, rangebreaks: list[dict] | list[list[dict]], *, top_px: int) -> None:
        """Each pane at its minimum height, its title in its top-left corner; rangebreaks are the date axis's,
        or each pane's own (a list per pane) when the panes do not share their dates.

        top_px is the room above the plot for the legend and the range buttons, under the mode bar's band.
        """
        gap_px = PANE_GAP_PX if self.shared_dates else PANE_GAP_PX + BOTTOM_PX  # room for the dates above it
        plot_px = sum(p.height for p in self.panes) + gap_px * (len(self.panes) - 1)
        top = 1.0
        layout: dict = {}
        for index, pane in enumerate(self.panes):
            bottom = top - pane.height / plot_px
            name = "yaxis" if index == 0 else f"yaxis{index + 1}"
            layout[name] = {
                "domain": [max(bottom, 0.0), top],
                "anchor": self.date_axis(index),
                "side": "right",
                "hoverformat": pane.hover_format,
                "tickformat": pane.tick_format,
                "automargin": True,
            }
            if pane.fixed_range:
                layout[name] |= {"range": list(pane.fixed_range), "fixedrange": True}
            if pane.axis_title:
                layout[name]["title"] = {"text": pane.axis_title, "standoff": 4}
            # The title sits inside its pane's top-left corner, so titles never print over each other.
            self.figure.add_annotation(
                text=f"<b>{pane.title}</b>", xref="paper", yref="paper", x=0.0, y=top, xanchor="left",
                yanchor="top", showarrow=False, font={"size": 11},
            )  # fmt: skip
            top = bottom - gap_px / plot_px
        date_axes = [len(self.panes) - 1] if self.shared_dates else range(len(self.panes))
        for pane in date_axes:
            layout[layout_name(self.date_axis(pane))] = {
                "anchor": self.axis(pane),
                "domain": [0.0, 1.0],
                "rangebreaks": rangebreaks if self.shared_dates else rangebreaks[pane],
                "rangeslider": {"visible": False},
                "showspikes": True,
                "spikemode": "across",
                "spikethickness": 1,
            }
        right_px = RIGHT_AXIS_PX + (AXIS_TITLE_PX if any(pane.axis_title for pane in self.panes) else 0)
        height = MODEBAR_PX + top_px + plot_px + BOTTOM_PX
        self.figure.update_layout(
            **layout,
            height=height,
            margin={"l": 10, "r": right_px, "t": MODEBAR_PX + top_px, "b": BOTTOM_PX},
            hovermode="x unified",
            hoversubplots="axis",
            barmode="overlay",
            dragmode="pan",
            # At the top of the figure, above the range buttons: it never covers the dates or the bars.
            legend=legend_under_modebar(height),
        )

    def _range_buttons(self, dates: pd.Series, window: str, breaks: list[dict]) -> None:
        """One button per range; each sets the dates and every pane's fitted value range at once.

        Plotly scales a y-axis over all the data, not the visible part, so the fitted ranges are
        computed here for every button instead.
        """
        buttons = []
        every_day = [pd.to_datetime(dates).min(), pd.to_datetime(dates).max()]
        windows = [initial_window(dates, label) or every_day for label in RANGE_LABELS]
        for label, shown, ranges in zip(RANGE_LABELS, windows, fitted_ranges(self.figure, windows), strict=True):
            padded = padded_window(shown, dates, breaks)
            args = {"xaxis.range": [str(day) for day in padded], "xaxis.autorange": False}
            for axis, value_range in ranges.items():
                if not self.panes[_pane_index(axis)].fixed_range:
                    args[f"{layout_name(axis)}.range"] = value_range
            buttons.append({"label": label, "method": "relayout", "args": [args]})
            if label == window:
                for key, value in args.items():
                    axis, attribute = key.split(".")
                    self.figure.layout[axis][attribute] = value
        self.figure.update_layout(
            updatemenus=[
                {
                    "type": "buttons",
                    "direction": "right",
                    "active": RANGE_LABELS.index(window) if window in RANGE_LABELS else len(RANGE_LABELS) - 1,
                    "buttons": buttons,
                    "x": 0.0,
                    "xanchor": "left",
                    "y": 1.0,
                    "yanchor": "bottom",
                    "pad": {"t": 4, "b": 4},
                    "showactive": True,
                    # Light buttons with dark text in both themes: plotly paints the active one near-white.
                    "bgcolor": "#e5e7eb",
                    "font": {"size": 11, "color": "#111827"},
                }
            ]
        )


def _pane_index(axis: str) -> int:
    return 0 if axis == "y" else int(axis[1:]) - 1


def layout_name(axis: str) -> str:
    """The layout key of a trace's axis: "y" is "yaxis", "y3" is "yaxis3", "x2" is "xaxis2"."""
    return f"{axis[0]}axis{axis[1:]}"


def trace_bounds(trace: go.BaseTraceType) -> pd.DataFrame | None:
    """A trace's lowest and highest drawn value by date: a candle's low and high, a line's value."""
    if trace.x is None:
        return None
    columns = ("low", "high") if trace.type == "candlestick" else ("y", "y")
    low, high = (pd.to_numeric(pd.Series(getattr(trace, name)), errors="coerce").to_numpy() for name in columns)
    return pd.DataFrame({"low": low, "high": high}, index=pd.DatetimeIndex(pd.to_datetime(pd.Series(trace.x))))


def fitted_ranges(figure: go.Figure, windows: list[list[pd.Timestamp]]) -> list[dict[str, list[float]]]:
    """For each date window, each y-axis's range over the values drawn inside it, with a little headroom.

    Every trace's values are gathered once for all the windows: a chart has six range buttons.
    ui/components/price_chart.html applies the same rule in the browser after a zoom or pan.
    """
    traces = [(trace.yaxis or "y", trace.type == "bar", trace_bounds(trace)) for trace in figure.data]
    drawn = [(axis, is_bar, values) for axis, is_bar, values in traces if values is not None]
    return [_fitted(drawn, pd.Timestamp(window[0]), pd.Timestamp(window[1])) for window in windows]


def _fitted(
    drawn: list[tuple[str, bool, pd.DataFrame]], start: pd.Timestamp, end: pd.Timestamp
) -> dict[str, list[float]]:
    bounds: dict[str, list[float]] = {}
    for axis, is_bar, values in drawn:
        inside = values[(values.index >= start) & (values.index <= end)]
        low, high = inside["low"].min(), inside["high"].max()
        if pd.isna(low) or pd.isna(high):
            continue
        seen_low, seen_high = bounds.get(axis, [float("inf"), float("-inf")])
        bounds[axis] = [min(seen_low, float(low)), max(seen_high, float(high))]
        if is_bar:
            bounds[axis][0] = min(bounds[axis][0], 0.0)  # bars grow from zero
    fitted = {}
    for axis, (low, high) in bounds.items():
        pad = (high - low) * 0.05 or abs(high) * 0.05 or 1.0
        fitted[axis] = [low if low == 0.0 else low - pad, high + pad]
    return fitted


def _candles(prices: pd.DataFrame) -> go.Candlestick:
    return go.Candlestick(
        x=prices["date"], open=prices["open"], high=prices["high"], low=prices["low"], close=prices["close"],
        name="price", increasing_line_color=UP, decreasing_line_color=DOWN, showlegend=False,
        # Hollow rising candles, as trading charts draw them: up and down told apart by shape, not by hue alone.
        increasing_fillcolor="rgba(0,0,0,0)",
    )  # fmt: skip


def _volume(prices: pd.DataFrame) -> list[go.Bar]:
    """Every day's volume in the rising colour, and the falling days painted over in the other.

    One colour per trace: plotly.js styles bars of a colour each one by one, which was three of the
    four seconds a browser took to draw a 20-year chart. The overlay has no hover of its own, so
    the day's hover line shows one volume. Both set their width: plotly would size the sparser
    overlay's bars by its own wider gaps.
    """
    falling = (prices["close"] < prices["open"]).to_numpy()
    style = {"name": "volume", "showlegend": False, "width": BAR_WIDTH_MS}
    every_day = go.Bar(x=prices["date"], y=prices["volume"], marker={"color": UP, "line": {"width": 0}}, **style)
    falling_days = go.Bar(
        x=prices["date"][falling], y=prices["volume"][falling], marker={"color": DOWN, "line": {"width": 0}},
        hoverinfo="skip", **style,
    )  # fmt: skip
    return [every_day, falling_days]


def price_hover(values: pd.Series) -> str:
    """The d3 hover format of a price-scaled series: ",.2f" from 1 up, four significant digits of its typical size
    below (",.5f" for a coin at 0.05), the decimals ui.format gives its tables."""
    return f",.{typical_price_decimals(values)}f"


def candlestick_figure(
    prices: pd.DataFrame, *, title: str = "", template: str = "plotly_white", window: str = "All"
) -> go.Figure:
    """Candlesticks over a volume pane that shares the date axis; prices has date, open..close, volume."""
    chart = StackedChart([_price_pane(title, prices["close"]), _volume_pane()], template=template)
    chart.add(_candles(prices), 0)
    for bars in _volume(prices):
        chart.add(bars, 1)
    return chart.finish(prices["date"], window)


OVERLAY_COLOURS = ("#2563eb", "#d97706", "#7c3aed", "#db2777", "#0891b2")
PANE_STYLES = {
    "RSI": Pane("RSI", INDICATOR_PANE_PX, fixed_range=(0, 100)),
    "MACD": Pane("MACD", INDICATOR_PANE_PX),
    "ATR": Pane("ATR", INDICATOR_PANE_PX),
    "OBV": Pane("On-balance volume", INDICATOR_PANE_PX, hover_format=",.0f"),
    "HV": Pane("Volatility (yearly)", INDICATOR_PANE_PX, hover_format=".1%", tick_format=".0%"),
}


def _price_pane(title: str, closes: pd.Series) -> Pane:
    large = closes.abs().median() >= WHOLE_TICKS_FROM
    return Pane(
        f"{title} · price" if title else "Price", PRICE_PANE_PX, hover_format=price_hover(closes),
        tick_format=",.0f" if large else None,
    )  # fmt: skip


def _oscillator_pane(pane: str, view: pd.DataFrame) -> Pane:
    """The pane's style; MACD and ATR are on the price's scale, so hover to their own size's decimals."""
    style = PANE_STYLES[pane]
    if pane in ("MACD", "ATR"):
        return replace(style, hover_format=price_hover(view["macd" if pane == "MACD" else _first(view, "atr_")]))
    return style


def _volume_pane() -> Pane:
    return Pane("Volume", VOLUME_PANE_PX, hover_format=",.0f")


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

    view has the price columns and compute_all's columns; every pane shares the date axis, and
    each keeps its minimum height however many are on.
    """
    stack = [_price_pane(title, view["close"]), _volume_pane(), *(_oscillator_pane(p, view) for p in panes)]
    chart = StackedChart(stack, template=template)
    x = view["date"]
    chart.add(_candles(view), 0)
    if "EMA" in overlays:
        for colour, span in zip(itertools.cycle(OVERLAY_COLOURS), ema_spans):
            chart.add(_line(x, view[f"ema_{span}"], f"EMA {span}", {"width": 1.2, "color": colour}), 0)
    if "Bollinger" in overlays:
        band = {"width": 1, "color": "rgba(100,116,139,0.9)"}
        # One legend entry for the three lines of the band.
        upper = _line(x, view["bb_upper"], "Bollinger upper", band)
        upper.update(legendgroup="bollinger", showlegend=False)
        lower = _line(x, view["bb_lower"], "Bollinger lower", band)
        lower.update(fill="tonexty", fillcolor="rgba(100,116,139,0.08)", legendgroup="bollinger", showlegend=False)
        middle = _line(x, view["bb_middle"], "Bollinger middle", band | {"dash": "dot"})
        middle.update(legendgroup="bollinger", legendgrouptitle=None, showlegend=True)
        for trace in (upper, lower, middle):
            chart.add(trace, 0)
    for bars in _volume(view):
        chart.add(bars, 1)
    for index, pane in enumerate(panes, start=2):
        _add_pane(chart, view, pane, index)
    return chart.finish(x, window)


def _line(x: pd.Series, y: pd.Series, name: str, line: dict, *, legend: bool = True) -> go.Scatter:
    # No hovertemplate: each pane's axis hoverformat decides (prices to their size's decimals, volatility in %).
    return go.Scatter(x=x, y=y, name=name, line=line, showlegend=legend)


def _add_pane(chart: StackedChart, view: pd.DataFrame, pane: str, index: int) -> None:
    """An oscillator's pane; its traces stay out of the legend, as the pane's title names them."""
    x = view["date"]
    if pane == "MACD":
        chart.add(
            go.Bar(
                x=x,
                y=view["macd_hist"],
                name="MACD histogram",
                marker={"color": MUTED, "line": {"width": 0}},
                showlegend=False,
            ),
            index,
        )
        chart.add(_line(x, view["macd"], "MACD", {"color": "#2563eb"}, legend=False), index)
        chart.add(_line(x, view["macd_signal"], "MACD signal", {"color": "#d97706"}, legend=False), index)
        return
    column = {"RSI": _first(view, "rsi_"), "ATR": _first(view, "atr_"), "HV": _first(view, "hv_"), "OBV": "obv"}[pane]
    chart.add(_line(x, view[column], pane, {"color": "#0f766e", "width": 1.2}, legend=False), index)
    if pane == "RSI":
        for level in (30, 70):
            chart.figure.add_hline(
                y=level, line={"dash": "dash", "width": 1, "color": "#64748b"}, yref=chart.axis(index)
            )


def _first(view: pd.DataFrame, prefix: str) -> str:
    return next(column for column in view.columns if str(column).startswith(prefix))


LEDGER_PANE_PX, LEDGER_TOP_PX, LEDGER_TITLE_PX = 220, 24, 30
LEDGER_TITLE = "Predicted vs actual close"
LEGEND_ROW_PX, LEGEND_ROW_WIDTH_PX = 22, 900
# A band has to show on the dark plot as on the white one: 12 % of a colour over #0e1117 was 1.08:1.
BAND_ALPHA = {"plotly_dark": 0.32, "plotly_white": 0.22}


def ledger_figure(ledger: pd.DataFrame, *, template: str = "plotly_white") -> go.Figure:
    """Predicted against actual closes by target day, one pane per ticker on its own price scale and its own
    dates: each model its own line and interval band.

    A 125 stock and a 2,500 index on one value axis were two flat lines with no visible interval; a ticker
    forecast in July beside one forecast in January, on one date axis, were two slivers at its ends.
    """
    ordered = ledger.sort_values("target_date", kind="stable")
    tickers = sorted(ordered["ticker"].unique()) or [""]  # filters that leave nothing: one empty pane
    panes = [_ledger_pane(ticker, ordered) for ticker in tickers]
    chart = StackedChart(panes, template=template, shared_dates=False)
    alpha = BAND_ALPHA.get(template, BAND_ALPHA["plotly_white"])
    hovers = {ticker: f"%{{y:{price_hover(_ledger_values(ticker, ordered).stack())}}}" for ticker in tickers}
    for index, ((ticker, model), rows) in enumerate(ordered.groupby(["ticker", "model"], sort=True)):
        pane = tickers.index(ticker)
        colour = OVERLAY_COLOURS[index % len(OVERLAY_COLOURS)]
        rows = _newest_forecast_per_target_day(rows)
        x = pd.to_datetime(rows["target_date"])
        chart.add(
            go.Scatter(
                x=x, y=rows["upper"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip",
                legendgroup=model,
            ),
            pane,
        )  # fmt: skip
        chart.add(
            go.Scatter(
                x=x, y=rows["lower"], mode="lines", fill="tonexty", fillcolor=_translucent(colour, alpha),
                line={"width": 0}, name=f"{model} interval", legendgroup=model, hovertemplate=hovers[ticker],
            ),
            pane,
        )  # fmt: skip
        chart.add(
            go.Scatter(
                x=x, y=rows["predicted_value"], mode="lines+markers", name=f"{model} predicted", legendgroup=model,
                line={"color": colour}, hovertemplate=hovers[ticker],
            ),
            pane,
        )  # fmt: skip
    for ticker, rows in ordered.dropna(subset=["actual_value"]).groupby("ticker", sort=True):
        # Each row's actual is on the price scale of the day its forecast was made: across a split, the newest
        # forecast's is the scale the model lines show.
        rows = _newest_forecast_per_target_day(rows)
        chart.add(
            go.Scatter(
                x=pd.to_datetime(rows["target_date"]), y=rows["actual_value"], mode="lines+markers",
                name=f"{ticker} actual", line={"color": UP, "width": 2}, marker={"symbol": "diamond"},
                hovertemplate=hovers[ticker],
            ),
            tickers.index(ticker),
        )  # fmt: skip
    names = [trace.name for trace in chart.figure.data if trace.showlegend is not False]
    legend_px = _legend_rows(names) * LEGEND_ROW_PX
    days = [pd.to_datetime(ordered.loc[ordered["ticker"] == ticker, "target_date"]) for ticker in tickers]
    breaks = [weekend_breaks(pane_days) for pane_days in days]
    chart.lay_out(breaks, top_px=LEDGER_TITLE_PX + LEDGER_TOP_PX + legend_px)
    for pane, (pane_days, pane_breaks) in enumerate(zip(days, breaks, strict=True)):
        if not pane_days.empty:
            # Plotly's own fit ends at the first and last day, cutting their markers and the hover there in half.
            shown = padded_window([pane_days.min(), pane_days.max()], pane_days, pane_breaks)
            chart.figure.layout[layout_name(chart.date_axis(pane))].range = [str(day) for day in shown]
    # The title under the mode bar's band, the legend under it: both measured from the figure's top edge.
    height = chart.figure.layout.height
    chart.figure.update_layout(
        title={
            "text": LEDGER_TITLE, "x": 0.0, "xref": "paper", "xanchor": "left", "y": 1.0 - MODEBAR_PX / height,
            "yref": "container", "yanchor": "top", "pad": {"t": 6}, "font": {"size": 14},
        },
        legend={"y": 1.0 - (MODEBAR_PX + LEDGER_TITLE_PX) / height},
    )  # fmt: skip
    return apply_theme(chart.figure, template)


def _newest_forecast_per_target_day(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per target day, that of the forecast made last, in target-day order (a line drawn in the order
    forecasts were made doubles back when a one-day forecast follows a five-day one)."""
    newest = rows.sort_values("prediction_date", kind="stable").drop_duplicates("target_date", keep="last")
    return newest.sort_values("target_date", kind="stable")


def _ledger_pane(ticker: str, ledger: pd.DataFrame) -> Pane:
    """A ticker's pane: whole numbers on the axis of a price in the hundreds, plotly's own ticks below."""
    large = _ledger_values(ticker, ledger).abs().max().max() >= WHOLE_TICKS_FROM
    return Pane(str(ticker), LEDGER_PANE_PX, tick_format=",.0f" if large else None, axis_title="Close")


def _ledger_values(ticker: str, ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger.loc[ledger["ticker"] == ticker, ["lower", "upper", "predicted_value"]]


def _legend_rows(names: list[str]) -> int:
    """About how many rows a horizontal legend of these names wraps to, at a usual page width."""
    widths = [40 + 6.5 * len(name) for name in names]
    rows, used = 1, 0.0
    for width in widths:
        if used and used + width > LEGEND_ROW_WIDTH_PX:
            rows, used = rows + 1, 0.0
        used += width
    return rows


def _translucent(colour: str, alpha: float = 0.12) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


# The plot keeps its 280 px under the legend and the mode bar's band.
EVALUATION_PX = 320 + MODEBAR_PX


def window_scores_figure(windows: list[dict], *, model: str, template: str = "plotly_white") -> go.Figure:
    """MASE of the model (named as `model`) and the baselines in each walk-forward window; 1 is tomorrow = today."""
    labels = [f"{w['first_day']}" for w in windows]
    figure = go.Figure()
    traces = {
        "predicted": (model, "#2563eb"),
        "drift": ("drift", "#d97706"),
        "median": ("median drift", "#059669"),
        "moving_average": ("moving average", "#7c3aed"),
    }
    for name, (shown, colour) in traces.items():
        if not all(name in w["scores"] for w in windows):
            continue  # runs stored before median drift was a baseline
        figure.add_trace(
            go.Bar(x=labels, y=[w["scores"][name]["mase"] for w in windows], name=shown, marker_color=colour)
        )
    figure.add_hline(y=1.0, line={"dash": "dash", "color": "#64748b"}, annotation_text="persistence")
    figure.update_layout(
        template=template, barmode="group", height=EVALUATION_PX, margin=MARGIN_UNDER_LEGEND,
        yaxis_title="MASE", xaxis_title="window starting", legend=legend_under_modebar(EVALUATION_PX),
    )  # fmt: skip
    return apply_theme(figure, template)


def residual_figure(forecast: pd.DataFrame, *, model: str, template: str = "plotly_white") -> go.Figure:
    """The model's forecast errors (actual minus predicted) by day, beside persistence's, to see drift or bias."""
    figure = go.Figure()
    x = pd.to_datetime(forecast["date"])
    figure.add_trace(
        go.Scatter(
            x=x,
            y=forecast["actual"] - forecast["predicted"],
            mode="markers",
            name=model,
            marker={"size": 4, "color": "#2563eb"},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=forecast["actual"] - forecast["persistence"],
            mode="markers",
            name="persistence",
            marker={"size": 4, "color": MUTED},
        )
    )
    figure.add_hline(y=0, line={"color": MUTED, "width": 1})
    figure.update_layout(
        template=template,
        height=EVALUATION_PX,
        margin=MARGIN_UNDER_LEGEND,
        yaxis_title="actual - forecast",
        legend=legend_under_modebar(EVALUATION_PX),
    )
    return apply_theme(figure, template)


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
    """A metric of each ticker's versions in the order they were trained, on whole version numbers;
    a point's hover names its version ("SPX v2 · LSTM (Keras)"), as versions of one line may differ in type."""
    figure = go.Figure()
    value = "%{y:.1%}" if metric == "Direction accuracy" else "%{y:,.4f}"
    for ticker, rows in history.sort_values("trained").groupby("ticker"):
        figure.add_trace(
            go.Scatter(
                x=rows["version"],
                y=rows[metric],
                text=rows["name"],
                mode="lines+markers",
                name=str(ticker),
                hovertemplate=f"%{{text}}<br>{metric} {value}<extra></extra>",
            )
        )
    if metric == "MASE":
        figure.add_hline(y=1.0, line={"dash": "dash", "color": "#64748b"}, annotation_text="persistence")
    figure.update_layout(
        template=template,
        height=300 + MODEBAR_PX,
        margin=MARGIN_UNDER_MODEBAR,
        xaxis={"title": "version", "tickmode": "linear", "dtick": 1, "tickformat": "d"},
        yaxis={
            "title": metric,
            "range": _history_range(history[metric], metric),
            "tickformat": ".0%" if metric == "Direction accuracy" else None,
        },
    )
    return apply_theme(figure, template)


def equity_figure(equity: pd.DataFrame, *, template: str = "plotly_white") -> go.Figure:
    figure = go.Figure()
    x = pd.to_datetime(equity["date"])
    figure.add_trace(go.Scatter(x=x, y=equity["strategy"], name="strategy", line={"color": "#2563eb"}))
    figure.add_trace(go.Scatter(x=x, y=equity["buy_and_hold"], name="buy and hold", line={"color": MUTED}))
    figure.update_layout(
        template=template,
        height=EVALUATION_PX,
        margin=MARGIN_UNDER_LEGEND,
        yaxis_title="value of 1",
        legend=legend_under_modebar(EVALUATION_PX),
    )
    return apply_theme(figure, template)


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
    figure.add_trace(go.Scatter(x=fan["day"], y=fan["p50"], name="median", line={"color": MEDIAN}))
    figure.update_layout(
        template=template,
        height=320 + MODEBAR_PX,
        margin=MARGIN_UNDER_MODEBAR,
        xaxis_title="trading days ahead",
        yaxis_title="value of 1",
    )
    return apply_theme(figure, template)


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
    figure.update_layout(template=template, height=300 + MODEBAR_PX, margin=MARGIN_UNDER_MODEBAR)
    return apply_theme(figure, template)


LOSS_PLOT_PX = 200


def loss_figure(history: dict, *, template: str = "plotly_white") -> go.Figure:
    """A network's training loss and validation loss by epoch, the value axis fitted to them.

    An axis from zero made a fall from 1.004 to 0.992 a flat line.
    """
    figure = go.Figure()
    # The history's keys, as Keras names them, and how the chart names them.
    lines = {"loss": ("Training loss", "#2563eb"), "val_loss": ("Validation loss", "#d97706")}
    drawn = []
    for key, (name, colour) in lines.items():
        values = pd.to_numeric(pd.Series(history.get(key) or [], dtype=object), errors="coerce")
        if values.notna().any():
            epochs = list(range(1, len(values) + 1))
            figure.add_trace(go.Scatter(x=epochs, y=values, name=name, mode="lines+markers", line={"color": colour}))
            drawn.append(values)
    epochs = max((len(values) for values in drawn), default=1)
    margin = MARGIN_UNDER_LEGEND | {"b": 40}
    height = LOSS_PLOT_PX + margin["t"] + margin["b"]
    figure.update_layout(
        height=height,
        margin=margin,
        # No figure title: the legend above names both lines, and the axes say what they count.
        legend=legend_under_modebar(height),
        hovermode="x unified",
        xaxis={"title": "Epoch", "tick0": 1, "dtick": max(1, math.ceil(epochs / 10))},  # whole epochs only
        yaxis={
            "title": "Loss",
            "range": _fitted_values(pd.concat(drawn) if drawn else pd.Series(dtype=float)),
            "hoverformat": ".4f",
        },
    )
    return apply_theme(figure, template)


def _fitted_values(values: pd.Series) -> list[float]:
    """A value range over the values with 8 % headroom each side, however close to zero they sit."""
    values = values.dropna()
    if values.empty:
        return [0.0, 1.0]
    low, high = float(values.min()), float(values.max())
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
    return [low - pad, high + pad]
