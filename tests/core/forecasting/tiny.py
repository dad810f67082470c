"""A tiny training set-up for tests: 4 LSTM units, one or two epochs, the real 2018 S&P 500 slice."""

from __future__ import annotations

from functools import cache

import pandas as pd

from core.data.csv_prices import parse_price_csv
from core.forecasting.config import TrainingConfig, parse_config
from core.forecasting.training import TrainingResult, train_forecaster
from tests.fixtures import gspc_2018_bytes


def tiny_config(**overrides) -> TrainingConfig:
    return parse_config(**({"lstm_units": [4], "epochs": 2, "window": 10, "batch_size": 32} | overrides))


def fixture_prices() -> pd.DataFrame:
    return parse_price_csv(gspc_2018_bytes(), ticker="^GSPC").frame


@cache
def tiny_result() -> TrainingResult:
    """One trained tiny model, shared by the tests that only need some result."""
    return train_forecaster(fixture_prices(), tiny_config(), ticker="^GSPC")
