"""Notifications follow the user's settings and only speak of what is new."""

from datetime import date, timedelta

from core.notifications import notifications_since
from core.preferences import save_preferences
from db.models import Prediction, TrainingJob
from db.repositories.actor import Actor
from db.repositories.users import create_user
from db.types import utc_now


def test_finished_jobs_and_matured_predictions(session):
    actor = Actor.of(create_user(session=session, username="nia", email="nia@example.com", password_hash="x"))
    before = utc_now() - timedelta(minutes=1)
    session.add(
        TrainingJob(
            user_id=actor.user_id,
            ticker="SPX",
            status="succeeded",
            finished_at=utc_now(),
            message="v1: beats persistence by 1.0 % MAE",
            config={},
        )
    )
    session.add(
        TrainingJob(
            user_id=actor.user_id, ticker="OLD", status="failed", finished_at=before - timedelta(hours=1), config={}
        )
    )
    for day in (1, 2):
        matured = Prediction(user_id=actor.user_id, ticker="SPX", predicted_value=1.0, actual_value=1.0)
        matured.prediction_date, matured.target_date = date(2024, 1, day), date(2024, 1, day + 1)
        matured.matured_at = utc_now()
        session.add(matured)
    session.flush()
    assert notifications_since(session=session, actor=actor, since=before) == [
        "SPX: training of auto ensemble succeeded. v1: beats persistence by 1.0 % MAE",
        "2 predictions met the actual price: see the ledger.",
    ]
    assert notifications_since(session=session, actor=actor, since=utc_now()) == []
    save_preferences(
        session=session, actor=actor, tickers_text="", chart_theme="light", default_range="1Y",
        notifications={"training_finished": False, "prediction_matured": True},
    )  # fmt: skip
    assert notifications_since(session=session, actor=actor, since=before) == [
        "2 predictions met the actual price: see the ledger."
    ]
