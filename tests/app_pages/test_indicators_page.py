"""The Indicators page through AppTest: panes, latest values, parameter errors, the screener."""

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

    from core.config import load_settings

    url = URL.create("sqlite", database=str(tmp_path / "indicators.db"))
    upgrade_to_head(url)
    engine = create_engine_from_settings(load_settings(), url)
    with session_scope(sessionmaker(bind=engine)) as session:
        load_sample(session=session, actor=None)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    return url


def figure(at):
    import json

    return json.loads(at.get("plotly_chart")[0].proto.spec)


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
    assert [b["label"] for b in layout["xaxis"]["rangeselector"]["buttons"]] == [
        "1M",
        "6M",
        "YTD",
        "1Y",
        "5Y",
        "All",
    ]
    rsi_lines = [shape["y0"] for shape in layout["shapes"]]
    assert sorted(rsi_lines) == [30, 70]
    latest = at.dataframe[0].value
    assert latest["rsi_14"].iloc[0] == pytest.approx(41.709268, abs=1e-5)


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
    assert at.caption[-1].value == "1 tickers match close below EMA 200."
    result = at.dataframe[-1].value
    assert list(result["ticker"]) == ["^GSPC"]
    assert len(result["recent"].iloc[0]) == 60


def test_no_prices_yet(monkeypatch, tmp_path):
    url = URL.create("sqlite", database=str(tmp_path / "empty.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    at = logged_in_app(PAGE, make_account(url)).run()
    assert at.info[0].value.startswith("No prices yet")
