"""A fitted forecaster of any type to a signed bundle and back: JSON parameters, a .keras file only for networks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.forecasting import zoo
from core.forecasting.artifacts import Bundle, pack
from core.forecasting.forecaster import Forecaster
from core.forecasting.history import Fitted


@dataclass
class Restored:
    forecaster: Forecaster
    half_width: float
    interval_level: float


def pack_fitted(fitted: Fitted, *, kind: str, metadata: dict[str, Any], key: bytes | None = None) -> bytes:
    """The bundle of a fitted forecaster; metadata adds ticker, parameters, metrics and the data range."""
    forecaster = fitted.forecaster
    half_width = fitted.half_width if math.isfinite(fitted.half_width) else None  # None: unbounded
    preprocessing = {
        "parameters": forecaster.parameters(),
        "interval_half_width": half_width,
        "interval_level": fitted.interval_level,
    }
    metadata = {"trained_at": datetime.now(UTC).isoformat(timespec="seconds")} | metadata | {"model_type": kind}
    return pack(forecaster.model_file(), preprocessing, metadata, key=key)


def restore_bundle(bundle: Bundle) -> Restored:
    """The forecaster a bundle holds, its parameters validated for its type; ValueError names the problem."""
    kind = bundle.metadata.get("model_type", "lstm")
    preprocessing = bundle.preprocessing
    if "parameters" not in preprocessing:
        # Bundles written before the Forecaster interface: an LSTM with its window preprocessing at the top.
        parameters = {"config": bundle.metadata.get("parameters") or {}, "preprocessing": preprocessing}
        half_width = preprocessing.get("interval_half_width")
    else:
        parameters = preprocessing["parameters"]
        half_width = preprocessing.get("interval_half_width")
    if not isinstance(parameters, dict):
        raise ValueError("preprocessing.json: parameters must be a JSON object")
    if half_width is None:
        half_width = math.inf
    if isinstance(half_width, bool) or not isinstance(half_width, int | float) or not half_width >= 0:
        raise ValueError("preprocessing.json: interval_half_width must be a number, 0 or more")
    level = preprocessing.get("interval_level", 0.95)
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.5 < level < 1:
        raise ValueError("preprocessing.json: interval_level must be between 0.5 and 1")
    forecaster = zoo.restore(kind, parameters, bundle.model_file)
    return Restored(forecaster, float(half_width), float(level))
