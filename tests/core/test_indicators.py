"""Indicators: TA-Lib parity on real prices, independent reference formulas, gaps, edge cases, errors."""

import math

import numpy as np
import pandas as pd
import pytest
import talib

from core.data.csv_prices import parse_price_csv
from core.indicators import atr, bollinger, compute_all, ema, historical_volatility, macd, obv, rsi
from tests.fixtures import gspc_2018_bytes

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    frame = parse_price_csv(gspc_2018_bytes(), ticker="^GSPC").frame
    return frame.set_index(pd.to_datetime(frame["date"]))[["open", "high", "low", "close", "volume"]].astype(float)


def assert_same(ours: pd.Series, reference: np.ndarray, warm_up: int) -> None:
    values = ours.to_numpy()
    assert np.isnan(values[:warm_up]).all(), "warm-up must be NaN"
    assert not np.isnan(values[warm_up:]).any(), "nothing missing after the warm-up"
    np.testing.assert_allclose(
        values[warm_up:], reference[warm_up:], rtol=0, atol=TOLERANCE * np.abs(reference[warm_up:]).max()
    )


def wilder_rsi(close: np.ndarray, period: int) -> np.ndarray:
    change = np.diff(close)
    gains, losses = np.clip(change, 0, None), np.clip(-change, 0, None)
    out = np.full(len(close), np.nan)
    gain, loss = gains[:period].mean(), losses[:period].mean()
    out[period] = 100 * gain / (gain + loss)
    for i in range(period, len(change)):
        gain = (gain * (period - 1) + gains[i]) / period
        loss = (loss * (period - 1) + losses[i]) / period
        out[i + 1] = 100 * gain / (gain + loss)
    return out


def test_rsi_is_wilders_and_matches_talib(prices):
    ours = rsi(prices["close"], 14)
    assert_same(ours, talib.RSI(prices["close"].to_numpy(), 14), 14)
    assert_same(ours, wilder_rsi(prices["close"].to_numpy(), 14), 14)
    assert ours.index.equals(prices.index)


def test_ema_is_seeded_with_the_first_mean(prices):
    close = prices["close"].to_numpy()
    reference = np.full(len(close), np.nan)
    reference[9] = close[:10].mean()
    for i in range(10, len(close)):
        reference[i] = reference[i - 1] + (2 / 11) * (close[i] - reference[i - 1])
    assert_same(ema(prices["close"], 10), reference, 9)
    assert_same(ema(prices["close"], 10), talib.EMA(close, 10), 9)


def test_historical_volatility_is_the_annualised_sample_deviation_of_log_returns(prices):
    reference = np.log(prices["close"]).diff().rolling(20).std(ddof=1) * math.sqrt(252)
    assert_same(historical_volatility(prices["close"], 20), reference.to_numpy(), 20)


def test_bollinger_uses_the_population_deviation(prices):
    upper, middle, lower = bollinger(prices["close"], 20, 2.0)
    mean = prices["close"].rolling(20).mean()
    deviation = prices["close"].rolling(20).std(ddof=0)
    assert_same(middle, mean.to_numpy(), 19)
    assert_same(upper, (mean + 2 * deviation).to_numpy(), 19)
    assert_same(lower, (mean - 2 * deviation).to_numpy(), 19)
    reference = talib.BBANDS(prices["close"].to_numpy(), 20, 2.0, 2.0, 0)
    assert_same(upper, reference[0], 19)


def seeded_ema(values: np.ndarray, span: int) -> np.ndarray:
    """An EMA seeded with the mean of its first span values, from the first value that is there (Pine's ta.ema)."""
    out = np.full(len(values), np.nan)
    first = int(np.flatnonzero(~np.isnan(values))[0])
    out[first + span - 1] = values[first : first + span].mean()
    for i in range(first + span, len(values)):
        out[i] = out[i - 1] + (2 / (span + 1)) * (values[i] - out[i - 1])
    return out


def test_macd_is_the_difference_of_the_emas_the_chart_draws_as_tradingview_computes_it(prices):
    # TA-Lib's MACD seeds its fast EMA where the slow one starts: 1.39 off the EMA 12 - EMA 26 drawn on
    # the same chart on bar 33 of this year, and off TradingView's ta.ema(12) - ta.ema(26) for months.
    close = prices["close"].to_numpy()
    line, signal, histogram = macd(prices["close"], 12, 26, 9)
    difference = talib.EMA(close, 12) - talib.EMA(close, 26)
    np.testing.assert_array_equal(line.to_numpy()[25:], difference[25:])
    assert np.isnan(line.to_numpy()[:25]).all()
    reference = seeded_ema(seeded_ema(close, 12) - seeded_ema(close, 26), 9)
    assert_same(signal, reference, 25 + 8)
    assert_same(histogram, (line - signal).to_numpy(), 33)
    values = compute_all(prices.iloc[:40])
    np.testing.assert_array_equal(values["macd"].to_numpy()[25:], (values["ema_12"] - values["ema_26"]).to_numpy()[25:])
    assert values["macd_signal"].first_valid_index() == prices.index[33]


def test_atr_is_wilders_true_range_average(prices):
    high, low, close = (prices[c].to_numpy() for c in ("high", "low", "close"))
    true_range = np.maximum.reduce([high[1:] - low[1:], np.abs(high[1:] - close[:-1]), np.abs(low[1:] - close[:-1])])
    reference = np.full(len(close), np.nan)
    reference[14] = true_range[:14].mean()
    for i in range(15, len(close)):
        reference[i] = (reference[i - 1] * 13 + true_range[i - 1]) / 14
    assert_same(atr(prices["high"], prices["low"], prices["close"], 14), reference, 14)


def test_obv_starts_at_zero_and_adds_volume_on_up_days_and_subtracts_on_down_days(prices):
    # As TradingView's ta.obv: TA-Lib starts at the first day's volume, a constant off every value.
    close, volume = prices["close"].to_numpy(), prices["volume"].to_numpy()
    direction = np.sign(np.diff(close))
    reference = np.concatenate([[0.0], np.cumsum(direction * volume[1:])])
    values = obv(prices["close"], prices["volume"]).to_numpy()
    assert values[0] == 0.0
    np.testing.assert_allclose(values, reference, rtol=0, atol=TOLERANCE * np.abs(reference).max())
    np.testing.assert_array_equal(compute_all(prices)["obv"].to_numpy(), values)


def test_gaps_in_the_dates_are_not_filled(prices):
    gapped = prices.drop(prices.index[60:90])  # a month with no bars
    values = compute_all(gapped)
    assert values.index.equals(gapped.index)
    assert_same(values["rsi_14"], talib.RSI(gapped["close"].to_numpy(), 14), 14)
    assert len(values) == len(prices) - 30


def test_flat_prices_and_zero_volume():
    flat = pd.DataFrame({"high": 10.0, "low": 10.0, "close": 10.0, "volume": 0.0}, index=range(60))
    values = compute_all(flat)
    assert (values["ema_12"].dropna() == 10.0).all()
    assert (values["atr_14"].dropna() == 0.0).all()
    assert (values["obv"] == 0.0).all()
    assert (values["hv_20"].dropna() == 0.0).all()
    assert (values["bb_upper"].dropna() == 10.0).all()
    assert values["rsi_14"].isna().all(), "no gain and no loss: RSI is undefined"


def test_compute_all_matches_the_single_functions(prices):
    values = compute_all(prices)
    assert list(values.columns) == [
        "rsi_14", "ema_12", "ema_26", "ema_50", "ema_200", "hv_20", "bb_upper", "bb_middle", "bb_lower",
        "macd", "macd_signal", "macd_hist", "atr_14", "obv",
    ]  # fmt: skip
    pd.testing.assert_series_equal(values["rsi_14"], rsi(prices["close"]), check_names=False)
    pd.testing.assert_series_equal(values["hv_20"], historical_volatility(prices["close"]), check_names=False)
    assert values["ema_200"].notna().sum() == len(prices) - 199


def test_compute_all_is_the_single_functions_bit_for_bit_with_other_parameters(prices):
    values = compute_all(
        prices, rsi_period=7, ema_spans=[5, 100], hv_window=10, bb_window=30, bb_k=1.5,
        macd_fast=5, macd_slow=35, macd_signal=4, atr_period=21,
    )  # fmt: skip
    close = prices["close"]
    expected = {
        "rsi_7": rsi(close, 7),
        "ema_5": ema(close, 5),
        "ema_100": ema(close, 100),
        "hv_10": historical_volatility(close, 10),
        **dict(zip(("bb_upper", "bb_middle", "bb_lower"), bollinger(close, 30, 1.5), strict=True)),
        **dict(zip(("macd", "macd_signal", "macd_hist"), macd(close, 5, 35, 4), strict=True)),
        "atr_21": atr(prices["high"], prices["low"], close, 21),
        "obv": obv(close, prices["volume"]),
    }
    assert list(values.columns) == list(expected)
    for name, series in expected.items():
        np.testing.assert_array_equal(values[name].to_numpy(), series.to_numpy(), err_msg=name)


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(lambda frame: frame.astype({"volume": "int64"}), id="whole-number volume"),
        pytest.param(lambda frame: frame.astype("Float64"), id="nullable floats"),
        pytest.param(lambda frame: frame.astype("float32"), id="single precision"),
        pytest.param(
            lambda frame: pd.DataFrame(frame.to_numpy(), index=frame.index, columns=frame.columns), id="one 2-D block"
        ),
        pytest.param(
            lambda frame: frame.assign(ticker="^GSPC")[["volume", "close", "ticker", "low", "high"]],
            id="other columns between",
        ),
        pytest.param(lambda frame: frame.iloc[500:800], id="a slice of a longer frame"),
    ],
)
def test_compute_all_reads_the_columns_however_they_are_stored(prices, stored):
    frame = stored(prices.assign(volume=prices["volume"].round()))
    floats = pd.DataFrame({name: frame[name].to_numpy(float) for name in ("high", "low", "close", "volume")})
    pd.testing.assert_frame_equal(
        compute_all(frame), compute_all(floats).set_axis(frame.index), check_exact=True, check_freq=False
    )


def test_compute_all_leaves_the_prices_alone(prices):
    before = prices.copy()
    values = compute_all(prices)
    values.iloc[:, :] = 0.0
    pd.testing.assert_frame_equal(prices, before)


def test_a_short_history_leaves_long_indicators_empty():
    short = pd.DataFrame(
        {
            "high": np.arange(31.0) + 11,
            "low": np.arange(31.0) + 9,
            "close": np.arange(31.0) + 10,
            "volume": 1.0,
        }
    )
    values = compute_all(short)
    assert values["ema_200"].isna().all()
    assert values["macd"].isna().all()
    assert values["rsi_14"].notna().sum() == 31 - 14


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: rsi(c, 1), "period must be a whole number of at least 2, got 1"),
        (lambda c: ema(c, 0), "span must be a whole number of at least 2, got 0"),
        (lambda c: macd(c, 26, 12), "fast must be below slow, got fast=26, slow=12"),
        (lambda c: macd(c, 12, 12), "fast must be below slow"),
        (lambda c: bollinger(c, 20, 0), "k must be above 0"),
        (lambda c: historical_volatility(c, 20, 0), "periods_per_year must be at least 1"),
        (
            lambda c: rsi(c.head(10), 14),
            "series too short: RSI(14) needs at least 15 values of close, got 10",
        ),
        (lambda c: macd(c.head(30)), "series too short: MACD(12,26,9) needs at least 34 values"),
        (
            lambda c: compute_all(pd.DataFrame({"high": c, "low": c, "close": c, "volume": c}), macd_fast=30),
            "macd_fast must be below macd_slow",
        ),
    ],
)
def test_bad_parameters_are_named(prices, call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(prices["close"])


def test_rsi_of_a_close_that_has_not_moved_is_undefined_not_oversold():
    # TA-Lib answers 0 when there were neither gains nor losses; a flat or halted ticker is not "oversold".
    flat = pd.Series(np.r_[np.full(30, 10.0), 10.5, 10.2])
    frame = pd.DataFrame({"open": flat, "high": flat, "low": flat, "close": flat, "volume": 1.0})
    for values in (rsi(flat), compute_all(frame)["rsi_14"]):
        assert values.iloc[:30].isna().all()
        assert values.iloc[30] == 100, "the first move is a gain and no loss"
        assert 0 < values.iloc[31] < 100
