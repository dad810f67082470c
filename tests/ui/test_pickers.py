"""What a link asked for and did not find is said in a few short words, however long the link."""

from ui.pickers import SHOWN_URL_CHARS, url_notice


def test_a_long_or_crowded_link_is_quoted_short():
    notice = url_notice({"ticker": ["X" * 5000], "panes": [f"P{n}" for n in range(9)]}, {"ticker": "SPX", "panes": ""})
    assert notice is not None
    assert "X" * SHOWN_URL_CHARS not in notice
    assert "X" * (SHOWN_URL_CHARS - 1) + "…" in notice
    assert "panes P0, P1, P2, P3, P4 and 4 more" in notice
    assert notice.endswith("Shown instead: ticker SPX; panes none.")
    assert len(notice) < 200


def test_a_link_with_nothing_missing_brings_no_notice():
    assert url_notice({"ticker": [], "range": []}, {"ticker": "SPX", "range": "1Y"}) is None
