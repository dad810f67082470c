"""Chart builders: fitted ranges per range button, panes at a readable height, one hover, the user's theme."""

import pandas as pd
import pytest

from core.indicators import compute_all
from tests.fixtures import gspc_2018_frame
from ui.charts import (
    DOWN,
    INDICATOR_PANE_PX,
    MODEBAR_PX,
    PRICE_PANE_PX,
    RIGHT_AXIS_PX,
    THEME_COLOURS,
    UP,
    candlestick_figure,
    correlation_figure,
    equity_figure,
    fan_figure,
    indicator_figure,
    layout_name,
    ledger_figure,
    loss_figure,
    metric_history_figure,
    residual_figure,
    window_scores_figure,
)
from ui.components.price_chart import RANGE_BUTTONS_PX


@pytest.fixture(scope="module")
def view() -> pd.DataFrame:
    prices = gspc_2018_frame().reset_index().rename(columns=str.lower)
    prices["date"] = prices["date"].dt.tz_localize(None)
    return pd.concat([prices, compute_all(prices)], axis=1)


def buttons(figure) -> dict[str, dict]:
    return {b.label: b.args[0] for b in figure.layout.updatemenus[0].buttons}


def test_each_range_button_fits_every_pane_to_its_days(view):
    figure = indicator_figure(view, overlays=[], panes=["MACD"], ema_spans=(12,), window="1Y")
    month = buttons(figure)["1M"]
    december = view[view["date"] >= "2018-11-30"]
    low, high = month["yaxis.range"]
    assert low < december["low"].min() < december["high"].max() < high
    assert high - low < (december["high"].max() - december["low"].min()) * 1.2, "no room for the year's highs"
    assert month["yaxis2.range"][1] < view["volume"].max() * 1.1
    macd_low, macd_high = month["yaxis3.range"]
    assert macd_low <= december["macd_hist"].min()
    assert macd_high >= december["macd"].max()
    # The initial view is the 1Y button's.
    assert list(figure.layout.yaxis.range) == buttons(figure)["1Y"]["yaxis.range"]


def test_panes_keep_their_height_however_many_are_on(view):
    few = indicator_figure(view, overlays=["EMA"], panes=["RSI"], ema_spans=(12,))
    many = indicator_figure(view, overlays=["EMA"], panes=["RSI", "MACD", "ATR", "OBV", "HV"], ema_spans=(12,))

    def pixels(figure, axis):
        low, high = figure.layout[axis].domain
        plot_px = figure.layout.height - figure.layout.margin.t - figure.layout.margin.b
        return (high - low) * plot_px

    assert pixels(few, "yaxis") == pytest.approx(PRICE_PANE_PX, abs=1)
    assert pixels(many, "yaxis") == pytest.approx(PRICE_PANE_PX, abs=1)
    assert pixels(many, "yaxis7") == pytest.approx(INDICATOR_PANE_PX, abs=1)
    tops = [many.layout[f"yaxis{n if n > 1 else ''}"].domain[1] for n in range(1, 8)]
    titles = [(a.text, a.y) for a in many.layout.annotations]
    assert [y for _, y in titles] == tops, "each pane's title sits at its own pane's top"
    assert many.layout.hovermode == "x unified"
    assert many.layout.hoversubplots == "axis"
    assert {trace.xaxis for trace in many.data} == {"x"}, "one date axis, so one hover shows every pane"


def test_the_dark_theme_is_set_in_explicit_colours(view):
    figure = candlestick_figure(view, template="plotly_dark")
    assert figure.layout.paper_bgcolor == "#0e1117"
    assert figure.layout.font.color == "#e5e7eb"


def test_the_ledger_draws_each_model_apart():
    ledger = pd.DataFrame(
        {
            "ticker": ["SPX"] * 4,
            "model": ["SPX v1", "SPX v1", "SPX v2", "SPX v2"],
            "prediction_date": pd.to_datetime(["2019-01-01"] * 4).date,
            "target_date": pd.to_datetime(["2019-01-02", "2019-01-03"] * 2).date,
            "predicted_value": [1.0, 2.0, 3.0, 4.0],
            "lower": [0.5, 1.5, 2.5, 3.5],
            "upper": [1.5, 2.5, 3.5, 4.5],
            "actual_value": [1.1, None, 1.1, None],
        }
    )
    figure = ledger_figure(ledger)
    predicted = {t.name: list(t.y) for t in figure.data if t.name and t.name.endswith("predicted")}
    assert predicted == {"SPX v1 predicted": [1.0, 2.0], "SPX v2 predicted": [3.0, 4.0]}
    assert [list(t.y) for t in figure.data if t.name == "SPX actual"] == [[1.1]]


@pytest.mark.parametrize("order", [slice(None), slice(None, None, -1)])
def test_the_ledger_s_actual_is_on_the_scale_of_the_newest_forecast_of_its_day(order):
    # A 2:1 split on 2018-12-03: the forecast made before it, and its actual, are on the old scale.
    ledger = pd.DataFrame(
        {
            "ticker": ["PRD", "PRD"],
            "model": ["PRD v1", "PRD v1"],
            "prediction_date": pd.to_datetime(["2018-11-30", "2018-12-03"]).date,
            "target_date": pd.to_datetime(["2018-12-04", "2018-12-04"]).date,
            "predicted_value": [2792.0, 1396.0],
            "lower": [2700.0, 1350.0],
            "upper": [2880.0, 1440.0],
            "actual_value": [2700.06, 1350.03],
        }
    ).iloc[order]  # whichever order the rows come in
    figure = ledger_figure(ledger)
    drawn = {t.name: list(t.y) for t in figure.data if t.name in ("PRD v1 predicted", "PRD actual")}
    assert drawn == {"PRD v1 predicted": [1396.0], "PRD actual": [1350.03]}


def test_a_model_s_line_runs_in_target_order_whichever_day_its_forecasts_were_made():
    ledger = pd.DataFrame(
        {
            "ticker": ["SPX", "SPX"],
            "model": ["SPX v1", "SPX v1"],
            "prediction_date": pd.to_datetime(["2019-01-02", "2019-01-04"]).date,  # five days ahead, then one
            "target_date": pd.to_datetime(["2019-01-09", "2019-01-07"]).date,
            "predicted_value": [9.0, 7.0],
            "lower": [8.0, 6.0],
            "upper": [10.0, 8.0],
            "actual_value": [None, None],
        }
    )
    [line] = [t for t in ledger_figure(ledger).data if t.name == "SPX v1 predicted"]
    assert (list(pd.to_datetime(line.x).day), list(line.y)) == ([7, 9], [7.0, 9.0])


def test_volume_bars_take_the_colour_of_their_day(view):
    figure = candlestick_figure(view)
    every_day, falling_days = (trace for trace in figure.data if trace.type == "bar")
    falling = (view["close"] < view["open"]).to_numpy()
    assert falling.any()
    assert (~falling).any()
    # Each trace has one colour (plotly.js draws those fast); the falling days are painted over.
    assert (every_day.marker.color, falling_days.marker.color) == (UP, DOWN)
    assert list(every_day.y) == view["volume"].tolist()
    assert list(pd.to_datetime(falling_days.x)) == list(view["date"][falling])
    assert list(falling_days.y) == view["volume"][falling].tolist()
    assert falling_days.hoverinfo == "skip", "one volume line per day in the hover"
    assert every_day.width == falling_days.width, "the overlay's bars are as wide as the day's"
    assert figure.layout.barmode == "overlay"


def test_the_legends_of_the_evaluation_charts_sit_above_the_plot_clear_of_the_date_axis():
    days = pd.date_range("2018-01-02", periods=4, freq="B")
    forecast = pd.DataFrame({"date": days, "actual": [1.0, 2, 3, 4], "predicted": [1.1, 2, 3, 4], "persistence": 1.0})
    equity = pd.DataFrame({"date": days, "strategy": [1.0, 1.1, 1.2, 1.3], "buy_and_hold": [1.0, 1.0, 1.1, 1.2]})
    windows = [{"first_day": "2018-01-02", "scores": {"predicted": {"mase": 0.99}, "drift": {"mase": 1.0}}}]
    figures = {
        "residuals": residual_figure(forecast, model="ridge"),
        "equity": equity_figure(equity),
        "windows": window_scores_figure(windows, model="ridge"),
    }
    for name, figure in figures.items():
        assert legend_row_above_the_plot(figure), f"{name}: a horizontal legend over the plot covers it or its axis"


def legend_row_above_the_plot(figure) -> bool:
    """Whether the figure's horizontal legend hangs from the top of the figure with its first row (about 20 px)
    between the top edge and the plot."""
    legend = figure.layout.legend
    top_px = (1 - legend.y) * figure.layout.height
    return (legend.orientation, legend.yref, legend.yanchor) == ("h", "container", "top") and (
        top_px + 20 <= figure.layout.margin.t
    )


def hidden_days(figure, days) -> list[pd.Timestamp]:
    """The days among `days` that the x-axis rangebreaks hide (plotly draws nothing inside a break)."""
    hidden = []
    for day in pd.to_datetime(pd.Series(days)):
        for rangebreak in figure.layout.xaxis.rangebreaks:
            weekend = tuple(rangebreak.bounds or ()) == ("sat", "mon") and day.day_of_week >= 5
            if weekend or day.strftime("%Y-%m-%d") in (rangebreak.values or ()):
                hidden.append(day)
    return hidden


@pytest.fixture(scope="module")
def every_day_prices(view) -> pd.DataFrame:
    """The fixture's first 60 bars redated to consecutive days, as a coin trading every day has them."""
    prices = view[["date", "open", "high", "low", "close", "volume"]].head(60).copy()
    prices["date"] = pd.date_range("2018-01-01", periods=len(prices), freq="D")
    return prices


def test_weekend_bars_of_a_coin_are_drawn(every_day_prices):
    figure = candlestick_figure(every_day_prices)
    assert hidden_days(figure, every_day_prices["date"]) == []


def test_a_stock_chart_still_closes_the_weekend_and_holiday_gaps(view):
    figure = candlestick_figure(view)
    assert hidden_days(figure, view["date"]) == []
    # Saturday 6 January and Martin Luther King Day (15 January) have no bar: both are taken out of the axis.
    gaps = ["2018-01-06", "2018-01-15"]
    assert [day.date().isoformat() for day in hidden_days(figure, gaps)] == gaps


def ledger_targeting(days: list[str]) -> pd.DataFrame:
    count = len(days)
    return pd.DataFrame(
        {
            "ticker": ["BTC-USD"] * count,
            "model": ["BTC v1"] * count,
            "prediction_date": pd.to_datetime(["2026-03-05"] * count).date,
            "target_date": pd.to_datetime(days).date,
            "predicted_value": [100.0 + step for step in range(count)],
            "lower": [90.0] * count,
            "upper": [110.0] * count,
            "actual_value": [101.0] * count,
        }
    )


def test_the_ledger_draws_targets_that_fall_on_a_weekend():
    days = ["2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09"]  # Friday to Monday
    figure = ledger_figure(ledger_targeting(days))
    assert hidden_days(figure, days) == []


def test_the_ledger_of_weekday_targets_closes_the_weekend():
    figure = ledger_figure(ledger_targeting(["2026-03-05", "2026-03-06", "2026-03-09"]))
    assert hidden_days(figure, ["2026-03-07", "2026-03-08"]) == [pd.Timestamp("2026-03-07"), pd.Timestamp("2026-03-08")]


def test_every_requested_ema_span_is_drawn_however_many():
    spans = (5, 10, 20, 50, 100, 150, 200)  # more spans than overlay colours
    prices = gspc_2018_frame().reset_index().rename(columns=str.lower)
    prices["date"] = prices["date"].dt.tz_localize(None)
    view = pd.concat([prices, compute_all(prices, ema_spans=spans)], axis=1)
    figure = indicator_figure(view, overlays=["EMA"], panes=[], ema_spans=spans)
    drawn = [trace for trace in figure.data if (trace.name or "").startswith("EMA ")]
    assert [trace.name for trace in drawn] == [f"EMA {span}" for span in spans]
    assert all(trace.line.color for trace in drawn)


def two_ticker_ledger() -> pd.DataFrame:
    """ACME near 125 and ^GSPC near 2,500, five target days each: the walkthrough's flat lines."""
    days = pd.to_datetime(["2019-01-02", "2019-01-03", "2019-01-04", "2019-01-07", "2019-01-08"]).date
    frames = []
    for ticker, model, level in (("ACME", "ACME v1 · auto ensemble", 125.0), ("^GSPC", "^GSPC v1 · LSTM", 2500.0)):
        predicted = [level * (1 + 0.002 * step) for step in range(5)]
        frames.append(
            pd.DataFrame(
                {
                    "ticker": ticker,
                    "model": model,
                    "prediction_date": pd.to_datetime(["2018-12-31"] * 5).date,
                    "target_date": days,
                    "predicted_value": predicted,
                    "lower": [value * 0.95 for value in predicted],
                    "upper": [value * 1.05 for value in predicted],
                    "actual_value": [level * 1.01, level * 0.99, None, None, None],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def axis_of(figure, name_start: str) -> set[str]:
    return {trace.yaxis or "y" for trace in figure.data if (trace.name or "").startswith(name_start)}


def test_the_ledger_gives_each_ticker_its_own_price_axis():
    figure = ledger_figure(two_ticker_ledger())
    acme, gspc = axis_of(figure, "ACME"), axis_of(figure, "^GSPC")
    assert len(acme) == len(gspc) == 1, "predicted, interval and actual of a ticker share its axis"
    assert acme != gspc, "a 125 stock beside a 2,500 index: one axis flattens both"
    # The upper edge of each band (unnamed) sits on its ticker's axis too, or the band fills across panes.
    assert {trace.yaxis or "y" for trace in figure.data} == acme | gspc
    domains = sorted(tuple(figure.layout[layout_name(axis)].domain) for axis in acme | gspc)
    assert domains[0][1] < domains[1][0], "each ticker in its own pane, one above the other"
    for axis in acme | gspc:
        assert figure.layout[layout_name(axis)].rangemode in (None, "normal"), "never stretched down to zero"
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert any("ACME" in title for title in titles)
    assert any("^GSPC" in title for title in titles)


def months_apart_ledger() -> pd.DataFrame:
    """ABC forecast for July 2018 and ^GSPC for January 2019: the audit's ledger, five target days each."""
    frames = []
    for ticker, days, level in (
        ("ABC", ["2018-07-02", "2018-07-03", "2018-07-05", "2018-07-06", "2018-07-09"], 2720.0),
        ("^GSPC", ["2019-01-02", "2019-01-03", "2019-01-04", "2019-01-07", "2019-01-08"], 2505.0),
    ):
        targets = pd.to_datetime(days).date
        frames.append(
            pd.DataFrame(
                {
                    "ticker": ticker,
                    "model": f"{ticker} v1 · ridge",
                    "prediction_date": targets[0],
                    "target_date": targets,
                    "predicted_value": [level + step for step in range(5)],
                    "lower": [level - 60.0] * 5,
                    "upper": [level + 60.0] * 5,
                    "actual_value": [level + 5.0] * 5,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_each_ticker_s_ledger_pane_spans_its_own_target_days():
    # One date axis from July 2018 to January 2019 drew ABC's five days in 3 % of its pane.
    ledger = months_apart_ledger()
    figure = ledger_figure(ledger)
    for ticker, days in ledger.groupby("ticker")["target_date"]:
        [y_axis] = axis_of(figure, ticker)
        pane = [trace for trace in figure.data if (trace.yaxis or "y") == y_axis]  # the band's unnamed edge too
        [x_axis] = {trace.xaxis or "x" for trace in pane}
        drawn = {day for trace in pane for day in pd.to_datetime(pd.Series(trace.x)).dt.date}
        assert drawn == set(days), f"{ticker}'s date axis holds its own target days only"
        layout = figure.layout[layout_name(x_axis)]
        assert layout.anchor == y_axis, f"{ticker}'s dates under its own pane"
        assert layout.matches is None, f"{ticker}'s dates are not tied to another pane's"
        start, end = (pd.Timestamp(value) for value in layout.range)
        first, last = pd.Timestamp(min(days)), pd.Timestamp(max(days))
        # Half a trading day's room either side of the pane's first and last day, none before or after it.
        assert first - pd.offsets.BDay(1) < start < first < last < end < last + pd.Timedelta(days=1), ticker
        assert layout.showticklabels is not False, "each pane says which days it shows"
    x_axes = {trace.xaxis or "x" for trace in figure.data}
    assert len(x_axes) == 2, "one date axis per ticker"
    domains = sorted(tuple(figure.layout[layout_name(axis)].domain) for axis in axis_of(figure, ""))
    gap_px = (domains[1][0] - domains[0][1]) * (figure.layout.height - figure.layout.margin.t - figure.layout.margin.b)
    assert gap_px >= 40, "room between the panes for the upper pane's dates"


def test_a_coin_s_weekend_targets_leave_the_weekends_of_a_stock_s_ledger_pane_closed():
    coin = ledger_targeting(["2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09"])
    stock = ledger_targeting(["2026-03-05", "2026-03-06", "2026-03-09"]).assign(ticker="SPX", model="SPX v1")
    figure = ledger_figure(pd.concat([coin, stock], ignore_index=True))
    breaks = {}
    for ticker in ("BTC-USD", "SPX"):
        [x_axis] = {trace.xaxis or "x" for trace in figure.data if (trace.name or "").startswith(ticker)}
        layout = figure.layout[layout_name(x_axis)]
        breaks[ticker] = [tuple(rangebreak.bounds or ()) for rangebreak in layout.rangebreaks]
    assert breaks == {"BTC-USD": [], "SPX": [("sat", "mon")]}


def every_chart() -> dict:
    """One of each figure the app draws, with a long model name as the ledger and the evaluations show."""
    prices = gspc_2018_frame().reset_index().rename(columns=str.lower)
    prices["date"] = prices["date"].dt.tz_localize(None)
    view = pd.concat([prices, compute_all(prices, ema_spans=(12, 26, 50, 200))], axis=1)
    days = view["date"].head(40)
    model = "ABC v1 · ridge on 20 lagged returns + volatility"
    forecast = pd.DataFrame({"date": days, "actual": 1.0, "predicted": 1.1, "persistence": 1.0})
    windows = [
        {"first_day": "2018-01-02", "scores": {name: {"mase": 0.9} for name in ("predicted", "drift", "median")}}
    ]
    fan = pd.DataFrame({"day": range(5), **{name: [1.0] * 5 for name in ("p05", "p25", "p50", "p75", "p95")}})
    history = pd.DataFrame({"ticker": "ABC", "version": [1, 2], "trained": [1, 2], "name": ["v1", "v2"], "MASE": 0.9})
    indicators = indicator_figure(
        view, overlays=["EMA", "Bollinger"], panes=["RSI"], ema_spans=(12, 26, 50, 200), window="6M"
    )
    return {
        "indicators": indicators,
        "candlesticks": candlestick_figure(view),
        "ledger": ledger_figure(months_apart_ledger()),
        "windows": window_scores_figure(windows, model=model),
        "residuals": residual_figure(forecast, model=model),
        "equity": equity_figure(pd.DataFrame({"date": days, "strategy": 1.0, "buy_and_hold": 1.0})),
        "fan": fan_figure(fan),
        "correlation": correlation_figure(pd.DataFrame([[1.0, 0.5], [0.5, 1.0]], index=["A", "B"], columns=["A", "B"])),
        "metric history": metric_history_figure(history, "MASE"),
        "loss": loss_figure({"loss": [1.0, 0.9], "val_loss": [1.1, 1.0]}),
    }


def test_every_chart_keeps_the_mode_bar_s_band_clear_of_its_legend_titles_and_buttons():
    # A touch screen shows plotly's mode bar all the time, 2-24 px below the figure's top edge and, at a phone's
    # width, across nearly all of it: it sat on the indicators' legend and on the ledger's title.
    covered = []
    for name, figure in every_chart().items():
        height, top = figure.layout.height, figure.layout.margin.t
        # The plot, the pane titles in its corners, a colour bar and a side legend start at its top edge; a
        # value axis's or colour bar's top label reaches about 7 px above it.
        if top < MODEBAR_PX + 8:
            covered.append((name, "plot"))
        legend = figure.layout.legend
        if legend.yref == "container":
            if legend.yanchor != "top" or (1 - legend.y) * height < MODEBAR_PX - 0.5:  # to the pixel
                covered.append((name, "legend"))
        elif legend.y is not None and legend.y >= 1 and legend.yanchor == "bottom":
            covered.append((name, "legend"))  # hung from the plot's top, its rows grow up as they wrap on a phone
        title = figure.layout.title
        if title.text and (
            (title.yref, title.yanchor) != ("container", "top")
            or (1 - title.y) * height + title.pad.t < MODEBAR_PX - 0.5
        ):
            covered.append((name, "title"))
        for menu in figure.layout.updatemenus:
            assert (menu.y, menu.yanchor) == (1.0, "bottom"), f"{name}: the range buttons sit on the plot's top"
            if top - RANGE_BUTTONS_PX < MODEBAR_PX:
                covered.append((name, "range buttons"))
    assert covered == []


def contrast(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    """WCAG contrast ratio of two sRGB colours (0-255)."""

    def luminance(rgb):
        linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    low, high = sorted((luminance(first), luminance(second)))
    return (high + 0.05) / (low + 0.05)


def over(fill: str, background: str) -> tuple[float, ...]:
    """An rgba() fill as drawn over a #rrggbb background."""
    *rgb, alpha = (float(part) for part in fill.removeprefix("rgba(").removesuffix(")").split(","))
    back = [int(background[i : i + 2], 16) for i in (1, 3, 5)]
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(rgb, back, strict=True))


def mark_colours(figure) -> set[str]:
    """The solid colours of a figure's lines, markers, candles and reference lines."""
    found = set()
    for trace in figure.data:
        for part in ("line", "marker", "increasing.line", "decreasing.line"):
            holder = trace
            for name in part.split("."):
                holder = getattr(holder, name, None)
            colour = getattr(holder, "color", None)
            if isinstance(colour, str) and colour.startswith("#"):
                found.add(colour)
    found |= {shape.line.color for shape in figure.layout.shapes if (shape.line.color or "").startswith("#")}
    return found


def test_every_mark_stands_out_from_the_plot_in_either_theme():
    # The residuals' zero line was #0f172a, 1.06:1 on the dark plot; the falling candles' red and the fan's
    # median 2.9:1 there, and the baselines' light grey 2.6:1 on white. Marks need 3:1 (WCAG 1.4.11).
    faint = set()
    for name, figure in every_chart().items():
        for colour in mark_colours(figure):
            mark = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
            for theme, colours in THEME_COLOURS.items():
                plot = tuple(int(colours["plot"][i : i + 2], 16) for i in (1, 3, 5))
                if contrast(mark, plot) < 3:
                    faint.add((name, colour, theme))
    assert faint == set()


def test_rising_candles_are_hollow_so_shape_not_hue_alone_tells_them_from_falling_ones(view):
    [candles] = [trace for trace in candlestick_figure(view).data if trace.type == "candlestick"]
    assert candles.increasing.fillcolor == "rgba(0,0,0,0)"
    assert candles.decreasing.fillcolor in (None, DOWN)


@pytest.mark.parametrize("template", ["plotly_white", "plotly_dark"])
def test_every_interval_band_stands_out_from_the_plot_in_either_theme(template):
    ledger = pd.concat(
        [two_ticker_ledger().assign(model=lambda frame, n=n: frame["model"] + f" {n}") for n in range(3)]
    )  # six models: every band colour
    figure = ledger_figure(ledger, template=template)
    background = figure.layout.plot_bgcolor
    bands = [trace.fillcolor for trace in figure.data if trace.fill == "tonexty"]
    assert len(bands) == 6
    for fill in bands:
        band = over(fill, background)
        back = tuple(int(background[i : i + 2], 16) for i in (1, 3, 5))
        # The dark theme's old 12 % band was 1.08:1, the colour of the plot itself.
        assert contrast(band, back) >= 1.25, (template, fill)


def test_the_first_and_last_candles_are_drawn_whole(view):
    figure = candlestick_figure(view)
    first, last = view["date"].iloc[0], view["date"].iloc[-1]
    start, end = (pd.Timestamp(value) for value in figure.layout.xaxis.range)
    # A candle spans about 0.4 day either side of its date: the range leaves more than that.
    assert first - pd.Timedelta(days=1) < start <= first - pd.Timedelta(days=0.5)
    assert last + pd.Timedelta(days=0.5) <= end < last + pd.Timedelta(days=1)


def test_every_range_button_leaves_room_for_its_edge_candles_outside_the_breaks(view):
    figure = candlestick_figure(view)
    six_months = buttons(figure)["6M"]
    start, end = (pd.Timestamp(value) for value in six_months["xaxis.range"])
    # 6M from Monday 31 December starts on Saturday 30 June; its first candle is Monday 2 July. Plotly cuts a
    # range at a break it starts in, so the room is taken from Friday 29 June, not from the weekend.
    assert start.normalize() == pd.Timestamp("2018-06-29")
    assert hidden_days(figure, [start]) == []
    assert start <= pd.Timestamp("2018-06-30") - pd.Timedelta(days=0.5)
    assert pd.Timestamp("2018-12-31 12:00") <= end < pd.Timestamp("2019-01-01")
    for label, args in buttons(figure).items():
        shown_start, shown_end = (pd.Timestamp(value) for value in args["xaxis.range"])
        assert hidden_days(figure, [shown_start, shown_end]) == [], label
        assert shown_end > view["date"].iloc[-1] + pd.Timedelta(days=0.5), label


def test_the_loss_chart_is_tall_enough_to_read_and_fits_its_values():
    history = {"loss": [1.004, 0.998, 0.995, 0.993, 0.992], "val_loss": [0.283, 0.281, 0.280, 0.2805, 0.279]}
    figure = loss_figure(history)
    plot_px = figure.layout.height - figure.layout.margin.t - figure.layout.margin.b
    assert plot_px >= 160, "the walkthrough saw about 40 px of plot"
    assert [trace.name for trace in figure.data] == ["Training loss", "Validation loss"]
    assert list(figure.data[0].x) == [1, 2, 3, 4, 5], "epochs count from 1"
    low, high = figure.layout.yaxis.range
    values = history["loss"] + history["val_loss"]
    assert low < min(values) < max(values) < high
    assert high - low < (max(values) - min(values)) * 1.3, "fitted to the values, not stretched from zero"
    assert legend_row_above_the_plot(figure), "above the plot, not over it"


def test_a_loss_curve_alone_still_shows_its_fall():
    figure = loss_figure({"loss": [0.0102, 0.0101, 0.0100]})
    assert [trace.name for trace in figure.data] == ["Training loss"]
    low, high = figure.layout.yaxis.range
    assert 0.0095 < low < 0.0100
    assert 0.0102 < high < 0.0107


def scaled_view(scale: float) -> pd.DataFrame:
    """The fixture's bars with every price scaled as a low-priced asset's would be, and their indicators."""
    prices = gspc_2018_frame().reset_index().rename(columns=str.lower).drop(columns=["adj close"])
    prices["date"] = prices["date"].dt.tz_localize(None)
    prices[["open", "high", "low", "close"]] *= scale
    return pd.concat([prices, compute_all(prices)], axis=1)


def hover_of(figure, axis: str, value: float) -> str:
    """A value as the axis's d3 hoverformat shows it (',.2f' reads the same in Python)."""
    return format(value, figure.layout[axis].hoverformat)


def test_a_token_s_chart_hover_tells_its_close_from_its_ema_and_shows_macd_s_sign():
    token = scaled_view(0.0000229 / 2506.850098)
    figure = indicator_figure(token, overlays=["EMA"], panes=["MACD", "ATR"], ema_spans=(12, 200))
    last = token.iloc[-1]
    assert hover_of(figure, "yaxis", last["close"]) != hover_of(figure, "yaxis", last["ema_200"])
    assert hover_of(figure, "yaxis", last["close"]).rstrip("0") == "0.0000229"
    assert hover_of(figure, "yaxis3", last["macd"]).startswith("-0.0000005996")
    assert hover_of(figure, "yaxis4", last["atr_14"]).startswith("0.0000005629")
    assert figure.layout.yaxis.tickformat is None, "',.0f' ticks of a price below 1 all read 0"


def test_a_coin_s_candlestick_hover_shows_four_significant_digits():
    coin = scaled_view(1 / 50_000)
    figure = candlestick_figure(coin)
    assert hover_of(figure, "yaxis", coin["close"].iloc[-1]).startswith("0.05014")


def test_an_index_s_chart_hover_keeps_two_decimals_and_thousands_separators(view):
    figure = indicator_figure(view, overlays=["EMA"], panes=["MACD", "ATR"], ema_spans=(12, 200))
    assert hover_of(figure, "yaxis", 2506.850098) == "2,506.85"
    assert (figure.layout.yaxis3.hoverformat, figure.layout.yaxis4.hoverformat) == (",.2f", ",.2f")
    assert figure.layout.yaxis.tickformat == ",.0f"


def test_a_coin_s_ledger_hover_shows_four_significant_digits():
    days = pd.to_datetime(["2019-01-02", "2019-01-03"]).date
    ledger = pd.DataFrame(
        {
            "ticker": "DOGE-USD",
            "model": "DOGE-USD v1",
            "prediction_date": pd.to_datetime(["2018-12-31"] * 2).date,
            "target_date": days,
            "predicted_value": [0.050137, 0.050208],
            "lower": [0.0489, 0.0488],
            "upper": [0.0512, 0.0514],
            "actual_value": [0.054326, None],
        }
    )
    hovers = {trace.name: trace.hovertemplate for trace in ledger_figure(ledger).data if trace.hovertemplate}
    assert set(hovers.values()) == {"%{y:,.5f}"}, hovers


def test_the_ledger_hover_of_a_stock_and_an_index_keeps_two_decimals():
    hovers = {trace.hovertemplate for trace in ledger_figure(two_ticker_ledger()).data if trace.hovertemplate}
    assert hovers == {"%{y:,.2f}"}


def test_the_ledger_chart_says_what_it_shows_and_in_what():
    # No title, no axis title: a saved picture of it said nothing of what the lines were.
    figure = ledger_figure(two_ticker_ledger())
    assert figure.layout.title.text == "Predicted vs actual close"
    axes = [figure.layout[name] for name in figure.layout if name.startswith("yaxis")]
    assert len(axes) == 2
    assert [axis.title.text for axis in axes] == ["Close", "Close"]
    assert figure.layout.margin.r > RIGHT_AXIS_PX, "room for the axis title beside the prices"
    # The title above the legend, never printed over it.
    title_px = (1 - figure.layout.title.y) * figure.layout.height
    legend_px = (1 - figure.layout.legend.y) * figure.layout.height
    assert (figure.layout.title.yref, figure.layout.legend.yref) == ("container", "container")
    assert legend_px >= title_px + 20


def test_the_loss_chart_names_its_lines_and_axes_in_words():
    # "loss" and "val_loss", as Keras names them, beside an axis titled "epoch" and a value axis without one.
    figure = loss_figure({"loss": [1.0, 0.9], "val_loss": [1.1, 1.0]})
    assert (figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == ("Epoch", "Loss")
    assert [trace.name for trace in figure.data] == ["Training loss", "Validation loss"]
