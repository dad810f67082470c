"""Stored walk-forward runs: listed without their per-day forecasts, which only the chosen run needs."""

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import InvalidRequestError

from db.models import Evaluation
from db.repositories.actor import Actor
from db.repositories.evaluations import list_evaluations
from db.repositories.users import create_user


def test_the_list_of_runs_leaves_their_windows_in_the_database(session):
    actor = Actor.of(create_user(session=session, username="walker", email="walker@example.com", password_hash="x"))
    for kind in ("walkforward", "walkforward", "leaderboard"):
        windows = [{"forecast": {"date": ["2018-01-02"] * 1000}}] if kind == "walkforward" else []
        session.add(Evaluation(user_id=actor.user_id, ticker="SPX", kind=kind, metrics={"windows": 1}, windows=windows))
    session.flush()
    session.expunge_all()
    runs = list_evaluations(session=session, actor=actor)
    assert len(runs) == 2
    assert all("windows" in inspect(run).unloaded for run in runs), "a page run would read every day of every run"
    with pytest.raises(InvalidRequestError):
        _ = runs[0].windows  # never a query per run behind the page's back
    assert runs[0].metrics == {"windows": 1}
    assert len(list_evaluations(session=session, actor=actor, kind="leaderboard", limit=1)) == 1
