"""The price chart component's Python side: the figure it is handed and the data its y-axes re-fit to."""

import base64
import json
import re
from urllib.parse import urljoin

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.indicators import compute_all
from tests.fixtures import gspc_2018_frame
from ui.charts import CHART_CONFIG, candlestick_figure, indicator_figure
from ui.components import price_chart
from ui.components.assets import PLOTLY_PATH


@pytest.fixture(scope="module")
def view() -> pd.DataFrame:
    prices = gspc_2018_frame().reset_index().rename(columns=str.lower)
    prices["date"] = prices["date"].dt.tz_localize(None)
    return pd.concat([prices, compute_all(prices)], axis=1)


def numbers(sent: dict) -> np.ndarray:
    """An array as the page gets it: base64 of little-endian float64, as plotly.py sends arrays."""
    assert sent["dtype"] == "f8"
    return np.frombuffer(base64.b64decode(sent["bdata"]), dtype="<f8")


def series_of(fit: dict, figure, name: str) -> dict:
    index = next(i for i, trace in enumerate(figure.data) if trace.name == name)
    return next(s for s in fit["series"] if s["trace"] == index)


def test_the_fit_data_holds_each_trace_by_date_on_its_axis(view):
    figure = indicator_figure(view, overlays=["EMA"], panes=["RSI", "MACD"], ema_spans=(12,))
    fit = price_chart.fit_data(figure)
    assert len(numbers(fit["x"])) == len(view)
    # Milliseconds since 1970 in UTC, as plotly.js reads a date without a zone.
    assert numbers(fit["x"]).tolist() == [day.tz_localize("UTC").timestamp() * 1000 for day in view["date"]]
    candles = series_of(fit, figure, "price")
    assert (candles["axis"], candles["fromZero"]) == ("yaxis", False)
    assert numbers(candles["low"]).tolist() == view["low"].tolist()
    assert numbers(candles["high"]).tolist() == view["high"].tolist()
    volume = series_of(fit, figure, "volume")
    assert (volume["axis"], volume["fromZero"], volume["high"]) == ("yaxis2", True, None)
    ema = numbers(series_of(fit, figure, "EMA 12")["low"])
    assert np.isnan(ema[0]) or ema[0] == pytest.approx(view["ema_12"].iloc[0])
    assert ema[-1] == pytest.approx(view["ema_12"].iloc[-1])
    rsi_trace = next(i for i, trace in enumerate(figure.data) if trace.name == "RSI")
    assert rsi_trace not in {s["trace"] for s in fit["series"]}, "RSI's 0-100 axis is fixed: never re-fitted"
    macd = series_of(fit, figure, "MACD histogram")
    assert macd["fromZero"]
    assert macd["axis"] == "yaxis4"


def test_gaps_in_an_indicator_travel_as_nan_inside_valid_json(view):
    figure = indicator_figure(view, overlays=["EMA"], panes=[], ema_spans=(200,))
    ema = series_of(price_chart.fit_data(figure), figure, "EMA 200")
    missing = view["ema_200"].isna()
    assert missing.any(), "an EMA 200 over one year starts empty"
    assert np.isnan(numbers(ema["low"])).tolist() == missing.tolist()
    json.dumps(ema, allow_nan=False)  # a bare NaN is not JSON: the browser could not parse it


def test_the_served_folder_holds_the_page_and_plotly_from_the_installed_package(tmp_path, monkeypatch):
    monkeypatch.setattr(price_chart, "SERVED_ROOT", tmp_path)
    price_chart.served_folder.cache_clear()
    try:
        folder = price_chart.served_folder()
    finally:
        price_chart.served_folder.cache_clear()
    assert folder.parent == tmp_path
    assert (folder / "plotly.min.js").read_bytes() == price_chart.PLOTLY_JS.read_bytes()
    page = (folder / "index.html").read_text()
    # plotly.js from the app's cached route first (Streamlit serves this page under
    # /component/<module>.<name>/), the copy beside the page when the app runs without the route.
    first_source = re.search(r'<script src="([^"]+)"', page).group(1)
    component_url = f"http://app/component/ui.components.price_chart.{price_chart.NAME}/index.html"
    assert urljoin(component_url, first_source) == f"http://app/{PLOTLY_PATH}"
    assert 'window.Plotly || document.write(\'<script src="plotly.min.js">' in page
    assert "streamlit:componentReady" in page
    assert "plotly_relayout" in page
    assert "http" not in page.replace("http-equiv", ""), "nothing is fetched from the network"


def test_a_chart_without_dates_has_nothing_to_fit():
    figure = candlestick_figure(pd.DataFrame(columns=["date", "open", "high", "low", "close", "volume"]))
    fit = price_chart.fit_data(figure)
    assert len(numbers(fit["x"])) == 0
    assert all(len(numbers(series["low"])) == 0 for series in fit["series"])


def test_a_figure_without_range_buttons_keeps_its_opening_range_and_drops_their_row(view):
    built = indicator_figure(view, overlays=[], panes=["RSI"], ema_spans=(12,), window="1M")
    top, height, opening = built.layout.margin.t, built.layout.height, built.layout.xaxis.range
    assert built.layout.updatemenus, "ui.charts adds the buttons"
    figure = price_chart.without_range_buttons(built)
    assert not figure.layout.updatemenus
    assert figure.layout.xaxis.range == opening, "it still opens on the range it was built for"
    assert (figure.layout.margin.t, figure.layout.height) == (top - 30, height - 30), "no empty row above the plot"
    assert price_chart.without_range_buttons(figure).layout.margin.t == top - 30, "taken off once"


def draw_a_price_chart():
    import pandas as pd

    from ui.charts import candlestick_figure
    from ui.components.price_chart import price_chart

    days = pd.date_range("2018-01-02", periods=3, freq="B")
    prices = pd.DataFrame({"date": days, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10.0})
    price_chart(candlestick_figure(prices))


def test_the_price_chart_draws_with_the_app_s_one_chart_config():
    # The page had a config of its own: the Indicators chart's mode bar kept buttons the other charts do not have.
    at = AppTest.from_function(draw_a_price_chart, default_timeout=30).run()
    assert not at.exception
    (chart,) = at.get("component_instance")
    assert json.loads(chart.proto.json_args)["config"] == CHART_CONFIG
    page = price_chart.PAGE.read_text()
    assert "args.config" in page
    assert "displaylogo" not in page, "the config is defined once, in ui.charts"


def test_the_toolbar_s_focus_ring_shows_on_either_theme():
    # Plotly's own ring is 1 px of black: on the dark theme a keyboard user could not see which button had focus.
    from tests.ui.test_charts import contrast
    from ui.charts import THEME_COLOURS

    page = price_chart.PAGE.read_text()
    [ring] = re.findall(r"\.modebar-btn:focus-visible\s*\{[^}]*outline:\s*2px solid (#[0-9a-f]{6})", page)
    rgb = tuple(int(ring[i : i + 2], 16) for i in (1, 3, 5))
    for colours in THEME_COLOURS.values():
        plot = tuple(int(colours["plot"][i : i + 2], 16) for i in (1, 3, 5))
        assert contrast(rgb, plot) >= 3
