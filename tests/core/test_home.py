"""The start page's one call: watchlist with day change and stale flag, recent jobs, outcomes since the last visit."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete

from core.data.service import load_sample
from core.home import start_page
from core.preferences import save_preferences
from db.models import HistoricalPrice, Prediction, PriceSummary, TrainingJob
from db.repositories.actor import Actor
from db.repositories.users import create_user
from db.types import utc_now


def analyst(session, name="ana") -> Actor:
    return Actor.of(create_user(session=session, username=name, email=f"{name}@example.com", password_hash="x"))


def test_a_fresh_account_gets_first_run_steps(session):
    # Other tests share this database and leave shared prices in it; this one is about an empty install.
    session.execute(delete(HistoricalPrice))
    session.execute(delete(PriceSummary))  # the ticker list reads these, kept by each price write
    page = start_page(session=session, actor=analyst(session), today=date(2019, 1, 7))
    assert page.first_run
    assert (page.has_prices, page.has_models, page.has_predictions) == (False, False, False)
    assert page.watchlist == []


def test_the_watchlist_follows_default_tickers_with_change_and_staleness(session):
    actor = analyst(session)
    load_sample(session=session, actor=None)
    save_preferences(
        session=session, actor=actor, tickers_text="^GSPC", chart_theme="dark", default_range="1Y", notifications={}
    )
    # 2018-12-31 was the last session of 2018; on 2019-01-02 nothing newer could exist yet.
    fresh = start_page(session=session, actor=actor, today=date(2019, 1, 2))
    [row] = fresh.watchlist
    assert fresh.watchlist_is_default
    assert (row.ticker, row.last_bar) == ("^GSPC", date(2018, 12, 31))
    assert row.last_close == pytest.approx(2506.85, abs=0.01)
    assert row.day_change == pytest.approx(2506.85 / 2485.74 - 1, abs=1e-4)
    assert not row.stale, "New Year's Day is an exchange holiday"
    assert len(row.recent) == 30
    later = start_page(session=session, actor=actor, today=date(2019, 1, 4))
    assert later.watchlist[0].stale, "2019-01-02 and 01-03 traded"
    before_close = start_page(session=session, actor=actor, today=datetime(2019, 1, 2, 20, 59, tzinfo=UTC))
    assert not before_close.watchlist[0].stale, "2019-01-02's session closes at 21:00 UTC"
    after_close = start_page(session=session, actor=actor, today=datetime(2019, 1, 2, 21, 0, tzinfo=UTC))
    assert after_close.watchlist[0].stale, "the bar of 2019-01-02 is due from its close, not from the next day"


def test_outcomes_are_listed_once_per_visit_with_hit_or_miss(session):
    actor = analyst(session)
    session.add(TrainingJob(user_id=actor.user_id, ticker="SPX", status="succeeded", finished_at=utc_now(), config={}))

    def matured(target_day: int, predicted: float) -> None:
        row = Prediction(user_id=actor.user_id, ticker="SPX", base_close=100.0, predicted_value=predicted)
        row.prediction_date, row.target_date = date(2024, 1, 2), date(2024, 1, target_day)
        row.lower, row.upper, row.actual_value, row.matured_at = 95.0, 105.0, 102.0, utc_now()
        session.add(row)
        session.flush()

    matured(3, 101.0)
    first = start_page(session=session, actor=actor, today=date(2024, 1, 5))
    assert [(m.target_date.day, m.direction_right, m.inside_interval) for m in first.matured] == [(3, True, True)]
    assert [(j.ticker, j.job, j.status) for j in first.jobs] == [("SPX", "training of auto ensemble", "succeeded")]
    rerun = start_page(session=session, actor=actor, today=date(2024, 1, 5), seen_since=first.seen_since)
    assert len(rerun.matured) == 1, "reruns of one visit keep the list"
    matured(4, 99.0)
    next_visit = start_page(session=session, actor=actor, today=date(2024, 1, 5))
    assert [(m.target_date.day, m.direction_right) for m in next_visit.matured] == [(4, False)]
    matured(5, 100.0)  # a forecast of no move calls no direction, as the scoreboard counts it
    last_visit = start_page(session=session, actor=actor, today=date(2024, 1, 8))
    assert [(m.target_date.day, m.direction_right) for m in last_visit.matured] == [(5, None)]
    assert next_visit.seen_since > first.seen_since - timedelta(seconds=1)


def test_the_day_change_of_a_split_day_is_the_markets_not_the_splits(session):
    from core.data.frames import normalise_provider_frame
    from db.repositories.prices import upsert_prices
    from tests.fixtures import gspc_2018_frame

    actor = analyst(session)
    frame = normalise_provider_frame(gspc_2018_frame()).frame
    frame.loc[: frame.index[-2], ["open", "high", "low", "close"]] *= 2  # a 2:1 split on the last day, raw prices
    upsert_prices(session=session, frame=frame, ticker="SPLIT", owner_id=None, source="yahoo")
    save_preferences(
        session=session, actor=actor, tickers_text="SPLIT", chart_theme="dark", default_range="1Y", notifications={}
    )
    [row] = start_page(session=session, actor=actor, today=date(2019, 1, 2)).watchlist
    assert row.last_close == pytest.approx(2506.85, abs=0.01)
    assert row.day_change == pytest.approx(2506.85 / 2485.74 - 1, abs=1e-4)
    assert max(row.recent) / min(row.recent) < 1.2, "the sparkline runs through the split"


def test_recent_jobs_keep_every_open_job_besides_the_newest_finished(session):
    from core.home import RECENT_JOBS

    actor = analyst(session)
    now = utc_now()
    session.add(
        TrainingJob(user_id=actor.user_id, ticker="OLD", status="running", config={}, started_at=now, heartbeat_at=now,
                    created_at=now - timedelta(hours=1))
    )  # fmt: skip
    for n in range(RECENT_JOBS + 1):
        session.add(
            TrainingJob(user_id=actor.user_id, ticker=f"T{n}", status="succeeded", config={}, finished_at=now,
                        created_at=now - timedelta(minutes=n))
        )  # fmt: skip
    session.flush()
    page = start_page(session=session, actor=actor, today=date(2024, 1, 5))
    assert [(j.ticker, j.status) for j in page.jobs] == [(f"T{n}", "succeeded") for n in range(RECENT_JOBS)] + [
        ("OLD", "running")
    ]


def test_first_steps_are_those_the_role_allows(session):
    from db.models.accounts import Role

    analyst_page = start_page(session=session, actor=analyst(session), today=date(2019, 1, 7))
    assert [step.name for step in analyst_page.first_steps] == ["prices", "model", "prediction"]
    viewer = dataclasses.replace(analyst(session, "vic"), role=Role.VIEWER.value)
    viewer_page = start_page(session=session, actor=viewer, today=date(2019, 1, 7))
    assert viewer_page.first_steps == ()
    assert not viewer_page.first_run, "no step a viewer may take: nothing to start"
