"""The scoreboard of a long ledger: hundreds of models, each with binomtest's direction p-value, no scipy.stats."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from common.config import PROJECT_ROOT
from core.predictions import scoreboard
from tests.core.test_predictions import ledger_rows


def many_models(count: int, seed: int = 3) -> pd.DataFrame:
    """Each model its own walk of one-day and three-day runs, 0 to 45 of them; some forecasts are no move."""
    rng = np.random.default_rng(seed)
    frames = []
    for number in range(count):
        actuals = dict(enumerate(100 + np.cumsum(rng.normal(0, 1, 60))))
        runs = []
        for day in range(int(rng.integers(0, 46))):
            steps = 1 if day % 4 else 3
            moves = rng.normal(0, 1, steps) * (rng.random() > 0.1)  # a tenth of the runs forecast no move
            runs.append((day, [actuals[day] + move for move in moves]))
        frames.append(ledger_rows(runs, actuals, model=f"T{number:03d} v1 · ridge"))
    return pd.concat(frames, ignore_index=True)


def binomtest_of_one_day_forecasts(ledger: pd.DataFrame) -> dict[str, float]:
    """binomtest's p-value of each model's one-day forecasts, counted as the scoreboard counts them."""
    from scipy.stats import binomtest  # here: the fresh process below must not have it loaded by this module

    first_days = ledger.groupby(["model", "prediction_date"])["target_date"].transform("min")
    one_day = ledger[ledger["target_date"] == first_days]
    found = {}
    for model, rows in one_day.groupby("model"):
        actual = (rows["actual_value"] - rows["base_close"]).to_numpy()
        predicted = (rows["predicted_value"] - rows["base_close"]).to_numpy()
        counted = (actual != 0) & (predicted != 0)
        hits, days = int((np.sign(actual[counted]) == np.sign(predicted[counted])).sum()), int(counted.sum())
        found[model] = binomtest(hits, days, 0.5, alternative="greater").pvalue if days else float("nan")
    return found


def test_three_hundred_models_each_get_binomtest_s_p_value():
    ledger = many_models(300)
    board = scoreboard(ledger).set_index("model")
    expected = binomtest_of_one_day_forecasts(ledger)
    assert len(board) == len(expected) == ledger["model"].nunique()
    got = board["hit_p_value"].to_dict()
    assert {model: p for model, p in got.items() if not np.isnan(p)} == pytest.approx(
        {model: p for model, p in expected.items() if not np.isnan(p)}, rel=1e-10
    )
    assert {model for model, p in got.items() if np.isnan(p)} == {model for model, p in expected.items() if np.isnan(p)}


def test_a_scoreboard_in_a_fresh_process_leaves_scipy_stats_unloaded():
    # The Predictions page's first visit with a long ledger imported scipy.stats for the p-values: most of a second.
    script = (
        "import sys\n"
        "from tests.core.test_scoreboard_many_models import many_models\n"
        "from core.predictions import scoreboard\n"
        "board = scoreboard(many_models(40))\n"
        "assert board['dm_pvalue'].notna().any() and board['hit_p_value'].notna().any()\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=300
    )
    assert answer.stdout.strip().splitlines()[-1] == "False", answer.stderr


def test_the_p_values_of_every_model_come_from_one_call(monkeypatch):
    from core.forecasting import metrics

    calls = []
    real = metrics.direction_p_values

    def counted(hits, days):
        calls.append(len(hits))
        return real(hits, days)

    monkeypatch.setattr(metrics, "direction_p_values", counted)
    board = scoreboard(many_models(300))
    assert calls == [len(board)]
