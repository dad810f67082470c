"""Predictions: stored with their intervals, matured exactly once, scored beside persistence."""

import datetime

import pandas as pd
import pytest
from limits.storage import MemoryStorage
from sqlalchemy import select

from common.config import load_settings
from core.data.frames import normalise_provider_frame
from core.forecasting.registry import delete, save_version
from core.predictions import (
    MIN_SCOREBOARD_DAYS,
    PredictionError,
    fill_matured,
    ledger_with_outcomes,
    predict,
    scoreboard,
)
from core.throttle import Throttle
from db.models import Prediction
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.prices import upsert_prices
from db.repositories.users import create_user
from tests.core.forecasting.tiny import tiny_result
from tests.fixtures import gspc_2018_frame


@pytest.fixture
def actor(session):
    return Actor.of(create_user(session=session, username="pam", email="pam@example.com", password_hash="x"))


def bars(until=None) -> pd.DataFrame:
    frame = normalise_provider_frame(gspc_2018_frame()).frame
    return frame if until is None else frame[frame["date"] <= until]


def make(session, actor, days=3, **options):
    made = predict_made(session, actor, days, **options)
    assert {row.model_version_id for row in made.rows} == {made.version.id}
    return made.rows


def test_predictions_are_stored_with_widening_intervals(session, actor):
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    rows = make(session, actor, days=3)
    # 2019-01-01 is a New York Stock Exchange holiday: the first forecast is for the next session.
    assert [r.target_date.isoformat() for r in rows] == ["2019-01-02", "2019-01-03", "2019-01-04"]
    assert {r.prediction_date.isoformat() for r in rows} == {"2018-12-31"}
    assert all(r.base_close == pytest.approx(2506.850098) for r in rows)
    widths = [r.upper - r.lower for r in rows]
    assert widths[0] < widths[1] < widths[2]
    assert all(r.lower < r.predicted_value < r.upper for r in rows)
    assert all(0 <= r.confidence_score < 1 for r in rows)
    assert len(session.scalars(select(Prediction)).all()) == 3


def test_without_a_model_the_message_says_what_to_do(session, actor):
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    with pytest.raises(PredictionError, match="no active model for PRD: train one on the Train page first"):
        make(session, actor)


def test_matured_predictions_get_their_actual_exactly_once(session, actor):
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 30)), ticker="PRD", owner_id=None, source="yahoo"
    )
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    rows = make(session, actor, days=3)
    # 5 December 2018 the exchange was closed (a national day of mourning): the calendar knows it.
    assert [r.target_date.isoformat() for r in rows] == ["2018-12-03", "2018-12-04", "2018-12-06"]
    assert fill_matured(session=session, ticker="PRD") == 0
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 12, 4)), ticker="PRD", owner_id=None, source="yahoo"
    )
    assert fill_matured(session=session, ticker="PRD") == 2
    assert fill_matured(session=session, ticker="PRD") == 0, "exactly once"
    session.expire_all()
    actual = {r.target_date.isoformat(): r.actual_value for r in session.scalars(select(Prediction))}
    closes = bars().set_index("date")["close"]
    assert actual["2018-12-03"] == pytest.approx(closes[datetime.date(2018, 12, 3)])
    assert actual["2018-12-06"] is None, "not traded yet"
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    assert fill_matured(session=session, ticker="PRD") == 1
    session.expire_all()
    late = session.scalar(select(Prediction).where(Prediction.target_date == datetime.date(2018, 12, 6)))
    assert late.actual_value == pytest.approx(closes[datetime.date(2018, 12, 6)])
    assert rows


def test_ledger_and_scoreboard_by_hand(session, actor):
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    version = save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    for day, predicted, actual in ((2, 101.0, 102.0), (3, 99.0, 98.0), (4, 103.0, 110.0), (5, 100.5, None)):
        session.add(
            Prediction(
                user_id=actor.user_id,
                model_version_id=version.id,
                ticker="PRD",
                prediction_date=datetime.date(2018, 1, day),
                target_date=datetime.date(2018, 1, day + 1),
                base_close=100.0,
                predicted_value=predicted,
                lower=95.0,
                upper=105.0,
                actual_value=actual,
            )
        )
    session.flush()
    ledger = ledger_with_outcomes(session=session, actor=actor)
    assert [None if pd.isna(inside) else bool(inside) for inside in ledger["inside"]] == [None, False, True, True]
    board = scoreboard(ledger).iloc[0]
    assert board["predictions"] == 3
    assert board["mae"] == pytest.approx((1 + 1 + 7) / 3)
    assert board["persistence_mae"] == pytest.approx((2 + 2 + 10) / 3)
    assert board["mase"] == pytest.approx(9 / 14)
    assert board["hit_rate"] == pytest.approx(1.0)
    assert board["hit_p_value"] == pytest.approx(1 / 8)
    assert board["coverage"] == pytest.approx(2 / 3)
    # Better MAE on three days is no evidence: the verdict says so.
    assert pd.isna(board["dm_pvalue"])
    assert board["verdict"] == f"not tested yet: 3 of {MIN_SCOREBOARD_DAYS} one-day forecasts have met their close"


def test_the_ledger_names_each_model_by_version_and_type_and_keeps_a_deleted_one_s_rows(session, actor):
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    kept = save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=2)
    gone = save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=1, version_id=gone.id)
    assert delete(session=session, actor=actor, version_id=gone.id) == 1, "the predictions it leaves in the ledger"
    ledger = ledger_with_outcomes(session=session, actor=actor)
    assert sorted(ledger["model"]) == [
        "PRD v1 · LSTM (Keras)",
        "PRD v1 · LSTM (Keras)",
        "PRD v2 · LSTM (Keras), deleted",
    ]
    assert list(ledger["model_type"]) == ["lstm"] * 3, "the type as the API stores it, kept after deletion"
    assert kept.version == 1


def test_deleted_models_of_two_tickers_are_scored_apart(session, actor):
    # Rows made before 0013 kept no version number: once their version is deleted, only the ticker is left.
    for ticker, base in (("BIG", 2500.0), ("SMALL", 25.0)):
        for day, move in ((2, 0.01), (3, -0.02)):
            session.add(
                Prediction(
                    user_id=actor.user_id,
                    model_version_id=None,
                    ticker=ticker,
                    prediction_date=datetime.date(2018, 1, day),
                    target_date=datetime.date(2018, 1, day + 1),
                    base_close=base,
                    predicted_value=base,
                    lower=base * 0.9,
                    upper=base * 1.1,
                    actual_value=base * (1 + move),
                )
            )
    session.flush()
    board = scoreboard(ledger_with_outcomes(session=session, actor=actor)).set_index("model")
    assert sorted(board.index) == ["BIG · deleted model", "SMALL · deleted model"], "not one row of two scales"
    assert board.loc["SMALL · deleted model", "mae"] == pytest.approx((0.25 + 0.5) / 2)


def test_others_never_see_my_ledger(session, actor):
    other = Actor.of(create_user(session=session, username="oli", email="oli@example.com", password_hash="x"))
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=2)
    assert len(ledger_with_outcomes(session=session, actor=actor)) == 2
    assert ledger_with_outcomes(session=session, actor=other).empty
    assert scoreboard(ledger_with_outcomes(session=session, actor=other)).empty


def test_an_admin_does_not_read_another_users_ledger(session, actor):
    """Admins manage accounts, not other people's analyses: the ledger is its owner's alone."""
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=2)
    admin = Actor.of(
        create_user(session=session, username="ada", email="ada@example.com", password_hash="x", role=Role.ADMIN)
    )
    assert len(ledger_with_outcomes(session=session, actor=actor)) == 2
    assert ledger_with_outcomes(session=session, actor=admin).empty


def test_a_split_between_the_prediction_and_its_day_is_not_scored_as_a_move(session, actor):
    # A 2:1 split on 2018-12-03, in the raw closes only: the adjusted close runs through it.
    before = bars(until=datetime.date(2018, 11, 30))
    upsert_prices(session=session, frame=before, ticker="PRD", owner_id=None, source="yahoo")
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=3)
    later = bars()
    after_split = later["date"] >= datetime.date(2018, 12, 3)
    later.loc[after_split, ["open", "high", "low", "close"]] /= 2
    upsert_prices(session=session, frame=later, ticker="PRD", owner_id=None, source="yahoo")
    assert fill_matured(session=session, ticker="PRD") == 3
    ledger = ledger_with_outcomes(session=session, actor=actor).set_index("target_date")
    closes = bars().set_index("date")["close"]
    first = ledger.loc[datetime.date(2018, 12, 3)]
    assert first["actual_close"] == pytest.approx(closes[datetime.date(2018, 12, 3)] / 2), "as traded"
    assert first["actual_value"] == pytest.approx(closes[datetime.date(2018, 12, 3)]), "on the prediction day's scale"
    assert abs(first["error"]) < 0.05 * first["predicted_value"]
    assert bool(first["inside"])


def test_a_day_missing_from_the_prices_is_not_filled_with_the_next_days_close(session, actor):
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 30)), ticker="PRD", owner_id=None, source="yahoo"
    )
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=3)
    gap = bars()
    gap = gap[gap["date"] != datetime.date(2018, 12, 4)]
    upsert_prices(session=session, frame=gap, ticker="PRD", owner_id=None, source="yahoo")
    assert fill_matured(session=session, ticker="PRD") == 2, "2018-12-04 traded, but its price is not stored yet"
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    assert fill_matured(session=session, ticker="PRD") == 1
    session.expire_all()
    filled = session.scalar(select(Prediction).where(Prediction.target_date == datetime.date(2018, 12, 4)))
    assert filled.actual_value == pytest.approx(bars().set_index("date")["close"][datetime.date(2018, 12, 4)])


def ledger_rows(runs: list[tuple[int, list[float]]], actuals: dict[int, float], *, model="M v1") -> pd.DataFrame:
    """Matured ledger rows: each run made on day `made` forecasts the next days; base is that day's actual."""
    rows = []
    for made, forecasts in runs:
        for step, predicted in enumerate(forecasts, start=1):
            rows.append(
                {
                    "model": model,
                    "prediction_date": datetime.date(2018, 1, 1) + datetime.timedelta(days=made),
                    "target_date": datetime.date(2018, 1, 1) + datetime.timedelta(days=made + step),
                    "base_close": actuals[made],
                    "predicted_value": predicted,
                    "lower": predicted - 5,
                    "upper": predicted + 5,
                    "actual_value": actuals[made + step],
                }
            )
    return pd.DataFrame(rows)


def test_the_scoreboard_counts_a_forecast_repeated_once_and_tests_one_day_ahead_forecasts():
    import numpy as np

    rng = np.random.default_rng(4)
    actuals = dict(enumerate(100 + np.cumsum(rng.normal(0, 1, 70))))
    once = ledger_rows([(day, [actuals[day] + rng.normal(0, 0.5)]) for day in range(60)], actuals)
    board = scoreboard(once).iloc[0]
    thrice = scoreboard(pd.concat([once, once, once])).iloc[0]
    assert (thrice["predictions"], thrice["dm_days"]) == (60, 60), "pressing Predict again adds no evidence"
    assert thrice["dm_pvalue"] == pytest.approx(board["dm_pvalue"])
    # Five-day runs overlap: only each run's first day enters the test, as independent one-day forecasts.
    runs = [(day, [actuals[day] + rng.normal(0, 0.5) for _ in range(5)]) for day in range(0, 60, 2)]
    five = scoreboard(ledger_rows(runs, actuals)).iloc[0]
    assert (five["predictions"], five["dm_days"]) == (150, 30)


def test_the_direction_test_takes_one_day_forecasts_only_as_the_diebold_mariano_test_does():
    # Each run's first day is a coin toss (up, then down); its later days all rose from the run's base.
    # Counted together, 150 overlapping rows of 30 runs made an always-up model "significant" (p < 1e-20).
    actuals = {}
    for made in range(0, 60, 2):
        actuals[made] = 100.0
        actuals[made + 1] = 101.0 if made % 4 == 0 else 99.0
    actuals = {day: actuals.get(day, 100.0) for day in range(70)}
    runs = [(made, [actuals[made] + 1.0] * 5) for made in range(0, 60, 2)]
    rows = ledger_rows(runs, actuals)
    rows.loc[rows["target_date"] > rows["prediction_date"] + datetime.timedelta(days=1), "actual_value"] = 103.0
    board = scoreboard(rows).iloc[0]
    assert (board["predictions"], board["dm_days"]) == (150, 30)
    assert board["hit_rate"] == pytest.approx(0.5)
    assert board["hit_p_value"] > 0.4


def test_a_run_whose_first_day_has_not_matured_gives_no_one_day_forecast():
    # The second day of a run is a two-day forecast even while its first day waits for its close.
    actuals = {day: 100.0 + (day % 3) for day in range(40)}
    rows = ledger_rows([(made, [actuals[made] + 0.5] * 2) for made in range(0, 30, 2)], actuals)
    waiting = rows["prediction_date"] == rows["prediction_date"].max()
    first_day = rows["target_date"] == rows["prediction_date"] + datetime.timedelta(days=1)
    rows.loc[waiting & first_day, "actual_value"] = None
    board = scoreboard(rows).iloc[0]
    assert (board["predictions"], board["dm_days"]) == (29, 14)
    alone = scoreboard(rows[waiting]).iloc[0]
    assert (alone["predictions"], alone["dm_days"]) == (1, 0)
    assert alone[["hit_rate", "hit_p_value", "dm_pvalue", "one_day_mase"]].isna().all()
    assert alone["verdict"] == "not tested yet: no one-day forecast has met its close"


def five_day_runs_right_on_the_first_day_and_wild_after(runs: int = 60) -> pd.DataFrame:
    """Runs whose one-day forecast is persistence plus 30 % of the real move (its error 70 % of persistence's),
    and whose later days overshoot: as the auditor's ledger, a MASE over every horizon of 2.41."""
    import numpy as np

    rng = np.random.default_rng(0)
    actuals = dict(enumerate(100 + np.cumsum(rng.normal(0, 1, runs + 6))))
    forecasts = []
    for made in range(runs):
        base = actuals[made]
        first = base + 0.3 * (actuals[made + 1] - base)
        later = [base + rng.normal(0, 3 * abs(actuals[made + step] - base) + 1) for step in range(2, 6)]
        forecasts.append((made, [first, *later]))
    return ledger_rows(forecasts, actuals)


def test_the_one_day_mase_beside_the_verdict_is_of_the_forecasts_the_verdict_tested():
    # The row read "MASE 2.41" beside "beats persistence": that MASE took every horizon, the verdict one-day ones.
    board = scoreboard(five_day_runs_right_on_the_first_day_and_wild_after()).iloc[0]
    assert board["verdict"] == "beats persistence (Diebold-Mariano p < 0.001)"
    assert board["one_day_mase"] == pytest.approx(0.7)
    assert board["mase"] > 1, "the later days' errors still count in the figures of every horizon"
    columns = list(board.index)
    assert columns[1:3] == ["verdict", "one_day_mase"], "read beside the verdict it agrees with"


def test_a_version_that_forecasts_no_move_is_said_to_be_persistence_on_the_scoreboard():
    actuals = {day: 100.0 + day % 3 for day in range(40)}
    board = scoreboard(ledger_rows([(day, [actuals[day]]) for day in range(30)], actuals)).iloc[0]
    assert board["verdict"] == "the same forecast as tomorrow = today"


def up_days_of_a_drift(count: int) -> pd.DataFrame:
    """One-day forecasts of +0.05 % a day (as median drift and auto make), each before an up day larger than that."""
    import numpy as np

    closes = [5000.0, 5031.7, 5049.2, 5090.4, 5101.9, 5130.3][: count + 1]
    actuals = dict(enumerate(closes))
    return ledger_rows([(day, [actuals[day] * np.exp(0.0005)]) for day in range(count)], actuals)


def test_four_up_days_after_a_drift_s_forecasts_are_no_evidence_that_it_beats_persistence():
    # The loss differential barely varied over the four days, so its t statistic was -268: "p < 0.001".
    board = scoreboard(up_days_of_a_drift(4)).iloc[0]
    assert board["dm_days"] == 4
    assert pd.isna(board["dm_pvalue"])
    assert board["verdict"] == f"not tested yet: 4 of {MIN_SCOREBOARD_DAYS} one-day forecasts have met their close"


def test_three_forecasts_that_miss_by_the_same_amount_as_persistence_give_no_p_value():
    # Every day the forecast erred 0.1 less than tomorrow = today: a variance of 0 made p exactly 0.
    actuals = {0: 100.0, 1: 101.0, 2: 100.0, 3: 101.2, 4: 100.0, 5: 100.8}
    rows = ledger_rows([(day, [100.1]) for day in (0, 2, 4)], actuals)
    board = scoreboard(rows).iloc[0]
    assert pd.isna(board["dm_pvalue"])
    assert board["verdict"] == f"not tested yet: 3 of {MIN_SCOREBOARD_DAYS} one-day forecasts have met their close"


def test_one_matured_forecast_is_counted_as_one_in_the_verdict():
    board = scoreboard(up_days_of_a_drift(1)).iloc[0]
    assert board["verdict"] == f"not tested yet: 1 of {MIN_SCOREBOARD_DAYS} one-day forecasts has met its close"


def test_a_version_that_forecasts_no_move_is_said_to_be_persistence_from_its_first_days():
    actuals = {day: 100.0 + day % 3 for day in range(10)}
    board = scoreboard(ledger_rows([(day, [actuals[day]]) for day in range(4)], actuals)).iloc[0]
    assert board["verdict"] == "the same forecast as tomorrow = today"
    assert pd.isna(board["dm_pvalue"])


def test_sixty_days_of_real_skill_get_a_verdict():
    import numpy as np

    rng = np.random.default_rng(8)
    actuals = dict(enumerate(100 + np.cumsum(rng.normal(0, 1, 70))))
    # Forecasts that know a little of the next close: errors a third of persistence's.
    runs = [(day, [actuals[day + 1] + rng.normal(0, 0.3)]) for day in range(60)]
    board = scoreboard(ledger_rows(runs, actuals)).iloc[0]
    assert board["dm_days"] == 60
    assert board["dm_pvalue"] < 0.001
    assert board["verdict"] == "beats persistence (Diebold-Mariano p < 0.001)"


def test_prices_ending_before_the_exchange_s_calendar_are_refused_in_plain_words(session, actor):
    from common.errors import BadInput
    from core.forecasting.config import TrainingConfig
    from core.forecasting.training import train_model
    from tests.core.forecasting.tiny import fixture_prices

    # Moved back by whole weeks, so the last day, a Monday at the end of 2018, is Christmas Day 1989.
    moved = bars().assign(date=lambda frame: frame["date"] - datetime.timedelta(weeks=1514))
    upsert_prices(session=session, frame=moved, ticker="PRD", owner_id=None, source="yahoo")
    median = train_model(fixture_prices(), TrainingConfig(model_type="median"), ticker="PRD")
    save_version(session=session, actor=actor, ticker="PRD", result=median)
    with pytest.raises(BadInput) as refused:
        predict_made(session, actor, days=2)
    assert str(refused.value) == (
        "PRD's trading days after 1989-12-25 are unknown: the calendar of its exchange (XNYS) starts on 1990-01-02. "
        "Forecasts need prices that reach 1990-01-02 or later."
    )
    assert session.scalars(select(Prediction)).all() == []


def test_predicting_again_keeps_the_rows_already_in_the_ledger(session, actor):
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    first = predict_made(session, actor, days=3)
    again = predict_made(session, actor, days=3)
    assert (first.added, again.added) == (3, 0)
    assert [r.id for r in again.rows] == [r.id for r in first.rows], "the forecast kept is the first one"
    longer = predict_made(session, actor, days=5)
    assert longer.added == 2, "only the two new target days are new forecasts"
    assert [r.id for r in longer.rows][:3] == [r.id for r in first.rows]
    assert [r.target_date for r in longer.rows] == sorted(r.target_date for r in longer.rows)
    assert len(session.scalars(select(Prediction)).all()) == 5
    assert len(ledger_with_outcomes(session=session, actor=actor)) == 5


def test_the_database_refuses_a_second_copy_of_a_forecast(session, actor):
    from sqlalchemy.exc import IntegrityError

    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    (row,) = make(session, actor, days=1)
    copy = {c: getattr(row, c) for c in ("user_id", "model_version_id", "ticker", "prediction_date", "target_date")}
    session.add(Prediction(**copy, predicted_value=1.0))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def test_each_deleted_version_keeps_its_name_and_its_own_forecasts(session, actor):
    first = save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    second = save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    # Rows as predict() writes them (named after their version), on days with known actuals.
    for version, predicted in ((first, 101.0), (second, 110.0)):
        for day in (3, 4, 5):
            session.add(
                Prediction(
                    user_id=actor.user_id, model_version_id=version.id, ticker="PRD",
                    model_version_number=version.version, model_type=version.model_type,
                    prediction_date=datetime.date(2018, 12, day), target_date=datetime.date(2018, 12, day + 1),
                    base_close=100.0, predicted_value=predicted, lower=90.0, upper=120.0, actual_value=100.0,
                )
            )  # fmt: skip
    session.flush()
    before = scoreboard(ledger_with_outcomes(session=session, actor=actor)).set_index("model")
    delete(session=session, actor=actor, version_id=first.id)
    delete(session=session, actor=actor, version_id=second.id)
    after = scoreboard(ledger_with_outcomes(session=session, actor=actor)).set_index("model")
    assert list(after["predictions"]) == [3, 3]
    assert sorted(after["mae"]) == pytest.approx([1.0, 10.0])
    assert [name.removesuffix(", deleted") for name in after.index] == list(before.index)
    assert all(name.endswith(", deleted") for name in after.index)


def test_a_prediction_says_when_its_prices_are_stale(session, actor):
    from core.predictions import prices_are_stale

    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    made = predict_made(session, actor, days=1)
    assert (made.last_bar, made.stale) == (datetime.date(2018, 12, 31), True), "years old"
    # 2019-01-01 was a holiday: until the 2nd's close (21:00 UTC) the newest close that must exist is the 31st's.
    before_close = datetime.datetime(2019, 1, 2, 20, 59, tzinfo=datetime.UTC)
    assert prices_are_stale("PRD", datetime.date(2018, 12, 31), now=before_close) is False
    assert prices_are_stale("PRD", datetime.date(2018, 12, 28), now=before_close) is True
    after_close = datetime.datetime(2019, 1, 2, 21, 0, tzinfo=datetime.UTC)
    assert prices_are_stale("PRD", datetime.date(2018, 12, 31), now=after_close) is True, "due from the close"


NEW_YORK_CLOSE_OF_3_DEC = datetime.datetime(2018, 12, 3, 21, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("ticker", "closes_at"),
    [("PRD", NEW_YORK_CLOSE_OF_3_DEC), ("BTC-USD", datetime.datetime(2018, 12, 4, 0, 0, tzinfo=datetime.UTC))],
)
def test_a_target_day_whose_session_is_still_open_is_not_matured(session, actor, ticker, closes_at):
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 30)), ticker=ticker, owner_id=None, source="yahoo"
    )
    version = save_version(session=session, actor=actor, ticker=ticker, result=tiny_result())
    session.add(
        Prediction(
            user_id=actor.user_id, model_version_id=version.id, ticker=ticker,
            prediction_date=datetime.date(2018, 11, 30), target_date=datetime.date(2018, 12, 3), base_close=100.0,
            predicted_value=101.0,
        )
    )  # fmt: skip
    # The bar of the day so far, as a data source serves it before the close.
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 12, 3)), ticker=ticker, owner_id=None, source="yahoo"
    )
    second = datetime.timedelta(seconds=1)
    assert fill_matured(session=session, ticker=ticker, now=closes_at - second) == 0
    assert fill_matured(session=session, ticker=ticker, now=closes_at + second) == 1


def test_a_corrected_close_corrects_the_ledger(session, actor):
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 30)), ticker="PRD", owner_id=None, source="yahoo"
    )
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=1)
    wrong = bars(until=datetime.date(2018, 12, 3))
    wrong.loc[wrong["date"] == datetime.date(2018, 12, 3), ["close", "adjusted_close"]] *= 0.98
    upsert_prices(session=session, frame=wrong, ticker="PRD", owner_id=None, source="yahoo")
    assert fill_matured(session=session, ticker="PRD") == 1
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    assert fill_matured(session=session, ticker="PRD") == 1, "the corrected close"
    assert fill_matured(session=session, ticker="PRD") == 0, "nothing changed since"
    ledger = ledger_with_outcomes(session=session, actor=actor)
    assert ledger["actual_close"].iloc[0] == pytest.approx(
        bars().set_index("date")["close"][datetime.date(2018, 12, 3)]
    )


def predict_made(session, actor, days, **options):
    return predict(
        session=session,
        actor=actor,
        ticker="PRD",
        days=days,
        settings=load_settings(),
        throttle=Throttle(MemoryStorage()),
        **options,
    )


def add_predictions(session, actor, count, *, ticker="PRD", version=None, made_at=None):
    """`count` unmatured predictions, some on one target day and made at one moment, so only the id orders them."""
    made_at = made_at or datetime.datetime(2026, 1, 5, 12, 0, tzinfo=datetime.UTC)
    rows = [
        Prediction(
            user_id=actor.user_id, model_version_id=version.id if version else None, ticker=ticker,
            model_version_number=version.version if version else 1, model_type="ridge",
            prediction_date=datetime.date(2018, 11, 1) + datetime.timedelta(days=n),
            target_date=datetime.date(2018, 12, 3) + datetime.timedelta(days=n // 3), base_close=100.0,
            predicted_value=100.0 + n, lower=90.0, upper=110.0, created_at=made_at + datetime.timedelta(seconds=n % 2),
        )
        for n in range(count)
    ]  # fmt: skip
    session.add_all(rows)
    session.flush()
    return rows


def test_the_ledger_is_read_a_page_at_a_time_each_row_once(session, actor):
    from core.predictions import ledger_page, ledger_position

    add_predictions(session, actor, 8)
    whole = ledger_with_outcomes(session=session, actor=actor)
    pages = [ledger_page(session=session, actor=actor, limit=3)]
    while pages[-1].next_cursor is not None:
        after = ledger_position(pages[-1].next_cursor)
        pages.append(ledger_page(session=session, actor=actor, limit=3, after=after))
    assert [len(page.rows) for page in pages] == [3, 3, 2]
    walked = pd.concat([page.rows for page in pages], ignore_index=True)
    assert list(walked["id"]) == list(whole["id"]), "the whole ledger's order, each row once"
    assert list(walked.columns) == list(whole.columns), "a page's rows are the ledger's rows"


def test_a_ledger_cursor_reads_back_to_its_position_and_nothing_else_reads_as_one(session, actor):
    from core.predictions import LedgerCursorError, ledger_page, ledger_position

    add_predictions(session, actor, 3)
    first = ledger_page(session=session, actor=actor, limit=1)
    position = ledger_position(first.next_cursor)
    assert position.id == first.rows["id"].iloc[0]
    assert position.target_date == first.rows["target_date"].iloc[0]
    with pytest.raises(LedgerCursorError, match="not a cursor this API gave"):
        ledger_position(first.next_cursor[:-3])
    with pytest.raises(LedgerCursorError, match="not a cursor this API gave"):
        ledger_position("ü")


def test_the_ledger_freshness_changes_with_whatever_the_ledger_shows(session, actor):
    from core.predictions import ledger_freshness

    def fresh():
        session.flush()
        return ledger_freshness(session=session, actor=actor)

    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 30)), ticker="PRD", owner_id=None, source="yahoo"
    )
    version = save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    seen = [fresh()]
    assert fresh() == seen[-1], "nothing changed, nothing to read again"
    make(session, actor, days=1)
    seen.append(fresh())
    wrong = bars(until=datetime.date(2018, 12, 3))
    wrong.loc[wrong["date"] == datetime.date(2018, 12, 3), ["close", "adjusted_close"]] *= 0.98
    upsert_prices(session=session, frame=wrong, ticker="PRD", owner_id=None, source="yahoo")
    seen.append(fresh())
    assert fill_matured(session=session, ticker="PRD") == 1
    seen.append(fresh())  # matured
    session.execute(
        Prediction.__table__.update()
        .where(Prediction.user_id == actor.user_id)
        .values(actual_value=Prediction.actual_value * 1.01)
    )
    seen.append(fresh())  # an actual rewritten, its first maturing time kept
    later = bars()
    later.loc[later["date"] >= datetime.date(2018, 12, 3), "adjusted_close"] /= 2  # a split confirmed later
    upsert_prices(session=session, frame=later, ticker="PRD", owner_id=None, source="yahoo")
    seen.append(fresh())
    delete(session=session, actor=actor, version_id=version.id)
    seen.append(fresh())  # its rows now name it deleted
    assert len(set(seen)) == len(seen), "each change above changes what the ledger shows, and its freshness"
    assert fresh() == seen[-1]


def test_two_users_ledgers_never_share_a_freshness_even_empty(session, actor):
    from core.predictions import ledger_freshness

    other = Actor.of(create_user(session=session, username="oli", email="oli@example.com", password_hash="x"))
    assert ledger_freshness(session=session, actor=actor) != ledger_freshness(session=session, actor=other)


def test_prices_of_a_ticker_outside_the_ledger_leave_its_freshness_alone(session, actor):
    from core.predictions import ledger_freshness

    add_predictions(session, actor, 2)
    before = ledger_freshness(session=session, actor=actor)
    upsert_prices(session=session, frame=bars(), ticker="ELSE", owner_id=None, source="yahoo")
    assert ledger_freshness(session=session, actor=actor) == before


def restated_for_a_split(frame: pd.DataFrame, *, before: datetime.date, factor: float) -> pd.DataFrame:
    """The prices as Yahoo serves them again after a split: every price before it divided by the factor."""
    frame = frame.copy()
    earlier = frame["date"] < before
    frame.loc[earlier, ["open", "high", "low", "close", "adjusted_close"]] /= factor
    return frame


def test_a_split_whose_earlier_closes_are_restated_is_not_scored_as_a_move(session, actor):
    # A 2:1 split on 2018-12-03; after it the whole history is fetched again, every earlier price halved.
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 1)), ticker="PRD", owner_id=None, source="yahoo"
    )
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=1)  # 2018-11-01 for 2018-11-02: matured before the split
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 30)), ticker="PRD", owner_id=None, source="yahoo"
    )
    make(session, actor, days=3)  # 2018-11-30 for 2018-12-03, 12-04 and 12-06: across the split
    split = bars()
    split.loc[split["date"] >= datetime.date(2018, 12, 3), ["open", "high", "low", "close", "adjusted_close"]] /= 2
    restated = restated_for_a_split(split, before=datetime.date(2018, 12, 3), factor=2)
    upsert_prices(session=session, frame=restated, ticker="PRD", owner_id=None, source="yahoo")
    fill_matured(session=session, ticker="PRD")
    ledger = ledger_with_outcomes(session=session, actor=actor).set_index("target_date")
    closes = bars().set_index("date")["close"]
    for day in (datetime.date(2018, 11, 2), datetime.date(2018, 12, 3), datetime.date(2018, 12, 4)):
        row = ledger.loc[day]
        assert row["actual_close"] == pytest.approx(closes[day] / 2), "as the prices now say it traded"
        assert row["actual_value"] == pytest.approx(closes[day]), f"{day}: on the prediction day's scale"
        assert abs(row["error"]) < 0.05 * row["predicted_value"]


def test_a_dividend_between_the_prediction_and_its_day_counts_as_part_of_the_return(session, actor):
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 30)), ticker="PRD", owner_id=None, source="yahoo"
    )
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=1)
    # An ex-dividend day 2018-12-03 of 1 %: the adjusted closes before it fall by 1 %, the closes stay as traded.
    paid = bars(until=datetime.date(2018, 12, 3)).copy()
    paid.loc[paid["date"] < datetime.date(2018, 12, 3), "adjusted_close"] *= 0.99
    upsert_prices(session=session, frame=paid, ticker="PRD", owner_id=None, source="yahoo")
    fill_matured(session=session, ticker="PRD")
    (scored,) = ledger_with_outcomes(session=session, actor=actor).to_dict("records")
    close = bars().set_index("date")["close"][datetime.date(2018, 12, 3)]
    assert scored["actual_close"] == pytest.approx(close)
    assert scored["actual_value"] == pytest.approx(close / 0.99), "the dividend is no fall of the price"


NEW_YORK_MIDDAY_OF_3_DEC = datetime.datetime(2018, 12, 3, 17, 0, tzinfo=datetime.UTC)


def test_a_bar_whose_session_is_still_open_is_not_a_forecast_s_start(session, actor):
    # An upload exported at noon in New York: its last row is the day so far.
    so_far = bars(until=datetime.date(2018, 12, 3)).copy()
    so_far.loc[so_far.index[-1], ["close", "adjusted_close"]] *= 0.97
    upsert_prices(session=session, frame=so_far, ticker="PRD", owner_id=actor.user_id, source="upload")
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    closes = bars().set_index("date")["close"]
    early = predict_made(session, actor, days=2, now=NEW_YORK_MIDDAY_OF_3_DEC)
    assert (early.last_bar, early.stale) == (datetime.date(2018, 11, 30), False), "the last close there is"
    assert [r.base_close for r in early.rows] == pytest.approx([closes[datetime.date(2018, 11, 30)]] * 2)
    assert [r.target_date for r in early.rows] == [datetime.date(2018, 12, 3), datetime.date(2018, 12, 4)]
    # After the close the day's real close comes in, and a forecast from it is a new one.
    upsert_prices(
        session=session,
        frame=bars(until=datetime.date(2018, 12, 3)),
        ticker="PRD",
        owner_id=actor.user_id,
        source="upload",
    )
    late = predict_made(session, actor, days=1, now=NEW_YORK_CLOSE_OF_3_DEC + datetime.timedelta(minutes=1))
    assert (late.last_bar, late.added) == (datetime.date(2018, 12, 3), 1)
    assert late.rows[0].base_close == pytest.approx(closes[datetime.date(2018, 12, 3)])


def test_a_failed_prediction_uses_none_of_the_hour_s_predictions(session, actor, monkeypatch):
    from common.errors import BadInput

    monkeypatch.setenv("ACTION_LIMITS", '{"free": {"predict": "1/hour"}}')
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    upsert_prices(session=session, frame=bars().head(5), ticker="FEW", owner_id=None, source="yahoo")
    save_version(session=session, actor=actor, ticker="FEW", result=tiny_result())
    throttle = Throttle(MemoryStorage())
    settings = load_settings()
    for ticker, refusal in (("PRD", PredictionError), ("NOSUCH", PredictionError), ("FEW", BadInput)):
        with pytest.raises(refusal):
            predict(session=session, actor=actor, ticker=ticker, days=1, settings=settings, throttle=throttle)
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    made = predict(session=session, actor=actor, ticker="PRD", days=1, settings=settings, throttle=throttle)
    assert made.added == 1


def test_too_few_prices_for_the_model_s_window_are_refused_in_plain_words(session, actor):
    from common.errors import BadInput, NotFound

    upsert_prices(session=session, frame=bars().head(5), ticker="PRD", owner_id=None, source="yahoo")
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    with pytest.raises(BadInput) as refused:
        predict_made(session, actor, days=1)
    assert not isinstance(refused.value, NotFound)
    # A window of 10 days, each with its 33 days of indicator warm-up (MACD's) before it.
    assert str(refused.value) == "PRD has 5 days of prices; this model needs at least 43"
    upsert_prices(session=session, frame=bars().head(42), ticker="PRD", owner_id=None, source="yahoo")
    with pytest.raises(BadInput, match="PRD has 42 days of prices; this model needs at least 43"):
        predict_made(session, actor, days=1)
    upsert_prices(session=session, frame=bars().head(43), ticker="PRD", owner_id=None, source="yahoo")
    assert predict_made(session, actor, days=1).added == 1


def test_deleting_an_upload_gives_the_ledger_the_closes_left(session, actor):
    from core.data.service import delete_ticker

    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 30)), ticker="PRD", owner_id=None, source="yahoo"
    )
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=3)  # for 2018-12-03, 12-04 and 12-06
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 12, 3)), ticker="PRD", owner_id=None, source="yahoo"
    )
    # The analyst's own file: a wrong close for 12-03, and 12-04, which the shared prices lack.
    mine = bars(until=datetime.date(2018, 12, 4)).tail(2).copy()
    mine[["open", "high", "close", "adjusted_close"]] *= 1.10
    upsert_prices(session=session, frame=mine, ticker="PRD", owner_id=actor.user_id, source="upload")
    assert fill_matured(session=session, ticker="PRD") == 2
    delete_ticker(session=session, actor=actor, ticker="PRD", shared=False)
    ledger = ledger_with_outcomes(session=session, actor=actor).set_index("target_date")
    closes = bars().set_index("date")["close"]
    assert ledger.loc[datetime.date(2018, 12, 3), "actual_close"] == pytest.approx(closes[datetime.date(2018, 12, 3)])
    pending = ledger.loc[datetime.date(2018, 12, 4)]
    assert pd.isna(pending["actual_close"]), "no close of 12-04 is left"
    assert pd.isna(pending["matured_at"])
    assert pd.isna(pending["inside"])
    assert fill_matured(session=session, ticker="PRD") == 0, "nothing left to change"


def test_deleting_every_price_of_a_ticker_leaves_its_forecasts_pending(session, actor):
    from core.data.service import delete_ticker

    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 11, 30)), ticker="PRD", owner_id=None, source="yahoo"
    )
    save_version(session=session, actor=actor, ticker="PRD", result=tiny_result())
    make(session, actor, days=1)
    upsert_prices(
        session=session, frame=bars(until=datetime.date(2018, 12, 3)), ticker="PRD", owner_id=None, source="yahoo"
    )
    assert fill_matured(session=session, ticker="PRD") == 1
    admin = Actor.of(
        create_user(session=session, username="ada", email="ada@example.com", password_hash="x", role=Role.ADMIN)
    )
    delete_ticker(session=session, actor=admin, ticker="PRD", shared=True)
    session.expire_all()
    (row,) = session.scalars(select(Prediction)).all()
    assert (row.actual_value, row.matured_at) == (None, None)


def _median_version(session, actor, **preprocessing_changes):
    """A median-drift version saved with its preprocessing changed, as no training would write it."""
    import dataclasses
    import json

    from core.forecasting.artifacts import pack, sha256
    from core.forecasting.signing import signing_key
    from core.forecasting.training import train_model
    from tests.core.forecasting.tiny import fixture_prices, tiny_config, unpack_any

    opened = unpack_any(train_model(fixture_prices(), tiny_config(model_type="median"), ticker="PRD").bundle)
    preprocessing = json.loads(json.dumps(opened.preprocessing))
    for key, value in preprocessing_changes.items():
        if key in preprocessing["parameters"]:
            preprocessing["parameters"][key] = value
        else:
            preprocessing[key] = value
    metadata = {k: v for k, v in opened.metadata.items() if k not in ("files", "signature")}
    bundle = pack(None, preprocessing, metadata, key=signing_key())
    result = dataclasses.replace(tiny_result(), model_type="median", bundle=bundle, bundle_sha256=sha256(bundle))
    return save_version(session=session, actor=actor, ticker="PRD", result=result)


@pytest.mark.parametrize("median_return", [1e6, -1e6])
def test_a_forecast_that_is_no_price_is_refused_before_anything_is_written(session, actor, median_return):
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    _median_version(session, actor, median_return=median_return)
    with pytest.raises(PredictionError, match=r"PRD v1 forecasts no price for 2019-01-02 \(predicted .*\): nothing"):
        predict_made(session, actor, 2)
    assert session.scalars(select(Prediction)).all() == []


def test_an_unbounded_interval_is_still_a_forecast(session, actor):
    # Too few validation residuals for the level: the interval is honest and unbounded, not a broken model.
    upsert_prices(session=session, frame=bars(), ticker="PRD", owner_id=None, source="yahoo")
    _median_version(session, actor, interval_scale=None)
    rows = predict_made(session, actor, 2).rows
    assert [(r.lower, r.upper) for r in rows] == [(0.0, float("inf"))] * 2
    assert all(0 < r.predicted_value < float("inf") for r in rows)
