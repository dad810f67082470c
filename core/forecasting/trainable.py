"""What a model type needs of its training days: one rule, asked by its fit and by a job's submit.

A job whose model could only fail in the worker must be refused before it is queued and uses the hour's
quota; the refusal there and the failure in a fit are the same words because they come from here.
"""

from __future__ import annotations

from core.forecasting.config import TrainingConfig
from core.forecasting.dataset import warm_up_days
from core.forecasting.series import Split

NETWORK_MIN_TRAINING = 30  # training windows a network learns from, at least
NETWORK_NAMES = {"lstm": "LSTM", "gru": "GRU"}


def first_network_origin(config: TrainingConfig, complete_from: int = 0) -> int:
    """The first origin whose window holds only complete feature rows: complete_from is the first complete row
    the prices themselves give, when they are at hand (a gap in them can only push it later)."""
    return max(complete_from, warm_up_days(config.features)) + config.window - 1


def network_refusal(kind: str, config: TrainingConfig, split: Split, *, complete_from: int = 0) -> str | None:
    """Why the network cannot train on the split, or None."""
    if config.target != "log_return":
        # Still a valid setting, so that versions which learned the close load and predict as they did.
        return f"the {NETWORK_NAMES.get(kind, kind)} learns the next day's log return: target 'close' is not trained"
    first = first_network_origin(config, complete_from)
    need = first + NETWORK_MIN_TRAINING
    if split.train_end >= need:
        return None
    return (
        f"the {NETWORK_NAMES.get(kind, kind)} needs at least {need:,} training days (a window of {config.window} "
        f"days after the {first - config.window + 1} days its features need); {_left(split)}"
    )


def ridge_refusal(split: Split, lags: int) -> str | None:
    """Why a ridge on `lags` returns cannot be fitted on the split, or None: it wants twice as many examples as
    it has coefficients, each with `lags` returns behind it."""
    need = lags + 2 * (lags + 1)
    if split.train_end >= need:
        return None
    return f"ridge needs at least {need} training days; {_left(split)}"


def _left(split: Split) -> str:
    return f"{max(split.train_end, 0):,} {'is' if split.train_end == 1 else 'are'} left for training"
