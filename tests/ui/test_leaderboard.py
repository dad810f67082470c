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


def test_the_leaderboard_says_autos_validation_score_is_measured_where_its_weights_were_fitted():
    from streamlit.testing.v1 import AppTest

    def page():
        from datetime import UTC, datetime
        from types import SimpleNamespace

        from ui.leaderboard import show_leaderboard

        rows = [{"kind": "auto", "validation_mase": 0.99, "test_mase": 1.0}, {"kind": "ridge", "validation_mase": 1.0}]
        show_leaderboard(
            SimpleNamespace(ticker="SPX", created_at=datetime(2026, 1, 2, tzinfo=UTC), metrics={"models": rows})
        )

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert "auto's validation MASE is measured on the days its weights were fitted on" in at.caption[0].value
