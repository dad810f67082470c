"""Home's getting-started steps: only those the user's role may take, and none for a role that may take none."""

import pytest

from db.models.accounts import Role
from tests.accounts import logged_in_app, make_account

PAGE = "app_pages/home.py"


@pytest.fixture
def database(spx_database):
    return spx_database


def test_a_viewer_is_not_asked_to_train_or_predict(database):
    # Viewers saw "Getting started" on every visit, with three steps their role refuses.
    at = logged_in_app(PAGE, make_account(database, role=Role.VIEWER)).run()
    assert not at.exception
    assert "Getting started" not in [s.value for s in at.header]
    assert "Watchlist" in [s.value for s in at.header]


def test_an_analyst_is_shown_every_step_numbered(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    assert not at.exception
    assert next(s.value for s in at.header) == "Getting started"
    # A page run without the router draws its links as text.
    steps = [m.value.split(" ", 1)[1] for m in at.markdown if m.value.startswith(":material/")]
    assert steps == [
        "1. Load prices on the Tickers page (done)",
        "2. Train a model on the Train page",
        "3. Predict into your ledger",
    ]


def test_every_step_still_to_take_fits_one_line_of_a_phone(database):
    # At 390 px the first step read "1. Load prices: fetch, upload, or the S&P 500 samp", cut mid-word: a page
    # link is one line, clipped at its box's edge. A done step is text, which wraps.
    from app_pages.home import PHONE_LINK_CHARS

    at = logged_in_app(PAGE, make_account(database)).run()
    links = [m.value.split(" ", 1)[1] for m in at.markdown if m.value.startswith(":material/radio_button")]
    assert len(links) == 2
    assert [link for link in links if len(link) > PHONE_LINK_CHARS] == []


def test_a_done_step_says_done_in_words_not_as_a_disabled_link(database):
    # A screen reader announced a done step as a link that went nowhere; "done" was grey text and a hidden icon.
    at = logged_in_app(PAGE, make_account(database)).run()
    done = [m.value for m in at.markdown if m.value.startswith(":material/check_circle:")]
    assert done == [":material/check_circle: 1. Load prices on the Tickers page (done)"]
