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


def leaderboard_page():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from ui.leaderboard import show_leaderboard

    worse = "worse than tomorrow = today (Diebold-Mariano p = 0.01)"
    rows = [
        {"kind": kind, "validation_mase": 0.98, "test_mase": 0.99, "dm_pvalue": 0.7, "direction_accuracy": 0.53,
         "coverage": 0.94, "train_seconds": 1.6, "verdict": "no better than tomorrow = today (p = 0.68)"}
        for kind in ("arima", "median", "drift", "ridge", "ets", "lstm")
    ] + [{"kind": "moving_average", "validation_mase": 1.4, "test_mase": 1.5, "verdict": worse}]  # fmt: skip
    show_leaderboard(
        SimpleNamespace(ticker="SPX", created_at=datetime(2026, 1, 2, tzinfo=UTC), metrics={"models": rows})
    )


def test_the_leaderboard_shows_each_verdict_whole_beside_its_model():
    import json

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(leaderboard_page).run()
    assert not at.exception
    table = at.dataframe[0]
    # Eight columns after a long model name ran the verdict off the table's right edge ("no better than tomo").
    assert list(table.value.columns[:2]) == ["Model", "Verdict"]
    width = json.loads(table.proto.columns)["Verdict"]["width"]
    longest = max(table.value["Verdict"], key=len)
    assert longest.startswith("worse than")
    assert width >= 6.5 * len(longest) + 12, "the table's font is about 6.3 px a character, plus the padding"
