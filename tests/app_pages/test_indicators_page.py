"""The Indicators page through AppTest: panes, latest values, parameter errors, the screener."""

import json

import pytest
from sqlalchemy.engine import URL

from core.data.service import load_sample
from db.engine import create_engine_from_settings, session_scope
from db.migrate import upgrade_to_head
from tests.accounts import logged_in_app, make_account

PAGE = "app_pages/indicators.py"


@pytest.fixture
def with_sample(monkeypatch, tmp_path):
    from sqlalchemy.orm import sessionmaker

    from common.config import load_settings

    url = URL.create("sqlite", database=str(tmp_path / "indicators.db"))
    upgrade_to_head(url)
    engine = create_engine_from_settings(load_settings(), url)
    with session_scope(sessionmaker(bind=engine)) as session:
        load_sample(session=session, actor=None)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    return url


def chart_args(at) -> dict:
    """What the page handed the price chart component: the figure and the data its y-axes re-fit to."""
    (chart,) = at.get("component_instance")
    assert chart.proto.component_name.endswith("price_chart")
    return json.loads(chart.proto.json_args)


def figure(at):
    return json.loads(chart_args(at)["spec"])


def test_chart_with_rsi_and_macd_panes(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    assert not at.exception
    spec = figure(at)
    names = [trace.get("name") for trace in spec["data"]]
    assert {
        "price",
        "volume",
        "RSI",
        "MACD",
        "MACD signal",
        "MACD histogram",
        "EMA 200",
        "Bollinger upper",
    } <= set(names)
    layout = spec["layout"]
    assert {"yaxis", "yaxis2", "yaxis3", "yaxis4"} <= set(layout), "price, volume, RSI and MACD panes"
    assert layout["xaxis"]["rangebreaks"][0]["bounds"] == ["sat", "mon"]
    buttons = layout["updatemenus"][0]["buttons"]
    assert [b["label"] for b in buttons] == ["1M", "6M", "YTD", "1Y", "5Y", "All"]
    rsi_lines = [shape["y0"] for shape in layout["shapes"]]
    assert sorted(rsi_lines) == [30, 70]
    latest = at.dataframe[0].value
    assert dict(zip(latest["Indicator"], latest["Value"], strict=True))["RSI 14"] == "41.71"


def test_every_range_button_fits_the_price_axis_to_its_days(with_sample):
    """Plotly scales y over all the data; each button carries the y-range of the days it shows."""
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    buttons = {b["label"]: b["args"][0] for b in figure(at)["layout"]["updatemenus"][0]["buttons"]}
    month, everything = buttons["1M"], buttons["All"]
    assert month["xaxis.range"][0].startswith("2018-11-30")
    assert month["xaxis.range"][1].startswith("2018-12-31")
    low, high = month["yaxis.range"]
    assert 2300 < low < 2351 < 2800 < high < 2900, "December 2018 closed between 2,351 and 2,800"
    assert everything["yaxis.range"][0] < 700, "the whole history reaches back to the 1990s' lows"
    assert month["yaxis2.range"][1] < everything["yaxis2.range"][1] * 1.01, "volume is fitted too"


def test_the_view_lives_in_the_url(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample))
    at.query_params.update({"ticker": "^GSPC", "range": "6M", "panes": "ATR,HV", "from": "2005-01-03"})
    at.run()
    assert not at.exception
    layout = figure(at)["layout"]
    assert [a["text"] for a in layout["annotations"]][-2:] == ["<b>ATR</b>", "<b>Volatility (yearly)</b>"]
    assert at.date_input[0].value[0].isoformat() == "2005-01-03", "a date before 2016 is accepted"
    next(m for m in at.multiselect if m.label == "Panes").set_value(["OBV"]).run()
    assert at.query_params["panes"] == "OBV"
    assert at.query_params["ticker"] == "^GSPC"


def test_more_panes_on_request(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    at.multiselect[1].set_value(["RSI", "MACD", "ATR", "OBV", "HV"]).run()
    assert not at.exception
    assert {"yaxis5", "yaxis6", "yaxis7"} <= set(figure(at)["layout"])


def test_bad_parameters_are_named(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    next(n for n in at.number_input if n.label == "MACD fast").set_value(40).run()
    assert [e.value for e in at.error] == ["Parameters: macd_fast must be below macd_slow, got 40 and 26"]


def test_the_screener_lists_matches_with_a_sparkline(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    at.radio[0].set_value("below")
    at.button[-1].click().run()
    assert not at.exception
    assert at.caption[-1].value == "1 ticker matches close below EMA 200."
    result = at.dataframe[-1].value
    assert list(result["Ticker"]) == ["^GSPC"]
    assert len(result["Last 60 closes"].iloc[0]) == 60
    assert list(result["Prices"]) == ["stale: last bar 2018-12-31"], "the sample ends in 2018"


def test_no_prices_yet(monkeypatch, tmp_path):
    url = URL.create("sqlite", database=str(tmp_path / "empty.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    at = logged_in_app(PAGE, make_account(url)).run()
    assert at.info[0].value.startswith("No prices yet")
