"""Features and windows: shapes, and never a look at the future."""

import numpy as np
import pandas as pd
import pytest

from core.data.csv_prices import parse_price_csv
from core.forecasting.dataset import DatasetError, feature_table, sliding_windows
from core.forecasting.engine import evaluate
from tests.fixtures import gspc_2018_bytes

FEATURES = ("log_return", "hv_20", "rsi_14", "macd_hist", "volume_change")


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return parse_price_csv(gspc_2018_bytes(), ticker="^GSPC").frame


def test_sliding_windows_hold_consecutive_rows():
    values = np.arange(12.0).reshape(6, 2)
    windows = sliding_windows(values, 3)
    assert windows.shape == (4, 3, 2)
    np.testing.assert_array_equal(windows[1], values[1:4])


def test_a_later_price_never_changes_an_earlier_feature_row(prices):
    original = feature_table(prices, FEATURES).to_numpy()
    day = len(prices) - 30
    changed_prices = prices.copy()
    changed_prices.loc[changed_prices.index[day], ["close", "high", "adjusted_close"]] *= 1.05
    changed = feature_table(changed_prices, FEATURES).to_numpy()
    np.testing.assert_array_equal(original[:day], changed[:day])
    assert not np.allclose(original[day], changed[day], equal_nan=True)


def test_too_short_a_history_is_refused(prices):
    with pytest.raises(DatasetError, match="too little history"):
        evaluate("ridge", prices.head(70))


def test_the_warm_up_a_submit_counts_is_the_first_complete_row_of_real_prices(prices):
    # A submit knows only the day count; the fit reads the table. Both must find the same first window.
    from core.forecasting.dataset import warm_up_days
    from core.forecasting.features import FEATURES as ALL_FEATURES

    for name in ALL_FEATURES:
        column = feature_table(prices, (name,))[name].to_numpy()
        assert warm_up_days((name,)) == int(np.argmax(~np.isnan(column))), name
    assert warm_up_days(FEATURES) == 33
