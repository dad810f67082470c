"""The Indicators page through AppTest: panes, latest values, parameter errors, the screener."""

import base64
import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import URL

from core.data.service import load_sample
from db.engine import create_engine_from_settings, session_scope
from db.migrate import upgrade_to_head
from tests.accounts import logged_in_app, make_account
from ui.text import plain

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
    assert not layout.get("updatemenus"), "the page's Show control is the chart's one range control"
    rsi_lines = [shape["y0"] for shape in layout["shapes"]]
    assert sorted(rsi_lines) == [30, 70]
    latest = dict(zip(at.dataframe[0].value["Indicator"], at.dataframe[0].value["Value"], strict=True))
    assert (latest["RSI 14"], latest["Close"], latest["MACD"]) == ("41.71", "2,506.85", "\u221265.63"), (
        "an index reads as today, a negative value with its minus sign"
    )
    assert (layout["yaxis"]["hoverformat"], layout["yaxis"]["tickformat"]) == (",.2f", ",.0f")
    assert layout["yaxis4"]["hoverformat"] == ",.2f", "the MACD pane of an index: two decimals"


def test_the_show_control_is_the_one_range_control_and_the_chart_opens_on_it(with_sample):
    """The chart had its own range buttons too: a click there left ?range= (and a bookmark) on another view."""
    at = logged_in_app(PAGE, make_account(with_sample))
    at.query_params["range"] = "1M"
    at.run()
    assert next(b for b in at.button_group if b.label == "Show").value == "1M"
    layout = figure(at)["layout"]
    assert not layout.get("updatemenus"), "no second range control inside the chart"
    first, last = (pd.Timestamp(day) for day in layout["xaxis"]["range"])
    # Within a day: the window may be padded so its first and last candles show whole.
    assert abs(first - pd.Timestamp("2018-11-30")) <= pd.Timedelta(days=1), first
    assert abs(last - pd.Timestamp("2018-12-31")) <= pd.Timedelta(days=1), last
    low, high = layout["yaxis"]["range"]
    assert 2300 < low < 2351 < 2800 < high < 2900, "December 2018 closed between 2,351 and 2,800"
    month_volume = layout["yaxis2"]["range"][1]

    next(b for b in at.button_group if b.label == "Show").set_value("All").run()
    assert at.query_params["range"] == "All", "a refresh or a bookmark reopens the view on screen"
    layout = figure(at)["layout"]
    assert not layout.get("updatemenus")
    assert layout["yaxis"]["range"][0] < 700, "the whole history reaches back to the 1990s' lows"
    assert month_volume < layout["yaxis2"]["range"][1] * 1.01, "volume is fitted too"


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


SPLIT_DAY = 60


def split_csv() -> bytes:
    """120 trading days of a stock that splits 2 for 1 on day 60: as traded, its price halves."""
    days = pd.bdate_range("2020-01-02", periods=120)
    value = pd.Series(range(120), dtype=float) * 0.1 + 50.0  # what a share of today is worth, slowly rising
    traded = value.where(value.index >= SPLIT_DAY, value * 2)
    lines = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    for day, close, adjusted in zip(days, traded, value, strict=True):
        lines.append(f"{day:%Y-%m-%d},{close},{close * 1.01},{close * 0.99},{close},{adjusted},1000")
    return "\n".join(lines).encode()


def numbers(array) -> list[float]:
    """A trace's values, whether plotly wrote them as a list or as base64 (its typed-array form)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def test_split_adjusted_prices_are_drawn_and_kept_in_the_url(with_sample):
    from sqlalchemy.orm import sessionmaker

    from common.config import load_settings
    from core.data.service import import_prices

    engine = create_engine_from_settings(load_settings(), with_sample)
    with session_scope(sessionmaker(bind=engine)) as session:
        import_prices(session=session, data=split_csv(), ticker="SPLT", date_format=None, skip_bad_rows=False,
                      owner=None)  # fmt: skip
    engine.dispose()
    at = logged_in_app(PAGE, make_account(with_sample))
    at.query_params.update({"ticker": "SPLT", "range": "All", "panes": "RSI"})
    at.run()
    traded = numbers(next(t for t in figure(at)["data"] if t["name"] == "price")["close"])
    assert traded[SPLIT_DAY - 1] > 1.9 * traded[SPLIT_DAY], "as traded (the default), the split is a cliff"
    assert at.query_params["prices"] == "as traded"

    next(b for b in at.button_group if b.label == "Prices").set_value("split-adjusted").run()
    assert not at.exception
    assert at.query_params["prices"] == "split-adjusted"
    spec = figure(at)
    adjusted = numbers(next(t for t in spec["data"] if t["name"] == "price")["close"])
    assert adjusted[SPLIT_DAY - 1] < adjusted[SPLIT_DAY], "adjusted, the rise goes on through the split"
    assert adjusted[SPLIT_DAY:] == traded[SPLIT_DAY:]
    low = numbers(next(t for t in spec["data"] if t["name"] == "price")["low"])
    assert low[0] == pytest.approx(adjusted[0] * 0.99), "open, high and low are scaled as the close is"
    assert "SPLT (split-adjusted)" in spec["layout"]["annotations"][0]["text"]
    rsi = dict(zip(at.dataframe[0].value["Indicator"], at.dataframe[0].value["Value"], strict=True))["RSI 14"]
    assert rsi == "100.00", "computed on adjusted closes, which never fell, RSI is at its top"


def test_more_panes_on_request(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    at.multiselect[1].set_value(["RSI", "MACD", "ATR", "OBV", "HV"]).run()
    assert not at.exception
    assert {"yaxis5", "yaxis6", "yaxis7"} <= set(figure(at)["layout"])


def parameter_warnings(at) -> list[str]:
    """The page's warnings but the one that says the sample's prices end in 2018."""
    return [w.value for w in at.warning if not w.value.startswith("This table uses prices")]


def macd_of(at) -> list[float]:
    return numbers(next(t for t in figure(at)["data"] if t["name"] == "MACD")["y"])


def test_a_bad_macd_pair_is_named_by_its_labels_and_the_chart_stays_with_the_defaults(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    default_macd = macd_of(at)
    next(n for n in at.number_input if n.label == "MACD fast").set_value(40).run()
    assert not at.error, "one bad field no longer wipes the chart"
    assert parameter_warnings(at) == [
        plain("MACD fast (40) must be below MACD slow (26): MACD is drawn with the defaults, fast 12 and slow 26.")
    ]
    np.testing.assert_array_equal(macd_of(at), default_macd)
    assert "EMA 200" in [trace.get("name") for trace in figure(at)["data"]], "the rest of the chart is drawn"


def test_ema_spans_that_are_not_whole_numbers_are_named_and_the_others_drawn(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    next(t for t in at.text_input if t.label == "EMA spans").set_value("12, abc, 7.5, 26").run()
    assert not at.exception
    assert parameter_warnings(at) == [plain("EMA spans: 'abc', '7.5' are not whole numbers; ignored.")]
    names = [trace.get("name") for trace in figure(at)["data"]]
    assert [name for name in names if name and name.startswith("EMA")] == ["EMA 12", "EMA 26"]


def test_an_ema_span_typed_twice_is_drawn_once(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    next(t for t in at.text_input if t.label == "EMA spans").set_value("50, 12, 50").run()
    assert not at.exception
    names = [trace.get("name") for trace in figure(at)["data"]]
    assert [name for name in names if name and name.startswith("EMA")] == ["EMA 50", "EMA 12"]


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
    formats = {name: config.get("type_config", {}).get("format") for name, config in screener_columns(at).items()}
    assert formats["Close"] == formats["EMA 200"] == "%,.2f", "an index's prices keep two decimals"


def screener_columns(at) -> dict:
    return json.loads(at.dataframe[-1].proto.columns)


def test_the_screener_without_conditions_says_it_lists_every_ticker(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    at.button[-1].click().run()
    assert at.caption[-1].value == "No condition set: every ticker with prices is listed (1 ticker)."


def test_the_screener_refuses_criteria_that_exclude_each_other(with_sample):
    # RSI above 80 and below 20 ran, said "0 tickers match" and drew a grid of headers over nothing.
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    rsi = {box.label: box for box in at.number_input}
    rsi["RSI below"].set_value(20.0)
    rsi["RSI above"].set_value(80.0)
    tables_before = len(at.dataframe)
    at.button[-1].click().run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert error == plain(
        "RSI above 80 and below 20 cannot both hold: no ticker could match; set the lower bound under the upper "
        "one, or leave one empty"
    )
    assert len(at.dataframe) == tables_before


def test_a_screen_with_no_match_says_so_without_an_empty_table(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    tables_before = len(at.dataframe)
    {box.label: box for box in at.number_input}["RSI below"].set_value(0.5)
    at.button[-1].click().run()
    assert not at.exception
    assert at.caption[-1].value == "0 tickers match RSI < 0.5."
    assert len(at.dataframe) == tables_before


def test_no_prices_yet(monkeypatch, tmp_path):
    url = URL.create("sqlite", database=str(tmp_path / "empty.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    at = logged_in_app(PAGE, make_account(url)).run()
    assert at.info[0].value.startswith("No prices yet")


def test_a_reversed_date_range_in_the_url_is_called_reversed(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample))
    at.query_params.update({"ticker": "^GSPC", "from": "2010-05-03", "to": "2010-01-04"})
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        plain("Date range: the first day (2010-05-03) comes after the last (2010-01-04).")
    ]
    assert not [i.value for i in at.info if i.value.startswith("No prices")], "the days exist: the range is reversed"


def test_a_link_naming_what_is_not_on_offer_says_what_is_shown_instead(with_sample):
    # ?ticker=NOPE&range=zzz silently opened another ticker at 1Y, and unknown panes were dropped unsaid.
    at = logged_in_app(PAGE, make_account(with_sample))
    at.query_params.update({"ticker": "NOPE", "range": "zzz", "panes": "RSI,*Bogus*"})
    at.run()
    assert not at.exception
    [notice] = [w.value for w in at.warning if "Not found in the link" in w.value]
    assert notice == plain(
        "Not found in the link: ticker NOPE; range zzz; panes *Bogus*. Shown instead: ticker ^GSPC; range 1Y; "
        "panes RSI."
    )
    at.run()
    assert not [w.value for w in at.warning if "Not found in the link" in w.value], (
        "said once: the link now names the view"
    )


def test_a_link_naming_only_what_is_on_offer_brings_no_notice(with_sample):
    at = logged_in_app(PAGE, make_account(with_sample))
    at.query_params.update({"ticker": "^GSPC", "range": "6M", "panes": "none"})
    at.run()
    assert not [w.value for w in at.warning if "Not found in the link" in w.value]


def test_a_link_s_ticker_in_lower_case_opens_that_ticker(with_sample):
    # ?ticker=^gspc said "Not found in the link: ticker ^gspc", though everywhere else a ticker's case is ignored.
    at = logged_in_app(PAGE, make_account(with_sample))
    at.query_params.update({"ticker": "^gspc"})
    at.run()
    assert not at.exception
    assert not [w.value for w in at.warning if "Not found in the link" in w.value]
    assert at.query_params["ticker"] == "^GSPC"
    assert at.selectbox(key="url_ticker").value == "^GSPC"


def test_the_latest_values_table_shows_every_row_without_scrolling(with_sample, monkeypatch):
    # At Streamlit's default height the table stopped at EMA 50 and hid the rest in a small scroll box.
    import streamlit

    heights = {}
    original = streamlit.dataframe

    def recording(data, *args, **options):
        if "Indicator" in getattr(data, "columns", ()):
            heights["latest"] = options.get("height")
        return original(data, *args, **options)

    monkeypatch.setattr(streamlit, "dataframe", recording)
    at = logged_in_app(PAGE, make_account(with_sample)).run()
    assert not at.exception
    assert heights["latest"] == "content"


def test_a_link_s_dates_outside_the_history_or_unreadable_are_said_with_the_dates_shown(with_sample):
    # ?from=2099-01-01 and ?to=soon were dropped unsaid, and a lone valid "to" opened a one-day range.
    at = logged_in_app(PAGE, make_account(with_sample))
    at.query_params.update({"ticker": "^GSPC", "from": "2099-01-01", "to": "2010-01-04"})
    at.run()
    assert not at.exception
    first = at.date_input[0].min
    assert [d.isoformat() for d in at.date_input[0].value] == [first.isoformat(), "2010-01-04"], "from the first bar"
    [notice] = [w.value for w in at.warning if "Not found in the link" in w.value]
    assert notice == plain(
        f"Not found in the link: dates from 2099-01-01. Shown instead: dates {first.isoformat()} to 2010-01-04."
    )

    at = logged_in_app(PAGE, make_account(with_sample))
    at.query_params.update({"ticker": "^GSPC", "range": "6M", "to": "soon"})
    at.run()
    [notice] = [w.value for w in at.warning if "Not found in the link" in w.value]
    assert notice == plain("Not found in the link: dates to soon. Shown instead: dates none, the 6M range.")
    assert at.date_input[0].value == (), "the whole history, opened on the Show range"
