"""Readable tables: word column names, two-decimal prices, percentages, local dates, empty cells."""

from datetime import date

import pandas as pd
import pytest

from ui.format import day, label, percent, price, readable


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
