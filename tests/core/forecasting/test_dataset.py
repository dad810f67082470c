"""Windows, targets, splits and scaling: shapes, and never a look at the future."""

import numpy as np
import pandas as pd
import pytest

from core.data.csv_prices import parse_price_csv
from core.forecasting.config import parse_config
from core.forecasting.dataset import DatasetError, Splits, build_dataset, latest_window, sliding_windows
from tests.fixtures import gspc_2018_bytes


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return parse_price_csv(gspc_2018_bytes(), ticker="^GSPC").frame


def test_sliding_windows_hold_consecutive_rows():
    values = np.arange(12.0).reshape(6, 2)
    windows = sliding_windows(values, 3)
    assert windows.shape == (4, 3, 2)
    np.testing.assert_array_equal(windows[1], values[1:4])


def test_shapes_and_chronological_splits(prices):
    config = parse_config(window=10, features=["log_return", "rsi_14"])
    data = build_dataset(prices, config)
    samples = len(data.targets)
    assert data.inputs.shape == (samples, 10, 2)
    assert data.splits.train.stop == data.splits.validation.start
    assert data.splits.validation.stop == data.splits.test.start
    assert data.splits.test.stop == samples
    assert data.splits.test.stop - data.splits.test.start == int(np.ceil(samples * 0.2))
    assert data.dates.is_monotonic_increasing
    assert data.dates[-1] == pd.Timestamp("2018-12-28"), "the last window ends the day before the last close"


def test_targets_are_the_next_days_log_return(prices):
    data = build_dataset(prices, parse_config(window=10))
    actual = data.unscale_targets(data.targets)
    np.testing.assert_allclose(actual, np.log(data.next_close / data.close), atol=1e-6)


def test_a_later_price_never_changes_an_earlier_window_or_target(prices):
    config = parse_config(window=10)
    original = build_dataset(prices, config)
    changed_prices = prices.copy()
    day = original.splits.test.start + 10  # a test day
    moved = original.dates[day]
    changed_prices.loc[changed_prices["date"] == moved, ["close", "high", "adjusted_close"]] *= 1.05
    changed = build_dataset(changed_prices, config)
    before = slice(0, day - 1)  # windows ending two or more days before the change, and their targets
    np.testing.assert_array_equal(original.inputs[before], changed.inputs[before])
    np.testing.assert_array_equal(original.targets[before], changed.targets[before])
    assert not np.array_equal(original.targets[day - 1 : day + 1], changed.targets[day - 1 : day + 1])


def test_scalers_are_fitted_on_the_training_part_only(prices):
    config = parse_config(window=10)
    original = build_dataset(prices, config)
    shocked = prices.copy()
    test_days = shocked.index[-20:]
    shocked.loc[test_days, ["open", "high", "low", "close", "adjusted_close"]] *= 3.0
    after = build_dataset(shocked, config)
    np.testing.assert_array_equal(original.feature_scaler.mean_, after.feature_scaler.mean_)
    np.testing.assert_array_equal(original.target_scaler.scale_, after.target_scaler.scale_)
    early = prices.copy()
    early.loc[early.index[40], ["close", "high", "adjusted_close"]] *= 1.2
    assert not np.array_equal(original.feature_scaler.mean_, build_dataset(early, config).feature_scaler.mean_)


def test_the_latest_window_uses_the_stored_scaling(prices):
    data = build_dataset(prices, parse_config(window=10))
    window = latest_window(prices, data.preprocessing())
    assert window.shape == (1, 10, len(data.features))


def test_too_short_a_history_is_refused(prices):
    with pytest.raises(DatasetError, match="too little history"):
        build_dataset(prices.head(70), parse_config(window=20))


def test_splits_always_leave_each_part_a_day():
    assert Splits.chronological(10, 0.1, 0.2) == Splits(slice(0, 7), slice(7, 8), slice(8, 10))
