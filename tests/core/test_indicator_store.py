"""Stored indicators follow the prices: computed on import, brought up to date when prices change."""

import pytest
import talib
from sqlalchemy import func, select

from core.data.service import import_prices
from core.indicator_store import refresh_indicators
from core.indicator_view import IndicatorParams, indicator_view
from db.models import HistoricalPrice, TechnicalIndicator
from db.repositories.actor import Actor
from db.repositories.indicators import read_indicators
from db.repositories.prices import read_prices, upsert_prices
from db.repositories.users import create_user
from tests.fixtures import gspc_2018_bytes


@pytest.fixture
def actor(session):
    return Actor.of(create_user(session=session, username="ivy", email="ivy@example.com", password_hash="x"))


def import_fixture(session, ticker: str = "IND", owner=None) -> None:
    import_prices(
        session=session, data=gspc_2018_bytes(), ticker=ticker, date_format=None, skip_bad_rows=False, owner=owner
    )


def test_an_import_stores_indicators_for_every_row(session, actor):
    import_fixture(session)
    stored = read_indicators(session=session, actor=actor, ticker="IND")
    prices = read_prices(session=session, actor=actor, ticker="IND")
    assert len(stored) == len(prices) == 251
    reference = talib.RSI(prices["close"].to_numpy(), 14)
    assert stored["rsi_14"].iloc[-1] == pytest.approx(reference[-1], abs=1e-9)
    assert stored["rsi_14"].iloc[:14].isna().all()


def test_changed_prices_bring_indicators_up_to_date(session, actor):
    import_fixture(session)
    prices = read_prices(session=session, actor=actor, ticker="IND")
    changed = prices.tail(1).assign(close=prices["close"].iloc[-1] * 1.1, high=prices["high"].iloc[-1] * 1.1)
    upsert_prices(session=session, frame=changed, ticker="IND", owner_id=None, source="upload")
    rewritten = refresh_indicators(session=session, ticker="IND", owner_id=None)
    assert rewritten == 1, "only the changed day's indicators change"
    stored = read_indicators(session=session, actor=actor, ticker="IND")
    assert stored["rsi_14"].iloc[-1] > 60
    assert refresh_indicators(session=session, ticker="IND", owner_id=None) == 0


def test_a_users_upload_gets_its_own_indicators(session, actor):
    import_fixture(session, "MINE", owner=actor)
    count = session.scalar(select(func.count()).select_from(TechnicalIndicator))
    assert count >= 251
    assert len(read_indicators(session=session, actor=actor, ticker="MINE")) == 251


def test_the_view_keeps_the_warm_up_out_of_a_short_range(session, actor):
    import_fixture(session)
    import datetime

    view = indicator_view(
        session=session,
        actor=actor,
        ticker="IND",
        start=datetime.date(2018, 12, 1),
        end=None,
        params=IndicatorParams(),
    )
    assert view["date"].min() == datetime.datetime(2018, 12, 3)
    assert view["rsi_14"].notna().all()
    assert view["ema_50"].notna().all()
    with pytest.raises(ValueError, match="macd_fast must be below macd_slow"):
        indicator_view(
            session=session,
            actor=actor,
            ticker="IND",
            start=None,
            end=None,
            params=IndicatorParams(macd_fast=40),
        )


def test_warm_up_values_are_stored_as_null_not_nan(session, actor):
    import_fixture(session, "WARM")
    prices = read_prices(session=session, actor=actor, ticker="WARM")
    missing = (
        select(func.count())
        .select_from(TechnicalIndicator)
        .join(HistoricalPrice, HistoricalPrice.id == TechnicalIndicator.price_id)
        .where(HistoricalPrice.ticker == "WARM", TechnicalIndicator.rsi_14.is_(None))
    )
    assert len(prices) == 251
    assert session.scalar(missing) == 14
