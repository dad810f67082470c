"""Training settings: what the check of the validation and test parts lets through, and how it says no."""

import pytest

from core.forecasting.config import ModelSettingsError, TrainingConfig, parse_config


def test_validation_and_test_parts_that_leave_exactly_a_fifth_for_training_are_accepted():
    # 0.4 + 0.4 is 0.8000000000000002 in floating point: "at least 20 %" refused exactly 20 %.
    config = parse_config(validation_fraction=0.4, test_fraction=0.4)
    assert (config.validation_fraction, config.test_fraction) == (0.4, 0.4)
    assert TrainingConfig(validation_fraction=0.35, test_fraction=0.45).test_fraction == 0.45


def test_parts_that_leave_less_than_a_fifth_are_refused_in_the_train_form_s_words():
    with pytest.raises(ModelSettingsError) as refused:
        parse_config(validation_fraction=0.45, test_fraction=0.4)
    assert str(refused.value) == (
        "validation fraction + test fraction must leave at least 20 % of the days for training; 0.45 + 0.4 leaves 15 %"
    )


def test_a_seed_is_one_numpy_and_tensorflow_take():
    from pydantic import ValidationError

    assert TrainingConfig(seed=2**32 - 1).seed == 2**32 - 1
    assert TrainingConfig(seed=0).seed == 0
    for seed in (2**32, -1):
        with pytest.raises(ValidationError):
            TrainingConfig(seed=seed)
    with pytest.raises(ModelSettingsError, match=r"^seed: Input should be less than or equal to 4294967295$"):
        parse_config(seed=2**32)
