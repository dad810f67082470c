"""The direction p-values of many models at once, and the Diebold-Mariano p, equal scipy.stats' own."""

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import binomtest
from scipy.stats import t as student_t

from common.config import PROJECT_ROOT
from core.forecasting import metrics


def pairs() -> list[tuple[int, int]]:
    """(hits, days): every count up to 60 days, then a spread up to 5,000, with 0 and all days in each."""
    found = [(hits, days) for days in range(1, 61) for hits in range(days + 1)]
    rng = np.random.default_rng(11)
    for days in rng.integers(61, 5_000, 300):
        found += [(0, int(days)), (int(days), int(days)), (1, int(days)), (int(days) - 1, int(days))]
        found += [(int(hits), int(days)) for hits in rng.integers(0, days + 1, 5)]
        found.append((int(days) // 2, int(days)))
    return found


def test_direction_p_values_are_binomtest_s_on_every_pair():
    hits, days = map(np.array, zip(*pairs(), strict=True))
    expected = [binomtest(int(k), int(n), 0.5, alternative="greater").pvalue for k, n in zip(hits, days, strict=True)]
    # To the last digits or so: a figure is shown to three, never rounded across 5 % (p_value_figure).
    assert metrics.direction_p_values(hits, days).tolist() == pytest.approx(expected, rel=1e-10, abs=1e-250)
    assert [metrics.direction_p_value(int(k), int(n)) for k, n in zip(hits, days, strict=True)] == pytest.approx(
        expected, rel=1e-10, abs=1e-250
    )


def test_no_days_has_no_p_value_beside_those_that_have():
    values = metrics.direction_p_values(np.array([0, 3, 0]), np.array([0, 4, 2]))
    assert math.isnan(values[0])
    assert values[1:].tolist() == [5 / 16, 1.0]
    assert metrics.direction_p_values(np.array([], dtype=int), np.array([], dtype=int)).tolist() == []


@pytest.mark.parametrize(
    ("hits", "days", "problem"),
    [([5], [4], "5 hits in 4 days"), ([-1], [4], "-1 hits in 4 days"), ([1, 2], [3], "as many hits as days")],
)
def test_impossible_counts_are_refused_by_name(hits, days, problem):
    with pytest.raises(ValueError, match=problem):
        metrics.direction_p_values(np.array(hits), np.array(days))


def test_the_diebold_mariano_p_is_student_t_s():
    rng = np.random.default_rng(5)
    for days in (3, 4, 10, 31, 250, 2_000):
        actual = 100 + np.cumsum(rng.normal(0, 1, days))
        predicted = actual + rng.normal(0, 1, days)
        benchmark = actual + rng.normal(0, 1.2, days)
        statistic, p_value = metrics.diebold_mariano(actual, predicted, benchmark)
        assert p_value == 2 * student_t.sf(abs(statistic), df=days - 1)


def test_scoring_forecasts_does_not_load_scipy_stats():
    # scipy.stats takes most of a second to import: the Predictions page's first visit paid it for two p-values.
    script = (
        "import sys\n"
        "import numpy as np\n"
        "from core.forecasting import metrics\n"
        "rng = np.random.default_rng(1)\n"
        "actual = 100 + np.cumsum(rng.normal(0, 1, 60))\n"
        "metrics.diebold_mariano(actual, actual + rng.normal(0, 1, 60), actual + rng.normal(0, 1, 60))\n"
        "metrics.direction_p_values(np.array([30, 2]), np.array([60, 2]))\n"
        "metrics.direction_p_value(7, 10)\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert answer.stdout.strip() == "False", answer.stderr
