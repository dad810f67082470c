"""A fitted forecaster of any type to a signed bundle and back: JSON parameters, a .keras file only for networks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from core.forecasting import artifacts, zoo
from core.forecasting.artifacts import ArtifactError, Bundle, pack, unpack
from core.forecasting.config import ModelSettingsError
from core.forecasting.forecaster import Forecaster
from core.forecasting.history import Fitted
from core.forecasting.intervals import Interval
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
