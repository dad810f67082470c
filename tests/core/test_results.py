"""Lists of stored results leave out what only one result's detail shows."""

from sqlalchemy import inspect

from core.results import get_owned, list_owned
from db.models import BacktestResult, Evaluation
from db.repositories.actor import Actor
from db.repositories.users import create_user


def test_lists_leave_the_per_day_detail_in_the_database_and_one_result_has_it(session):
    actor = Actor.of(create_user(session=session, username="lister", email="lister@example.com", password_hash="x"))
    days = [{"date": "2018-01-02", "value": 1.0}] * 1000
    run = Evaluation(user_id=actor.user_id, ticker="SPX", metrics={"mase": 1.0}, windows=[{"forecast": days}])
    session.add(run)
    session.flush()
    backtest = BacktestResult(
        user_id=actor.user_id, ticker="SPX", model_version_id=None, metrics={"days": 1000}, trades=days,
        equity_curve=days,
    )  # fmt: skip
    session.add(backtest)
    session.flush()
    session.expunge_all()
    [listed_run] = list_owned(session=session, actor=actor, kind=Evaluation)
    [listed_backtest] = list_owned(session=session, actor=actor, kind=BacktestResult)
    assert "windows" in inspect(listed_run).unloaded
    assert {"trades", "equity_curve"} <= inspect(listed_backtest).unloaded
    assert (listed_run.metrics, listed_backtest.metrics) == ({"mase": 1.0}, {"days": 1000})
    session.expunge_all()
    whole = get_owned(session=session, actor=actor, kind=Evaluation, row_id=run.id)
    assert len(whole.windows[0]["forecast"]) == 1000
