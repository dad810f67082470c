"""Every page names a model, a job and a walk-forward run by the same words."""

import pytest

from core.forecasting.config import TrainingConfig
from core.forecasting.zoo import configured_kind, job_name


@pytest.mark.parametrize(
    ("kind", "config", "name"),
    [
        ("train", TrainingConfig(model_type="auto").model_dump(mode="json"), "training of auto ensemble"),
        ("train", TrainingConfig(model_type="lstm").model_dump(mode="json"), "training of LSTM (Keras)"),
        (
            "walkforward",
            {"model_type": "ridge", "walkforward": {"windows": 3}},
            "walk-forward of ridge on 20 lagged returns + volatility",
        ),
        ("leaderboard", TrainingConfig().model_dump(mode="json"), "leaderboard of every model type"),
    ],
)
def test_a_job_is_named_by_what_it_does_and_the_model_it_trains(kind, config, name):
    assert job_name(kind, config) == name


def test_a_stored_configuration_without_a_model_type_names_the_type_it_trained():
    # A job's configuration is a TrainingConfig as JSON: a field it lacks took TrainingConfig's default.
    assert configured_kind({}) == TrainingConfig().model_type
    assert configured_kind(None) == TrainingConfig().model_type
    assert configured_kind({"model_type": "gru"}) == "gru"
    assert configured_kind({"training": {"model_type": "ets"}, "walkforward": {"windows": 5}}) == "ets"
    assert job_name("train", {"model_type": "from-elsewhere"}) == "training of from-elsewhere"
