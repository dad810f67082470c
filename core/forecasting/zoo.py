"""Every model type by name: make a fresh forecaster, or restore a fitted one from its JSON parameters."""

from __future__ import annotations

from typing import Any

from core.forecasting.config import TrainingConfig
from core.forecasting.ensemble import Ensemble
from core.forecasting.forecaster import Drift, Forecaster, Hooks, MedianDrift, MovingAverage, Persistence
from core.forecasting.linear import Ridge
from core.forecasting.statistical import Arima, Ets

DEFAULT_KIND = "auto"
_SIMPLE: dict[str, type[Forecaster]] = {
    cls.kind: cls for cls in (Persistence, Drift, MedianDrift, MovingAverage, Ridge, Arima, Ets, Ensemble)
}
NETWORK_KINDS = ("lstm", "gru")  # the types that train in epochs, and so can stop between them
# Of a model's settings, a fit of every type reads these (history.fit: the validation part, the interval's
# level, the seed); only the networks are built from the whole config (make).
EVERY_FIT_READS = ("validation_fraction", "interval_level", "seed")
# No fit reads the test fraction: it sizes a training's held-out days, and a walk-forward's windows when no
# length is given. Two configs that differ only there fit the same model at every origin.
NO_FIT_READS = ("model_type", "test_fraction")  # the type is compared on its own
KINDS = (*_SIMPLE, *NETWORK_KINDS)


def _neural(kind: str) -> type[Forecaster]:
    from core.forecasting.neural import Gru, Lstm  # Keras only when a network is asked for

    return {"lstm": Lstm, "gru": Gru}[kind]


def label(kind: object) -> str:
    """The model type in plain words ("auto ensemble"), without importing Keras; an unknown type as stored."""
    if kind not in KINDS:  # a version stored by another deployment, or an imported file's claim
        return str(kind)
    return {"lstm": "LSTM (Keras)", "gru": "GRU (Keras)"}.get(kind) or _SIMPLE[kind].label


def version_name(ticker: str, number: int, kind: object) -> str:
    """A stored version as every table, chooser and ledger names it: "SPX v2 · auto ensemble"."""
    return f"{ticker} v{number} · {label(kind)}"


def judged_version(ticker: str, number: int, kind: object, scores: dict[str, Any]) -> str:
    """A version with its verdict against persistence, as a forecast is told: "SPX v2 · auto ensemble, on its
    test days: no better than tomorrow = today (p = 0.61)"."""
    from core.forecasting.evaluation import stored_verdict

    return f"{version_name(ticker, number, kind)}, on its test days: {stored_verdict(scores)}"


def configured_kind(config: object) -> object:
    """The model type a stored job's configuration (a TrainingConfig as JSON) names, or a stored
    walk-forward run's (which keeps that JSON under "training").

    A field missing from it took TrainingConfig's default when the job ran, and so does this.
    """
    if isinstance(config, dict) and isinstance(config.get("training"), dict):
        config = config["training"]
    stored = config.get("model_type") if isinstance(config, dict) else None
    return stored or TrainingConfig.model_fields["model_type"].default


def job_name(kind: str, config: object) -> str:
    """A job as the Train page, Home and the notifications name it: "walk-forward of LSTM (Keras)"."""
    if kind == "leaderboard":
        return "leaderboard of every model type"
    model = label(configured_kind(config))
    return f"walk-forward of {model}" if kind == "walkforward" else f"training of {model}"


def make(kind: str, config: TrainingConfig | None = None, hooks: Hooks | None = None) -> Forecaster:
    """A fresh forecaster of the type; networks take the training config and report epochs to the hooks."""
    if kind in ("lstm", "gru"):
        return _neural(kind)(config, hooks)
    if kind not in _SIMPLE:
        raise ValueError(f"unknown model type {kind[:20]!r}; choose from {', '.join(KINDS)}")
    return _SIMPLE[kind]()


def restore(kind: str, parameters: dict[str, Any], model_file: bytes | None = None) -> Forecaster:
    """A fitted forecaster from a bundle's parameters; ValueError names what does not fit the type."""
    if kind in ("lstm", "gru"):
        return _neural(kind).restore(parameters, model_file)
    if kind not in _SIMPLE:
        raise ValueError(f"unknown model type {kind[:20]!r}")
    if model_file is not None:
        raise ValueError(f"a {kind} model has no model file")
    return _SIMPLE[kind].restore(parameters)


def fitted_settings(config: TrainingConfig) -> dict[str, object]:
    """The settings a fit of the config's model type reads, in the config's order: two configs with the same
    ones fit the same model."""
    read = TrainingConfig.model_fields if config.model_type in NETWORK_KINDS else EVERY_FIT_READS
    return {
        name: getattr(config, name) for name in TrainingConfig.model_fields if name in read and name not in NO_FIT_READS
    }
