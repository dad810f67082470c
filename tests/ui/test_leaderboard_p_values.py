"""The leaderboard prints each p-value as the verdict in its row does, and says why a coverage is blank."""

from streamlit.testing.v1 import AppTest


def edge_page():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from ui.leaderboard import show_leaderboard

    rows = [
        {"kind": "ridge", "validation_mase": 0.98, "test_mase": 0.97, "dm_pvalue": 0.04996, "coverage": None,
         "verdict": "beats persistence (Diebold-Mariano p = 0.04996)"},
        {"kind": "drift", "validation_mase": 0.99, "test_mase": 0.99, "dm_pvalue": 0.0004, "coverage": 0.95,
         "verdict": "beats persistence (Diebold-Mariano p < 0.001)"},
        {"kind": "persistence", "validation_mase": 1.0, "test_mase": 1.0, "dm_pvalue": None, "coverage": 0.94,
         "verdict": "the same forecast as tomorrow = today"},
    ]  # fmt: skip
    show_leaderboard(
        SimpleNamespace(ticker="SPX", created_at=datetime(2026, 1, 2, tzinfo=UTC), metrics={"models": rows})
    )


def test_each_p_value_reads_as_the_verdict_beside_it_prints_it():
    # At four decimals 0.04996 read 0.0500 beside "beats persistence (p = 0.04996)".
    at = AppTest.from_function(edge_page).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Diebold-Mariano p"]) == ["0.04996", "< 0.001", "—"]


def test_a_blank_coverage_says_its_interval_was_unbounded():
    at = AppTest.from_function(edge_page).run()
    assert not at.exception
    notes = [c.value for c in at.caption if "Interval coverage is blank" in c.value]
    assert len(notes) == 1
    assert "for ridge on 20 lagged returns" in notes[0]
    assert "a 95 % interval needs 19)" in notes[0]
    assert "the interval is unbounded" in notes[0]
