"""A version's test split judged as walk-forward runs are: too few days untested, an unbounded interval uncovered."""

import math

from core.forecasting.config import parse_config
from core.forecasting.history import MIN_TEST_DAYS
from core.forecasting.training import train_model
from tests.core.forecasting.tiny import fixture_prices


def test_a_test_split_of_a_few_days_is_not_tested():
    result = train_model(fixture_prices(), parse_config(model_type="drift", test_fraction=0.02))
    days = result.metrics["test_days"]
    assert days < MIN_TEST_DAYS
    assert result.metrics["dm_pvalue"] is None or math.isnan(result.metrics["dm_pvalue"])
    assert result.verdict == f"not tested: {days} of the {MIN_TEST_DAYS} days a Diebold-Mariano test needs"


def test_an_interval_from_too_few_validation_days_has_no_coverage():
    # 5 % of the 2018 slice leaves fewer validation residuals than a 95 % interval needs: it is unbounded,
    # and every test day "inside" it read as 100 % coverage.
    result = train_model(fixture_prices(), parse_config(model_type="drift", validation_fraction=0.05))
    assert result.metrics["interval_scale"] is None or math.isinf(result.metrics["interval_scale"])
    for stored in ("test_coverage", "validation_coverage"):
        assert result.metrics[stored] is None or math.isnan(result.metrics[stored]), stored
    bounded = train_model(fixture_prices(), parse_config(model_type="drift"))
    assert 0 < bounded.metrics["test_coverage"] <= 1
