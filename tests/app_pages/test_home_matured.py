"""Home's predictions that met their day: how many there are, when more than the table shows."""

from datetime import date, timedelta

import pytest

from core.home import MATURED_SHOWN
from db.engine import session_scope
from db.models import Prediction
from db.types import utc_now
from tests.accounts import logged_in_app, make_account

PAGE = "app_pages/home.py"
HIT_MEANS = "hit means the predicted move had the sign of the real one; a forecast of no move makes no call."


@pytest.fixture
def database(spx_database):
    return spx_database


def matured(actor, how_many: int) -> None:
    with session_scope() as session:
        for n in range(how_many):
            day = date(2018, 11, 1) + timedelta(days=n)
            session.add(
                Prediction(
                    user_id=actor.user_id, ticker="SPX", model_type="median", prediction_date=day,
                    target_date=day + timedelta(days=1), base_close=2700.0, predicted_value=2701.0, lower=2650.0,
                    upper=2750.0, actual_value=2710.0, matured_at=utc_now(),
                )
            )  # fmt: skip


@pytest.mark.parametrize(
    ("how_many", "said"), [(30, f"The latest {MATURED_SHOWN} of 30 so far"), (3, "3 so far")], ids=["more", "all"]
)
def test_the_caption_counts_every_prediction_that_met_its_day_not_the_rows_shown(database, how_many, said):
    # With 30 matured, Home said "20 so far": the count was the table's limit.
    actor = make_account(database)
    matured(actor, how_many)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert f"{said}: {HIT_MEANS}" in [c.value for c in at.caption]
    assert len(at.dataframe[1].value) == min(how_many, MATURED_SHOWN), "the watchlist, then these"
