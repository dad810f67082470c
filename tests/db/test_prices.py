"""The price cache on SQLite and PostgreSQL: upsert, visibility, one-query reads, summaries, deletion."""

from datetime import date

import pandas as pd
import pytest

from core.data.frames import normalise_provider_frame
from db.repositories.actor import Actor
from db.repositories.prices import (
    cached_span,
    delete_prices,
    divide_adjusted_before,
    list_cached_tickers,
    postgres_records_in_orjson_form,
    read_prices,
    series_versions,
    upsert_prices,
    visible_days,
    visible_days_of,
)
from db.repositories.users import create_user
from tests.fixtures import gspc_2018_frame
from tests.queries import recorded_statements


@pytest.fixture
def bars() -> pd.DataFrame:
    return normalise_provider_frame(gspc_2018_frame()).frame


@pytest.fixture
def people(session):
    def make(name):
        return Actor.of(create_user(session=session, username=name, email=f"{name}@example.com", password_hash="x"))

    return make("ann"), make("ben")


def test_upsert_inserts_then_updates_in_place(session, bars, people):
    ann, _ = people
    assert upsert_prices(session=session, frame=bars, ticker="SPX", owner_id=None, source="yahoo") == 251
    changed = bars.copy()
    changed["close"] = changed["close"] + 1
    assert upsert_prices(session=session, frame=changed.tail(10), ticker="SPX", owner_id=None, source="sample") == 10
    stored = read_prices(session=session, actor=ann, ticker="SPX")
    assert len(stored) == 251
    assert stored["close"].iloc[-1] == pytest.approx(bars["close"].iloc[-1] + 1)
    assert stored["close"].iloc[0] == pytest.approx(bars["close"].iloc[0])
    assert list(stored["source"].tail(10).unique()) == ["sample"]
    assert int(stored["volume"].iloc[0]) == 3367250000


def test_uploads_are_private_and_win_over_shared_days(session, bars, people):
    ann, ben = people
    upsert_prices(session=session, frame=bars, ticker="SPX", owner_id=None, source="yahoo")
    own = bars.head(5).copy()
    own["close"] = own["low"]
    upsert_prices(session=session, frame=own, ticker="SPX", owner_id=ann.user_id, source="upload")
    upsert_prices(session=session, frame=bars.head(3), ticker="MINE", owner_id=ann.user_id, source="upload")

    anns = read_prices(session=session, actor=ann, ticker="SPX")
    assert len(anns) == 251
    assert list(anns["close"].head(5)) == list(own["close"])
    assert list(anns["source"].head(6)) == ["upload"] * 5 + ["yahoo"]
    bens = read_prices(session=session, actor=ben, ticker="SPX")
    assert list(bens["close"].head(5)) == list(bars["close"].head(5))
    assert read_prices(session=session, actor=ben, ticker="MINE").empty

    ann_view = {(c.ticker, c.owned, c.source, c.rows) for c in list_cached_tickers(session=session, actor=ann)}
    assert {("SPX", False, "yahoo", 251), ("SPX", True, "upload", 5), ("MINE", True, "upload", 3)} <= ann_view
    assert all(not c.owned for c in list_cached_tickers(session=session, actor=ben))


def _counted_from_rows(session, actor):
    """The ticker list as the rows themselves give it: the summaries must always agree with this."""
    from sqlalchemy import func, or_, select

    from db.models import HistoricalPrice

    owned = HistoricalPrice.owner_id.is_not(None)
    query = (
        select(
            HistoricalPrice.ticker,
            owned,
            HistoricalPrice.source,
            func.min(HistoricalPrice.date),
            func.max(HistoricalPrice.date),
            func.count(),
            func.max(HistoricalPrice.last_updated),
        )
        .where(or_(HistoricalPrice.owner_id.is_(None), HistoricalPrice.owner_id == actor.user_id))
        .group_by(HistoricalPrice.ticker, owned, HistoricalPrice.source)
        .order_by(HistoricalPrice.ticker, owned, HistoricalPrice.source)
    )
    return [tuple(row) for row in session.execute(query).all()]


def _listed(session, actor):
    return [
        (c.ticker, c.owned, c.source, c.first_date, c.last_date, c.rows, c.last_updated)
        for c in list_cached_tickers(session=session, actor=actor)
    ]


def test_the_ticker_list_follows_every_kind_of_write(session, bars, people):
    ann, ben = people
    steps = [
        lambda: upsert_prices(session=session, frame=bars, ticker="SPX", owner_id=None, source="yahoo"),
        lambda: upsert_prices(session=session, frame=bars.tail(10), ticker="SPX", owner_id=None, source="sample"),
        lambda: upsert_prices(session=session, frame=bars.head(5), ticker="SPX", owner_id=ann.user_id, source="upload"),
        lambda: upsert_prices(
            session=session, frame=bars.head(40), ticker="MINE", owner_id=ben.user_id, source="upload"
        ),
        lambda: divide_adjusted_before(session=session, ticker="SPX", owner_id=None, day=date(2018, 6, 1), factor=2.0),
        lambda: delete_prices(session=session, ticker="SPX", owner_id=ann.user_id),
        lambda: delete_prices(session=session, ticker="SPX", owner_id=None),
    ]
    for step in steps:
        step()
        session.flush()
        for actor in (ann, ben):
            assert _listed(session, actor) == _counted_from_rows(session, actor)
    assert _listed(session, ben)[0][:6] == ("MINE", True, "upload", date(2018, 1, 2), date(2018, 2, 28), 40)
    assert _listed(session, ann) == []


def test_the_ticker_list_reads_no_price_rows(session, bars, people, engine, monkeypatch):
    import db.repositories.prices as repository

    ann, _ = people
    upsert_prices(session=session, frame=bars, ticker="SPX", owner_id=None, source="yahoo")
    with recorded_statements(engine, monkeypatch, repository) as statements:
        listed = list_cached_tickers(session=session, actor=ann)
    assert [(c.ticker, c.rows) for c in listed] == [("SPX", 251)]
    assert len(statements) == 1
    assert "historical_data" not in statements[0]


def test_a_date_range_is_one_indexed_query(session, bars, people, engine, monkeypatch):
    import db.repositories.prices as repository

    ann, _ = people
    upsert_prices(session=session, frame=bars, ticker="SPX", owner_id=None, source="yahoo")
    with recorded_statements(engine, monkeypatch, repository) as statements:
        stored = read_prices(session=session, actor=ann, ticker="SPX", start=date(2018, 3, 1), end=date(2018, 3, 31))
    assert len(statements) == 1
    assert (stored["date"].min().date(), stored["date"].max().date(), len(stored)) == (
        date(2018, 3, 1),
        date(2018, 3, 29),
        21,
    )


def test_cached_span_and_delete_by_scope(session, bars, people):
    ann, _ = people
    upsert_prices(session=session, frame=bars, ticker="SPX", owner_id=None, source="yahoo")
    upsert_prices(session=session, frame=bars.head(20), ticker="SPX", owner_id=ann.user_id, source="upload")
    assert cached_span(session=session, ticker="SPX", owner_id=None) == (date(2018, 1, 2), date(2018, 12, 31))
    assert cached_span(session=session, ticker="SPX", owner_id=ann.user_id)[1] == bars["date"].iloc[19]
    assert delete_prices(session=session, ticker="SPX", owner_id=ann.user_id) == 20
    assert len(read_prices(session=session, actor=ann, ticker="SPX")) == 251
    assert delete_prices(session=session, ticker="SPX", owner_id=None) == 251
    assert read_prices(session=session, actor=ann, ticker="SPX").empty


def test_empty_frames_write_nothing(session, bars):
    assert upsert_prices(session=session, frame=bars.head(0), ticker="SPX", owner_id=None, source="yahoo") == 0


def test_every_write_of_a_series_gives_it_a_new_version_in_its_scope_only(session, bars, people):
    ann, ben = people
    assert series_versions(session=session, actor=ann, ticker="SPX") == {}
    upsert_prices(session=session, frame=bars, ticker="SPX", owner_id=None, source="yahoo")
    first = series_versions(session=session, actor=ann, ticker="SPX")
    assert set(first) == {None}

    upsert_prices(session=session, frame=bars.tail(3), ticker="SPX", owner_id=None, source="yahoo")
    assert series_versions(session=session, actor=ann, ticker="SPX") == first, "nothing changed, nothing to read again"

    seen = [first[None]]
    changed = bars.tail(1).assign(close=bars["close"].iloc[-1] + 1)
    for write in (
        lambda: upsert_prices(session=session, frame=changed, ticker="SPX", owner_id=None, source="yahoo"),
        lambda: divide_adjusted_before(session=session, ticker="SPX", owner_id=None, day=date(2018, 6, 1), factor=2.0),
        lambda: delete_prices(session=session, ticker="SPX", owner_id=None),
    ):
        write()
        seen.append(series_versions(session=session, actor=ann, ticker="SPX")[None])
    assert len(set(seen)) == len(seen)

    upsert_prices(session=session, frame=bars.head(5), ticker="SPX", owner_id=ann.user_id, source="upload")
    anns = series_versions(session=session, actor=ann, ticker="SPX")
    assert set(anns) == {None, ann.user_id}
    assert anns[None] == seen[-1], "an upload leaves the shared series' version alone"
    assert series_versions(session=session, actor=ben, ticker="SPX") == {None: seen[-1]}


def test_visible_day_counts_of_several_tickers_agree_with_visible_days_reading_stored_days_only_where_needed(
    session, bars, people, engine, monkeypatch
):
    # Counting every stored day of every versioned ticker cost the Metrics page 1.9 s a run at 300 tickers: the
    # price summaries know a ticker's days, unless the actor sees it in more than one series (then days overlap).
    ann, ben = people
    upsert_prices(session=session, frame=bars, ticker="SPX", owner_id=None, source="yahoo")
    upsert_prices(session=session, frame=bars.head(5), ticker="SPX", owner_id=ann.user_id, source="upload")
    later = bars.head(3).assign(date=bars["date"].head(3) + pd.DateOffset(years=1))
    upsert_prices(session=session, frame=later, ticker="SPX", owner_id=ann.user_id, source="upload")
    upsert_prices(session=session, frame=bars.head(7), ticker="MINE", owner_id=ann.user_id, source="upload")
    tickers = ["SPX", "MINE", "NONE"]
    for actor, expected in ((ann, {"SPX": 254, "MINE": 7, "NONE": 0}), (ben, {"SPX": 251, "MINE": 0, "NONE": 0})):
        with recorded_statements(engine, monkeypatch) as statements:
            counted = visible_days_of(session=session, actor=actor, tickers=tickers)
        reads_of_days = [statement for statement in statements if "historical_data" in statement]
        # Ann sees SPX shared and uploaded: its days are counted; Ben sees each ticker in one series at most.
        assert len(reads_of_days) == (1 if actor is ann else 0)
        assert len(statements) <= 2
        assert counted == expected
        assert counted == {ticker: visible_days(session=session, actor=actor, ticker=ticker) for ticker in tickers}
    assert visible_days_of(session=session, actor=ann, tickers=[]) == {}


@pytest.mark.parametrize(
    ("written", "rendered"),
    [
        ("2500", "2500.0"),
        ("-0", "-0.0"),
        ("0", "0.0"),
        ("6.390862785707e-06", "6.390862785707e-6"),
        ("1e-05", "0.00001"),
        ("1.5e-05", "0.000015"),
        ("1e+15", "1000000000000000.0"),
        ("4.9999999999999996e+22", "5e+22"),
        ("1.7976931348623157e+308", "1.7976931348623157e+308"),
        ("2506.850098", "2506.850098"),
        ("null", "null"),
    ],
)
def test_postgresql_s_records_read_as_orjson_writes_sqlite_s(written, rendered):
    # PostgreSQL's float output writes a whole price as an integer and pads an exponent to two digits.
    prices = ",".join(f'"{name}":{written}' for name in ("open", "high", "low", "close", "adjusted_close"))
    record = f'{{"date":"2024-01-02",{prices},"volume":2500,"source":"upload"}}'
    expected = ",".join(f'"{name}":{rendered}' for name in ("open", "high", "low", "close", "adjusted_close"))
    assert postgres_records_in_orjson_form([record]) == [
        f'{{"date":"2024-01-02",{expected},"volume":2500,"source":"upload"}}'
    ]
