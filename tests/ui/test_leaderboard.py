"""How model types read in tables."""

from ui.leaderboard import ensemble_mix


def test_an_ensemble_reads_as_its_members_shares_largest_first():
    assert ensemble_mix({"persistence": 0.12, "drift": 0.0, "median": 0.88}) == (
        "median drift 88 %, persistence (tomorrow = today) 12 %"
    )


def test_only_known_models_with_finite_weights_are_named():
    # A version may come from an imported file: its words never reach the table.
    hostile = {"[click](http://evil.example)": 0.9, "median": "0.5", "drift": True, "ridge": float("nan")}
    assert ensemble_mix(hostile) == ""
    assert ensemble_mix(hostile | {"arima": 0.1}) == "ARIMA on log price 10 %"
    assert ensemble_mix(None) == ""
    assert ensemble_mix(["median", 1.0]) == ""
