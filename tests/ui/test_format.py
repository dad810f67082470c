"""Readable tables: word column names, prices to their size's decimals, percentages, local dates, empty cells."""

import re
from datetime import date

import pandas as pd
import pytest

from ui.format import MINUS, day, label, percent, price, readable


def test_identifiers_become_words():
    assert [label(n) for n in ("rsi_14", "ema_200", "hv_20", "total_return", "moving_average", "dropped_rows")] == [
        "RSI 14",
        "EMA 200",
        "Volatility 20 d",
        "Total return",
        "Moving average",
        "Dropped rows",
    ]


def test_the_scoreboard_columns_have_readable_names():
    from core.predictions import Scoreboard

    names = [label(name) for name in Scoreboard.__dataclass_fields__]
    assert "p-value against tomorrow = today" in names
    assert "Verdict" in names
    assert not [name for name in names if "_" in name], "every scoreboard column is named in words"


def test_text_values_read_like_a_finance_tool():
    assert price(2498.9399) == "2,498.94"
    assert price(float("nan")) == ""
    assert percent(0.01234) == "1.23 %"
    assert percent(-0.5, signed=True) == "-50.00 %"
    assert day(pd.Timestamp("2019-01-02 21:00", tz="UTC")) == "2019-01-02"


def test_a_table_is_formatted_by_column_kind():
    frame = pd.DataFrame(
        {
            "date": [date(2019, 1, 2)],
            "close": [2498.9399],
            "rsi_14": [41.7],
            "hit_rate": [0.55],
            "day_change": [0.0085],
            "volume": [3_000_000_000],
            "matured_at": [pd.Timestamp("2019-01-03 22:00", tz="UTC")],
            "note": [None],
        }
    )
    shown, config = readable(frame)
    names = ["Date", "Close", "RSI 14", "Direction right", "Day change", "Volume", "Matured", "Note"]
    assert list(shown.columns) == names
    assert config["Close"]["type_config"]["format"] == "%,.2f"
    assert config["Direction right"]["type_config"]["format"] == "%.2f %%"
    assert shown["Direction right"].iloc[0] == pytest.approx(55.0)
    assert config["Day change"]["type_config"]["format"] == "%+.2f %%", "a move reads +0.85 %, as quotes do"
    assert config["Volume"]["type_config"]["format"] == "%,d"
    assert config["Date"]["type_config"]["format"] == "YYYY-MM-DD"
    assert shown["Matured"].dt.tz is None, "no +00:00 on screen"
    assert pd.isna(shown["Note"].iloc[0]), "missing text is left missing: the table shows it as it shows a number's"
    assert shown["Close"].iloc[0] == 2498.9399, "the number keeps every digit: the format rounds on screen only"


def test_skill_and_p_values_read_to_the_fourth_decimal():
    _, config = readable(pd.DataFrame({"mase": [0.99884], "dm_pvalue": [0.6091], "hit_p_value": [0.0812]}))
    assert config["MASE"]["type_config"]["format"] == "%.4f", "0.9988 is not 0.999: the edge is that small"
    assert {
        config[name]["type_config"]["format"] for name in ("p-value against tomorrow = today", "p-value of direction")
    } == {"%.4f"}, "p = 0.0496 must not read 0.050 beside a verdict that it beats persistence"


def test_a_record_on_its_side_keeps_every_digit_readable():
    import numpy as np

    from ui.format import as_rows
    from ui.tables import MISSING

    rows = as_rows(pd.Series({"close": 2498.9399, "volume": np.int64(3442870000), "rsi_14": 41.709, "note": None}))
    assert rows.to_dict("records") == [
        {"Indicator": "Close", "Value": "2,498.94"},
        {"Indicator": "Volume", "Value": "3,442,870,000"},
        {"Indicator": "RSI 14", "Value": "41.71"},
        {"Indicator": "Note", "Value": MISSING},
    ]


def test_a_stored_moment_reads_in_the_viewer_s_zone_without_an_offset(monkeypatch):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    import ui.format
    from ui.format import local_moment, minute

    stored = datetime(2019, 1, 2, 22, 5, tzinfo=UTC)
    monkeypatch.setattr(ui.format, "browser_zone", lambda: ZoneInfo("America/New_York"))
    assert minute(stored) == "2019-01-02 17:05"
    assert local_moment(stored) == pd.Timestamp("2019-01-02 17:05")
    assert minute(None) == ""
    assert local_moment(None) is None
    monkeypatch.setattr(ui.format, "browser_zone", lambda: None)
    assert minute(stored) == "2019-01-02 22:05", "UTC where the browser does not say"


def test_volatility_reads_in_percent_as_its_chart_pane_shows_it():
    shown, config = readable(pd.DataFrame({"hv_20": [0.2912], "atr_14": [31.5]}))
    assert list(shown.columns) == ["Volatility 20 d", "ATR 14"]
    assert config["Volatility 20 d"]["type_config"]["format"] == "%.2f %%"
    assert shown["Volatility 20 d"].iloc[0] == pytest.approx(29.12)
    assert config["ATR 14"]["type_config"]["format"] == "%,.2f"


def latest_values(scale: float) -> dict[str, str]:
    """The Latest values table of the fixture's last day, every price scaled as a low-priced asset's would be."""
    from core.indicators import compute_all
    from tests.fixtures import gspc_2018_frame
    from ui.format import as_rows

    prices = gspc_2018_frame().reset_index().rename(columns=str.lower).drop(columns=["adj close"])
    prices[["open", "high", "low", "close"]] *= scale
    latest = pd.concat([prices, compute_all(prices)], axis=1).iloc[-1].drop("date")
    rows = as_rows(latest)
    return dict(zip(rows["Indicator"], rows["Value"], strict=True))


PRICE_SCALED = ("Close", "EMA 12", "EMA 200", "MACD", "MACD histogram", "ATR 14")
# A negative value starts with the minus sign: show_table turns a leading hyphen into '-65.63 (a formula).


def test_an_index_s_latest_values_keep_two_decimals_and_thousands_separators():
    shown = latest_values(1.0)
    assert {name: shown[name] for name in PRICE_SCALED} == {
        "Close": "2,506.85",
        "EMA 12": "2,510.42",
        "EMA 200": "2,721.09",
        "MACD": f"{MINUS}65.63",
        "MACD histogram": f"{MINUS}3.72",
        "ATR 14": "61.62",
    }


def test_a_coin_at_five_cents_shows_its_close_apart_from_its_ema_and_the_sign_of_its_macd():
    shown = latest_values(1 / 50_000)  # the fixture's 2,506.85 close is 0.050137
    assert {name: shown[name] for name in PRICE_SCALED} == {
        "Close": "0.05014",
        "EMA 12": "0.05021",
        "EMA 200": "0.05442",
        "MACD": f"{MINUS}0.001313",
        "MACD histogram": f"{MINUS}0.00007432",
        "ATR 14": "0.001232",
    }
    assert (shown["RSI 14"], shown["Volatility 20 d"]) == ("41.71", "29.25 %"), "no price scale: unchanged"


def test_a_token_at_a_fraction_of_a_cent_shows_its_significant_digits():
    shown = latest_values(0.0000229 / 2506.850098)
    assert {name: shown[name] for name in PRICE_SCALED} == {
        "Close": "0.0000229",
        "EMA 12": "0.00002293",
        "EMA 200": "0.00002486",
        "MACD": f"{MINUS}0.0000005996",
        "MACD histogram": f"{MINUS}0.00000003394",
        "ATR 14": "0.0000005629",
    }


def test_zero_reads_0_and_a_tiny_negative_never_reads_minus_zero():
    assert price(0.0) == "0"
    assert price(-0.0) == "0"
    assert price(-0.00000031) == "-0.00000031"
    assert price(0.5) == "0.50", "below 1, four significant digits, trailing zeros past the cents dropped"
    assert price(1.5) == "1.50"


def shown_as(config: dict, name: str, value: float) -> str:
    """A value as its NumberColumn's printf format ('%,.8f') shows it."""
    spec = config[name]["type_config"]["format"]
    assert re.fullmatch(r"%,\.\d+f", spec), spec
    return format(value, spec[1:])


def test_a_screener_of_small_priced_coins_shows_every_price_column_to_its_smallest_value():
    frame = pd.DataFrame(
        {
            "ticker": ["SHIB-USD", "DOGE-USD"],
            "date": pd.to_datetime(["2024-05-01"] * 2),
            "close": [0.00002291, 0.1312],
            "rsi_14": [28.1, 29.5],
            "ema_200": [0.00002405, 0.1287],
            "macd_hist": [-0.00000031, 0.00042],
            "hv_20": [0.71, 0.65],
        }
    )
    _, config = readable(frame, keep={"date": "Last bar"})
    assert [shown_as(config, "Close", v) for v in (0.00002291, 0.1312)] == ["0.00002291", "0.13120000"]
    assert [shown_as(config, "EMA 200", v) for v in (0.00002405, 0.1287)] == ["0.00002405", "0.12870000"]
    assert shown_as(config, "MACD histogram", -0.00000031) == "-0.0000003100"
    assert config["RSI 14"]["type_config"]["format"] == "%,.2f"
    assert config["Volatility 20 d"]["type_config"]["format"] == "%.2f %%", "percentages keep their format"


def test_a_screener_of_stocks_keeps_two_decimals():
    _, config = readable(pd.DataFrame({"close": [2506.85, 12.3], "macd_hist": [-3.72, 1.5], "atr_14": [61.6, 1.1]}))
    assert {config[name]["type_config"]["format"] for name in ("Close", "MACD histogram", "ATR 14")} == {"%,.2f"}


def test_a_wait_reads_in_the_units_a_person_counts_it_in():
    from ui.format import count, duration

    assert [duration(s) for s in (0, 5, 59.9, 60, 100, 3599, 3600, 3725)] == [
        "0 s", "5 s", "59 s", "1 min", "1 min 40 s", "59 min 59 s", "1 h", "1 h 2 min",
    ]  # fmt: skip
    assert (count(1005), count(None), count(3.0)) == ("1,005", "", "3")
