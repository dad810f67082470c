"""Every page's headings form an outline a screen reader can walk: one title, and no level skipped below it."""

import pytest

from db.models.accounts import Role
from tests.accounts import logged_in_app, make_account

LEVELS = {"Title": 1, "Header": 2, "Subheader": 3}
PAGES = ["home", "tickers", "indicators", "train", "predictions", "metrics", "account"]


def outline(at) -> list[tuple[int, str]]:
    """The page's headings in the order they are drawn, tabs and expanders included."""
    return [(LEVELS[type(element).__name__], element.value) for element in at.main if type(element).__name__ in LEVELS]


def skipped_levels(headings: list[tuple[int, str]]) -> list[str]:
    deepest = 0
    skipped = []
    for level, text in headings:
        if level > deepest + 1:
            skipped.append(f"h{level} {text!r} after h{deepest}")
        deepest = level
    return skipped


@pytest.mark.parametrize("page", PAGES)
def test_no_heading_skips_a_level(spx_database, page):
    # Home, Train and Indicators went from the page's h1 straight to h3 sections: a screen reader's list of
    # headings showed them as subsections of nothing.
    at = logged_in_app(f"app_pages/{page}.py", make_account(spx_database, role=Role.ADMIN)).run()
    assert not at.exception
    headings = outline(at)
    assert [level for level, _ in headings].count(1) == 1, headings
    assert skipped_levels(headings) == []
