"""A fitted forecaster of any type to a signed bundle and back: JSON parameters, a .keras file only for networks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from core.forecasting import artifacts, zoo
from core.forecasting.artifacts import ArtifactError, Bundle, pack, unpack
from core.forecasting.config import ModelSettingsError
from core.forecasting.forecaster import Forecaster
from core.forecasting.history import Fitted
from core.forecasting.intervals import Interval
from core.forecasting.preprocessing import WindowPreprocessing
from core.forecasting.series import PriceSeries


@dataclass
class Restored:
    forecaster: Forecaster
    interval: Interval

    @property
    def interval_level(self) -> float:
        return self.interval.level

    def half_width(self, series: PriceSeries) -> float:
        """The interval's half-width (in log return) for a forecast from the series' last day."""
        return float(self.interval.half_widths(series.log_returns, np.array([len(series) - 1]))[0])


def pack_fitted(fitted: Fitted, *, kind: str, metadata: dict[str, Any], key: bytes | None = None) -> bytes:
    """The bundle of a fitted forecaster; metadata adds ticker, parameters, metrics and the data range.

    A bundle the reader would refuse is refused here, so it never becomes a version (let alone the
    active one) that no forecast can load; ModelSettingsError says so, and which settings to lower.
    """
    forecaster = fitted.forecaster
    scale = fitted.interval.scale if math.isfinite(fitted.interval.scale) else None  # None: unbounded
    preprocessing = {
        "parameters": forecaster.parameters(),
        "interval_scale": scale,
        "interval_level": fitted.interval.level,
    }
    metadata = {"trained_at": datetime.now(UTC).isoformat(timespec="seconds")} | metadata | {"model_type": kind}
    bundle = pack(forecaster.model_file(), preprocessing, metadata, key=key)
    limit = artifacts.MAX_BUNDLE_BYTES
    if len(bundle) > limit:
        raise ModelSettingsError(
            f"the trained {kind} model's file is {_size(len(bundle))}, more than the {_size(limit)} a model file "
            "may be, so it could never be loaded: train it with fewer layers or fewer units (lstm_units, dense_units)"
        )
    try:
        unpack(bundle, key=key)
    except ArtifactError as error:
        raise ArtifactError(f"the trained {kind} model could not be stored in a file that loads: {error}") from None
    return bundle


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def restore_bundle(bundle: Bundle) -> Restored:
    """The forecaster a bundle holds, its parameters validated for its type; ValueError names the problem."""
    kind = bundle.metadata.get("model_type", "lstm")
    preprocessing = bundle.preprocessing
    if "parameters" not in preprocessing:
        # Bundles written before the Forecaster interface: an LSTM with its window preprocessing at the top.
        parameters = {"config": bundle.metadata.get("parameters") or {}, "preprocessing": preprocessing}
    else:
        parameters = preprocessing["parameters"]
    if not isinstance(parameters, dict):
        raise ValueError("preprocessing.json: parameters must be a JSON object")
    # Versions before volatility scaling kept one fixed half-width.
    scaled = "interval_scale" in preprocessing
    scale = preprocessing.get("interval_scale" if scaled else "interval_half_width")
    if scale is None:
        scale = math.inf
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale >= 0:
        raise ValueError("preprocessing.json: the interval's scale must be a number, 0 or more")
    level = preprocessing.get("interval_level", 0.95)
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.5 < level < 1:
        raise ValueError("preprocessing.json: interval_level must be between 0.5 and 1")
    forecaster = zoo.restore(kind, parameters, bundle.model_file)
    return Restored(forecaster, Interval(float(level), float(scale), volatility_scaled=scaled))


# The largest one-day move a model may forecast on the reference prices: a log return of 1 is +172 %
# or -63 % in a day. No stock index has moved half that in a session; a forecast beyond it comes from
# parameters no fit on prices gives (a median daily return of 1e6, an intercept of 1e300), and its
# prices would be inf or 0 in the ledger.
MAX_REFERENCE_LOG_RETURN = 1.0
REFERENCE_DAYS = 400  # a network's longest window (250) after its indicators' warm-up, with room to spare
REFERENCE_LEVEL = 100.0


def reads_price_levels(restored: Restored) -> bool:
    """Whether the model reads the close itself (a network's `close` feature or close target), not only
    moves: its forecasts hold only on the price scale it was trained on."""
    window = getattr(restored.forecaster, "preprocessing", None)
    return isinstance(window, WindowPreprocessing) and ("close" in window.features or window.target == "close")


def reference_prices(restored: Restored) -> pd.DataFrame:
    """A calm random walk of REFERENCE_DAYS sessions (1 % a day, seeded), at the level the model was trained
    on when it reads levels, else at 100: every type forecasts from it."""
    level = REFERENCE_LEVEL
    window = getattr(restored.forecaster, "preprocessing", None)
    if reads_price_levels(restored):
        level = (
            window.feature_mean[window.features.index("close")] if "close" in window.features else window.target_mean
        )
        level = level if math.isfinite(level) and level > 0 else REFERENCE_LEVEL
    generator = np.random.default_rng(20180102)
    close = level * np.exp(np.cumsum(generator.normal(0.0, 0.01, REFERENCE_DAYS)))
    opened = np.concatenate([[close[0]], close[:-1]])
    return pd.DataFrame(
        {
            "date": pd.bdate_range("2000-01-03", periods=REFERENCE_DAYS),
            "open": opened,
            "high": np.maximum(opened, close) * 1.004,
            "low": np.minimum(opened, close) * 0.996,
            "close": close,
            "volume": 1e6 * np.exp(generator.normal(0.0, 0.2, REFERENCE_DAYS)),
        }
    )


def check_reference_forecast(restored: Restored) -> None:
    """ValueError unless the model's next-day forecast on the reference prices is a price: a finite log return
    of at most MAX_REFERENCE_LOG_RETURN either way, inside a finite interval (or an unbounded one, by design)."""
    series = PriceSeries.from_prices(reference_prices(restored))
    predicted = restored.forecaster.predict_next(series)
    if not math.isfinite(predicted) or abs(predicted) > MAX_REFERENCE_LOG_RETURN:
        raise ValueError(
            f"on reference prices (a calm random walk) the model forecasts a one-day log return of {predicted:.4g}, "
            f"more than {MAX_REFERENCE_LOG_RETURN:g} either way (+172 % or -63 % in a day): its parameters "
            "are not those of a model fitted on prices"
        )
    half_width = restored.half_width(series)
    with np.errstate(over="ignore", invalid="ignore"):
        upper = float(series.close[-1] * np.exp(predicted + half_width))
    # An interval too short of residuals is unbounded by design (scale inf); any other must give a price.
    if math.isnan(half_width) or (math.isfinite(restored.interval.scale) and not math.isfinite(upper)):
        raise ValueError("preprocessing.json: the interval's scale gives no finite interval on reference prices")
