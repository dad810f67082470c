"""The typed preprocessing of a window model: features, window, scaling fitted on train, interval width."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.forecasting.features import FEATURES


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return value


def _positive_finite(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{value!r} is not a positive finite number")
    return value


Finite = Annotated[float, AfterValidator(_finite)]
Scale = Annotated[float, AfterValidator(_positive_finite)]


class WindowPreprocessing(BaseModel):
    """How prices become a model's input window and how its output becomes a log return."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: tuple[Literal[tuple(FEATURES)], ...] = Field(min_length=1, max_length=len(FEATURES))  # type: ignore[valid-type]
    window: int = Field(ge=2, le=250)
    feature_mean: tuple[Finite, ...]
    feature_scale: tuple[Scale, ...]
    target: Literal["log_return", "close"] = "log_return"
    target_mean: Finite
    target_scale: Scale
    # Infinite when too few held-out residuals existed for the level: an honest, unbounded interval.
    interval_half_width: float = Field(ge=0)
    interval_level: float = Field(0.95, gt=0.5, lt=1.0)

    @model_validator(mode="after")
    def _one_scale_per_feature(self) -> WindowPreprocessing:
        if not len(self.feature_mean) == len(self.feature_scale) == len(self.features):
            raise ValueError("feature_mean and feature_scale need one value per feature")
        return self

    def scale(self, rows: np.ndarray) -> np.ndarray:
        """Feature rows scaled as on the training part."""
        return (rows - np.asarray(self.feature_mean)) / np.asarray(self.feature_scale)

    def unscale_target(self, scaled: np.ndarray) -> np.ndarray:
        return np.asarray(scaled, dtype=float) * self.target_scale + self.target_mean


def parse_preprocessing(values: dict) -> WindowPreprocessing:
    """The typed preprocessing, or ValueError naming the first wrong key."""
    try:
        return WindowPreprocessing.model_validate(values)
    except ValidationError as error:
        item = error.errors()[0]
        where = ".".join(str(part) for part in item["loc"]) or "preprocessing"
        message = item["msg"].removeprefix("Value error, ")[:120]
        raise ValueError(f"preprocessing.json: {where[:80]}: {message}") from None
