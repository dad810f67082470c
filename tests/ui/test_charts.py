"""Chart builders: fitted ranges per range button, panes at a readable height, one hover, the user's theme."""

import pandas as pd
import pytest

from core.indicators import compute_all
from tests.fixtures import gspc_2018_frame
from ui.charts import (
    DOWN,
    INDICATOR_PANE_PX,
    PRICE_PANE_PX,
    UP,
    candlestick_figure,
    equity_figure,
    indicator_figure,
    ledger_figure,
    residual_figure,
    window_scores_figure,
)


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
        legend = figure.layout.legend
        assert (legend.orientation, legend.yanchor) == ("h", "bottom"), name
        assert legend.y >= 1.0, f"{name}: a horizontal legend below the top edge covers the plot or its axis"
        assert figure.layout.margin.t >= 30, f"{name}: room for the legend above the plot"


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
