"""A tiny training set-up for tests: an LSTM of 4 units, two epochs, the real 2018 S&P 500 slice."""

from __future__ import annotations

from functools import cache

import pandas as pd

from core.data.csv_prices import parse_price_csv
from core.forecasting.config import TrainingConfig, parse_config
from core.forecasting.training import TrainingResult, train_model
from tests.fixtures import gspc_2018_bytes


def tiny_config(**overrides) -> TrainingConfig:
    tiny = {"model_type": "lstm", "lstm_units": [4], "epochs": 2, "window": 10, "batch_size": 32}
    return parse_config(**(tiny | overrides))


def fixture_prices() -> pd.DataFrame:
    return parse_price_csv(gspc_2018_bytes(), ticker="^GSPC").frame


@cache
def tiny_result() -> TrainingResult:
    """One trained tiny model, shared by the tests that only need some result."""
    return train_model(fixture_prices(), tiny_config(), ticker="^GSPC")


def resigned(bundle: bytes, *, key: bytes | None = None, **changes) -> bytes:
    """The bundle's files packed again (with `changes` to its metadata), signed as this deployment would."""
    from core.forecasting.artifacts import pack
    from core.forecasting.signing import signing_key

    opened = unpack_any(bundle)
    metadata = {k: v for k, v in opened.metadata.items() if k not in ("files", "signature")} | changes
    return pack(opened.model_file, opened.preprocessing, metadata, key=key if key is not None else signing_key())


def unpack_any(bundle: bytes):
    """The bundle's contents whoever signed it."""
    from core.forecasting.artifacts import unpack

    return unpack(bundle, key=b"any key: only contents are wanted")
