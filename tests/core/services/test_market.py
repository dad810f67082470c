"""Market services on both backends: each owns its transaction, checks the role, audits refusals; splits reviewed."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL

from common.errors import Refusal
from core.auth.roles import PermissionDeniedError
from core.data.errors import FileFormatError
from core.data.split_review import SplitReviewError
from core.data.tickers import TickerError
from core.services import accounts, market
from core.services.market import DateRangeError
from db.engine import get_engine, session_scope
from db.models import AuditLog
from db.models.accounts import Role
from db.models.market import CorporateAction, LatestIndicators
from db.repositories.actor import Actor
from db.repositories.prices import delete_prices, upsert_prices
from tests.accounts import make_account
from tests.queries import recorded_statements


@pytest.fixture
def database(committing_database: URL) -> URL:
    """The services' own engine (built from the settings) points at the committing tests' database."""
    return committing_database


def audit_rows(actor: Actor, action: str) -> list[tuple[str, str | None]]:
    with session_scope() as session:
        query = select(AuditLog.status, AuditLog.detail).where(
            AuditLog.user_id == actor.user_id, AuditLog.action == action
        )
        return [tuple(row) for row in session.execute(query.order_by(AuditLog.at))]


SPLIT_DAYS = {60: 2.0, 150: 0.1}  # a 2:1 split, then a 1:10 reverse split


def split_csv(days: int = 200) -> bytes:
    """Raw prices of a calm random walk with a 2:1 and a 1:10 split in them, no adjusted column."""
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.005, days)))
    for day, factor in SPLIT_DAYS.items():
        close[day:] /= factor
    dates = pd.bdate_range("2024-01-02", periods=days)
    frame = pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Open": close, "High": close * 1.01, "Low": close * 0.99})
    frame["Close"] = close
    frame["Volume"] = 1_000_000
    return frame.to_csv(index=False).encode()


def split_day(position: int) -> date:
    return pd.bdate_range("2024-01-02", periods=200)[position].date()


def test_splits_are_confirmed_and_rejected_together_or_not_at_all(database):
    actor = make_account(database)
    result = market.upload_prices(actor, data_bytes=split_csv(), filename="spl.csv", ticker="SPL")
    assert result.status == "accepted"
    found = market.split_candidates(actor, "SPL", shared=False)
    assert [(c.date, c.label) for c in found] == [(split_day(60), "2:1"), (split_day(150), "1:10")]

    # One day that is no candidate refuses the whole review: the good decision is not taken either.
    with pytest.raises(SplitReviewError, match="no open split candidate on 2024-01-03"):
        market.review_splits(actor, "SPL", shared=False, confirm=[split_day(60), date(2024, 1, 3)], reject=[])
    assert market.read_prices(actor, "SPL")["adjusted_close"].iloc[0] == pytest.approx(100, rel=0.02)
    assert audit_rows(actor, "review splits")[-1][0] == "failed"

    decided = market.review_splits(actor, "SPL", shared=False, confirm=[split_day(60)], reject=[split_day(150)])
    assert decided.adjusted_rows == 60
    prices = market.read_prices(actor, "SPL")
    returns = np.log(prices["adjusted_close"]).diff().abs()
    assert returns.iloc[60] < 0.05, "the adjusted series runs through the confirmed split"
    assert returns.iloc[150] > 2, "a rejected candidate adjusts nothing"
    assert prices["close"].iloc[0] == pytest.approx(prices["adjusted_close"].iloc[0] * 2)
    assert market.split_candidates(actor, "SPL", shared=False) == []
    with session_scope() as session:
        stored = session.execute(
            select(CorporateAction.date, CorporateAction.value, CorporateAction.source)
            .where(CorporateAction.owner_id == actor.user_id, CorporateAction.ticker == "SPL")
            .order_by(CorporateAction.date)
        ).all()
    assert [tuple(row) for row in stored] == [(split_day(60), 2.0, "confirmed"), (split_day(150), 1.0, "rejected")]
    report = market.quality_report(actor, "SPL", today=date(2024, 10, 1))
    assert report.split_candidates == []
    assert [c.date for c in report.reported_splits] == [split_day(60)]


def test_confirmed_splits_put_the_screener_on_the_adjusted_scale(database):
    # Raw, the last close sits 10 times above the first and far from its EMA 200; adjusted, the walk is calm.
    actor = make_account(database)
    market.upload_prices(actor, data_bytes=split_csv(), filename="spl.csv", ticker="SPL")
    market.review_splits(actor, "SPL", shared=False, confirm=[split_day(60), split_day(150)], reject=[])
    with session_scope() as session:
        row = session.execute(
            select(LatestIndicators).where(LatestIndicators.ticker == "SPL", LatestIndicators.owner_id == actor.user_id)
        ).scalar_one()
    assert row.ema_200 == pytest.approx(row.close, rel=0.1)
    assert row.hv_20_year_median < 0.2


def test_splits_an_adjusted_close_already_runs_through_are_not_put_to_review(database):
    # Confirming them would divide the adjusted closes a second time.
    raw = pd.read_csv(io.BytesIO(split_csv()))
    adjusted = raw["Close"].copy()
    for day, factor in SPLIT_DAYS.items():
        adjusted[:day] /= factor
    data = raw.assign(**{"Adj Close": adjusted}).to_csv(index=False).encode()
    actor = make_account(database)
    assert market.upload_prices(actor, data_bytes=data, filename="spl.csv", ticker="SPL").status == "accepted"
    assert market.split_candidates(actor, "SPL", shared=False) == []
    assert market.quality_report(actor, "SPL", today=date(2024, 10, 1)).split_candidates == []


def test_only_admins_review_shared_splits(database):
    actor = make_account(database)
    with pytest.raises(PermissionDeniedError, match="only an admin"):
        market.review_splits(actor, "SPL", shared=True, confirm=[], reject=[])
    viewer = make_account(database, role=Role.VIEWER)
    with pytest.raises(PermissionDeniedError):
        market.review_splits(viewer, "SPL", shared=False, confirm=[], reject=[])


def test_refusals_are_audited_after_their_rollback(database):
    viewer = make_account(database, role=Role.VIEWER)
    with pytest.raises(PermissionDeniedError):
        market.upload_prices(viewer, data_bytes=split_csv(), filename="v.csv", ticker="VV")
    assert audit_rows(viewer, "upload")[0][0] == "failed"
    with pytest.raises(PermissionDeniedError):
        market.delete_prices(viewer, "VV", shared=False)
    assert audit_rows(viewer, "delete prices")[0][0] == "failed"


def test_bad_inputs_are_refusals_naming_the_problem(database):
    actor = make_account(database)
    with pytest.raises(TickerError, match="'\\$\\$' is not a ticker symbol"):
        market.fetch_prices(actor, tickers="MSFT, $$", start=date(2024, 1, 1), end=date(2024, 2, 1))
    with pytest.raises(DateRangeError, match="first day comes after the last"):
        market.fetch_prices(actor, tickers="MSFT", start=date(2024, 2, 1), end=date(2024, 1, 1))
    with pytest.raises(TickerError, match="'\\$\\$' is not a ticker symbol"):
        market.save_ticker_list(actor, text="MSFT, $$")
    assert market.save_ticker_list(actor, text="msft, aapl") == ["MSFT", "AAPL"]
    assert accounts.read_preferences(actor).default_tickers == ["MSFT", "AAPL"]
    for error in (FileFormatError, TickerError, DateRangeError, SplitReviewError):
        assert issubclass(error, Refusal)


def test_an_upload_is_listed_read_and_deleted_with_its_indicators(database):
    actor = make_account(database)
    market.upload_prices(actor, data_bytes=split_csv(), filename="own.csv", ticker="OWNX")
    listed = {(c.ticker, c.owned) for c in market.list_tickers(actor)}
    assert ("OWNX", True) in listed
    assert len(market.read_prices(actor, "OWNX", start=split_day(10), end=split_day(19))) == 10
    assert market.delete_prices(actor, "OWNX", shared=False) == 200
    assert "OWNX" not in {c.ticker for c in market.list_tickers(actor)}
    assert audit_rows(actor, "delete prices")[-1] == ("ok", "OWNX (own): 200 rows")


def _json_closes(actor: Actor, ticker: str, **dates: date) -> list[float]:
    count, records = market.read_prices_json(actor, ticker, **dates)
    closes = [row["close"] for row in json.loads(records)]
    assert count == len(closes)
    return closes


def test_prices_as_json_follow_every_write_and_repeated_reads_run_one_small_query(database, monkeypatch):
    ticker = f"J{uuid.uuid4().hex[:6].upper()}"
    ann, ben = make_account(database), make_account(database)
    bars = pd.read_csv(io.BytesIO(split_csv()), parse_dates=["Date"]).rename(columns=str.lower)
    bars["adjusted_close"] = bars["close"]
    with session_scope() as session:
        upsert_prices(session=session, frame=bars, ticker=ticker, owner_id=None, source="yahoo")
    assert _json_closes(ann, ticker) == pytest.approx(list(bars["close"]), rel=1e-12)

    with recorded_statements(get_engine(), monkeypatch) as statements:
        assert _json_closes(ann, ticker, start=split_day(10), end=split_day(19)) == pytest.approx(
            list(bars["close"][10:20]), rel=1e-12
        )
    assert [s for s in statements if "historical_data" in s] == [], "a repeated read renders nothing again"

    changed = bars.tail(1).assign(close=1.5)
    with session_scope() as session:
        upsert_prices(session=session, frame=changed, ticker=ticker, owner_id=None, source="yahoo")
    assert _json_closes(ben, ticker)[-1] == 1.5

    market.upload_prices(ann, data_bytes=split_csv(days=3), filename="own.csv", ticker=ticker)
    own_first = float(pd.read_csv(io.BytesIO(split_csv(days=3)))["Close"].iloc[0])
    with session_scope() as session:
        upsert_prices(
            session=session,
            frame=bars.head(1).assign(close=own_first + 7),
            ticker=ticker,
            owner_id=None,
            source="yahoo",
        )
    assert _json_closes(ann, ticker)[0] == pytest.approx(own_first), "their own day wins"
    assert _json_closes(ben, ticker)[0] == pytest.approx(own_first + 7), "others see the shared day"

    with session_scope() as session:
        delete_prices(session=session, ticker=ticker, owner_id=None)
    assert len(_json_closes(ben, ticker)) == 0
    assert len(_json_closes(ann, ticker)) == 3
