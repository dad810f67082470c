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
    assert "Getting started" not in [s.value for s in at.subheader]
    assert "Watchlist" in [s.value for s in at.subheader]


def test_an_analyst_is_shown_every_step_numbered(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    assert not at.exception
    assert next(s.value for s in at.subheader) == "Getting started"
    # A page run without the router draws its links as text.
    steps = [m.value.split(" ", 1)[1] for m in at.markdown if m.value.startswith(":material/")]
    assert steps == [
        "1. Load prices on the Tickers page",
        "2. Train a model on the Train page",
        "3. Predict into your ledger",
    ]


def test_every_step_fits_one_line_of_a_phone(database):
    # At 390 px the first step read "1. Load prices: fetch, upload, or the S&P 500 samp", cut mid-word.
    from app_pages.home import PHONE_LINK_CHARS

    at = logged_in_app(PAGE, make_account(database)).run()
    steps = [m.value.split(" ", 1)[1] for m in at.markdown if m.value.startswith(":material/")]
    assert steps
    assert [step for step in steps if len(step) > PHONE_LINK_CHARS] == []
