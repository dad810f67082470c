"""Parameters as typed on the Indicators page: what cannot be used is named by its label, the rest kept."""

import numpy as np
import pandas as pd
import pytest

from core.indicator_view import IndicatorParams, adjusted_prices, checked_params

WIDGETS = {"rsi_period": 14, "hv_window": 20, "bb_window": 20, "bb_k": 2.0, "atr_period": 14, "macd_signal": 9}


def test_good_parameters_pass_unchanged_with_each_span_once():
    params, problems = checked_params(" 50,12 ,, 50", macd_fast=5, macd_slow=35, **WIDGETS | {"rsi_period": 7})
    assert problems == []
    assert params == IndicatorParams(ema_spans=(50, 12), macd_fast=5, macd_slow=35, rsi_period=7)


def test_span_parts_that_cannot_be_spans_are_named_and_left_out():
    params, problems = checked_params("12, abc, 7.5, -3, 1, ²", macd_fast=12, macd_slow=26, **WIDGETS)
    assert params.ema_spans == (12,)
    assert problems == [
        "EMA spans: 'abc', '7.5', '-3', '²' are not whole numbers; ignored.",
        "EMA spans: '1' is below 2; ignored.",
    ]


def test_a_long_part_is_quoted_short():
    _, problems = checked_params("x" * 500, macd_fast=12, macd_slow=26, **WIDGETS)
    assert problems == [f"EMA spans: '{'x' * 20}…' is not a whole number; ignored."]


def test_a_macd_fast_not_below_slow_gives_way_to_the_default_pair():
    params, problems = checked_params("12", macd_fast=40, macd_slow=26, **WIDGETS | {"macd_signal": 5})
    assert (params.macd_fast, params.macd_slow, params.macd_signal) == (12, 26, 5), "signal was fine: kept"
    assert problems == [
        "MACD fast (40) must be below MACD slow (26): MACD is drawn with the defaults, fast 12 and slow 26."
    ]
    params, problems = checked_params("12", macd_fast=26, macd_slow=26, **WIDGETS)
    assert (params.macd_fast, params.macd_slow) == (12, 26)
    assert problems[0].startswith("MACD fast (26) must be below MACD slow (26)")


def split_history(volume_after: float = 2e6) -> pd.DataFrame:
    """A 2:1 split on day 30 of 60: the raw close halves and twice the shares trade, the adjusted close runs on;
    a dividend on day 10 nudges the adjustment by 1 %."""
    days = pd.bdate_range("2024-01-02", periods=60)
    adjusted = np.linspace(50.0, 55.0, len(days))
    ratio = np.where(np.arange(len(days)) < 30, 0.5, 1.0) * np.where(np.arange(len(days)) < 10, 0.99, 1.0)
    close = adjusted / ratio
    volume = np.where(np.arange(len(days)) < 30, volume_after / 2, volume_after)
    return pd.DataFrame(
        {"date": days, "open": close, "high": close, "low": close, "close": close, "adjusted_close": adjusted,
         "volume": volume}
    )  # fmt: skip


def test_split_adjusted_prices_count_shares_before_a_split_as_after_it():
    # As TradingView draws them: without it, volume (and OBV's steps) halve before the split on a chart
    # whose candles run through it.
    adjusted = adjusted_prices(split_history())
    assert adjusted["volume"].to_numpy() == pytest.approx(np.full(60, 2e6))
    assert adjusted["close"].to_numpy() == pytest.approx(np.linspace(50.0, 55.0, 60))


def test_a_dividend_alone_leaves_volumes_as_traded():
    history = split_history().assign(adjusted_close=lambda frame: frame["close"] * 0.99)
    history.loc[10:, "adjusted_close"] = history.loc[10:, "close"]
    assert adjusted_prices(history)["volume"].to_numpy() == pytest.approx(history["volume"].to_numpy())


def split_of(new: int, old: int, dividend: float = 1.0) -> pd.DataFrame:
    """A new:old split on day 30 of 60 (the raw close divided by new / old, as many more shares traded),
    the adjusted close running through it; before day 10, a dividend of 1 - dividend."""
    days = pd.bdate_range("2024-01-02", periods=60)
    adjusted = np.linspace(50.0, 55.0, len(days))
    ratio = np.where(np.arange(len(days)) < 30, old / new, 1.0) * np.where(np.arange(len(days)) < 10, dividend, 1.0)
    close = adjusted / ratio
    volume = np.where(np.arange(len(days)) < 30, 1e6 * old / new, 1e6)
    return pd.DataFrame(
        {"date": days, "open": close, "high": close, "low": close, "close": close, "adjusted_close": adjusted,
         "volume": volume}
    )  # fmt: skip


@pytest.mark.parametrize(("new", "old"), [(6, 5), (5, 4), (4, 3), (3, 2), (2, 1), (3, 1), (1, 10), (4, 5)])
def test_a_split_of_any_common_factor_counts_earlier_volumes_in_the_shares_after_it(new, old):
    # A 5:4 split once moved the prices and left the volumes: OBV across it ran 1000, ..., 5500 for 1250, ..., 6250.
    adjusted = adjusted_prices(split_of(new, old, dividend=0.97))
    assert adjusted["volume"].to_numpy() == pytest.approx(np.full(60, 1e6))
    assert adjusted["close"].to_numpy() == pytest.approx(np.linspace(50.0, 55.0, 60))


@pytest.mark.parametrize("dividend", [0.99, 0.97, 0.95, 0.9])
def test_a_dividend_of_up_to_ten_percent_is_no_split(dividend):
    history = split_of(1, 1, dividend=dividend)
    assert adjusted_prices(history)["volume"].to_numpy() == pytest.approx(history["volume"].to_numpy())
