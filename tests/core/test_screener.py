"""The screener on crafted indicator histories, and over the database in one query."""

import uuid
from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.data.calendar import calendar_for
from core.data.frames import normalise_provider_frame
from core.data.service import import_prices
from core.indicator_store import refresh_indicators
from core.screener import SPARKLINE_DAYS, Criteria, ScreenerError, screen, screen_frame
from db.repositories.actor import Actor
from db.repositories.indicators import read_indicators
from db.repositories.prices import upsert_prices
from db.repositories.users import create_user
from tests.fixtures import gspc_2018_bytes, gspc_2018_frame
from tests.queries import recorded_statements

DAYS = 126  # half an exchange's year of rows: the fewest a one-year HV median is taken over


def history(ticker, *, rsi=50.0, close=100.0, ema_200=90.0, hv=0.2, hv_past=0.2, macd_hist=None):
    dates = pd.bdate_range("2024-01-01", periods=DAYS)
    histogram = macd_hist if macd_hist is not None else [1.0] * DAYS
    return pd.DataFrame(
        {
            "ticker": ticker,
            "date": dates,
            "close": close,
            "rsi_14": rsi,
            "ema_200": ema_200,
            "macd_hist": histogram,
            "hv_20": [hv_past] * (DAYS - 1) + [hv],
        }
    )


@pytest.fixture
def window():
    cross = [-1.0] * (DAYS - 3) + [0.5, 0.7, 0.9]  # crossed up three days ago
    old_cross = [-1.0] * 5 + [1.0] * (DAYS - 5)  # crossed long ago
    return pd.concat(
        [
            history("OVERSOLD", rsi=25.0, close=80.0, ema_200=90.0),
            history("TREND", rsi=60.0, close=120.0, ema_200=100.0, macd_hist=cross),
            history("CALM", rsi=45.0, hv=0.1, hv_past=0.3, macd_hist=old_cross),
            history("WILD", rsi=75.0, hv=0.6, hv_past=0.3),
        ]
    )


def matched(window, **criteria) -> list[str]:
    return sorted(screen_frame(window, Criteria(**criteria))["ticker"])


def test_each_condition(window):
    assert matched(window, rsi_below=30) == ["OVERSOLD"]
    assert matched(window, rsi_above=70) == ["WILD"]
    assert matched(window, close_above_ema200=True) == ["CALM", "TREND", "WILD"]
    assert matched(window, close_below_ema200=True) == ["OVERSOLD"]
    assert matched(window, macd_crossed_up_within=5) == ["TREND"]
    assert matched(window, macd_crossed_up_within=2) == []
    assert matched(window, hv_above_year_median=True) == ["WILD"]


def test_conditions_combine(window):
    assert matched(window, close_above_ema200=True, rsi_above=55) == ["TREND", "WILD"]
    assert matched(window) == ["CALM", "OVERSOLD", "TREND", "WILD"]


def test_matches_carry_latest_values_and_a_sparkline(window):
    result = screen_frame(window, Criteria(rsi_below=30))
    row = result.iloc[0]
    assert (row["ticker"], row["rsi_14"], row["close"]) == ("OVERSOLD", 25.0, 80.0)
    assert row["recent"] == [80.0] * SPARKLINE_DAYS


def test_nan_indicators_never_match():
    data = history("NEW", rsi=np.nan)
    assert matched(data, rsi_below=30) == []


def test_describe():
    assert Criteria(rsi_below=30, close_above_ema200=True).describe() == ["RSI < 30", "close above EMA 200"]


def test_screen_over_the_database_reads_latest_rows_then_the_matches(session, engine, monkeypatch):
    actor = Actor.of(create_user(session=session, username="sia", email="sia@example.com", password_hash="x"))
    bars = normalise_provider_frame(gspc_2018_frame()).frame
    for ticker, scale in (("AAA", 1.0), ("BBB", 0.5)):
        upsert_prices(
            session=session,
            frame=bars.assign(**{c: bars[c] * scale for c in ("open", "high", "low", "close", "adjusted_close")}),
            ticker=ticker,
            owner_id=None,
            source="yahoo",
        )
        refresh_indicators(session=session, ticker=ticker, owner_id=None)
    import db.repositories.indicators as repository
    import db.repositories.prices as prices

    with recorded_statements(engine, monkeypatch, repository, prices) as statements:
        result = screen(session=session, actor=actor, criteria=Criteria(close_below_ema200=True))
    # One read of the screened rows, then the matches' series versions, actions and prices for their flags.
    assert len(statements) == 4
    assert "latest_indicators" in statements[0].lower()
    assert "historical_data" in statements[-1].lower()
    assert {"AAA", "BBB"} <= set(result["ticker"])  # 2018 closed below its 200-day EMA
    stored = read_indicators(session=session, actor=actor, ticker="AAA")
    assert stored["rsi_14"].iloc[-1] == pytest.approx(result.set_index("ticker").loc["AAA", "rsi_14"])


def test_matches_with_data_problems_are_marked(session):
    actor = Actor.of(create_user(session=session, username="qia", email="qia@example.com", password_hash="x"))
    bars = normalise_provider_frame(gspc_2018_frame()).frame
    silent = bars.copy()
    silent.loc[silent.index[100:103], "volume"] = 0
    for ticker, frame in (("CLEANQ", bars), ("SILENTQ", silent)):
        upsert_prices(session=session, frame=frame, ticker=ticker, owner_id=None, source="yahoo")
        refresh_indicators(session=session, ticker=ticker, owner_id=None)
    result = screen(session=session, actor=actor, criteria=Criteria()).set_index("ticker")
    assert result.loc["CLEANQ", "data problems"] is None
    assert result.loc["SILENTQ", "data problems"].startswith("3 days with zero volume: ")
    assert result.loc["SILENTQ", "recent"] == pytest.approx(bars["close"].tail(60).round(4).tolist())


def test_a_median_of_too_short_a_history_is_none_to_be_above():
    young = history("YOUNG", hv=0.6, hv_past=0.3).tail(30)
    assert matched(young, hv_above_year_median=True) == []
    assert matched(history("GROWN", hv=0.6, hv_past=0.3), hv_above_year_median=True) == ["GROWN"]


def session_csv(ticker: str, first: str, last: str, *, missing: tuple[str, ...] = ()) -> bytes:
    """Bars on every session of the ticker's exchange between two days, but the missing ones."""
    days = [day for day in calendar_for(ticker).sessions_in_range(first, last) if f"{day:%Y-%m-%d}" not in missing]
    close = 100 + np.sin(np.arange(len(days)) / 5) * 5
    frame = pd.DataFrame({"Date": [f"{day:%Y-%m-%d}" for day in days], "Open": close, "High": close + 1,
                          "Low": close - 1, "Close": close, "Volume": 1000})  # fmt: skip
    return frame.to_csv(index=False).encode()


def upload(session, ticker: str, data: bytes) -> None:
    result = import_prices(session=session, data=data, ticker=ticker, date_format=None, skip_bad_rows=False, owner=None)
    assert result.status == "accepted", result.notes


def test_each_match_is_judged_on_its_own_last_year_whatever_else_matched(session):
    """A ticker that stopped long ago matching too once pulled a fresh ticker's old gaps into its problems."""
    actor = Actor.of(create_user(session=session, username="nia", email="nia@example.com", password_hash="x"))
    upload(session, "NEWQ", session_csv("NEWQ", "2022-01-03", "2024-06-28", missing=("2022-03-01", "2022-03-02")))
    today = date(2024, 7, 1)
    alone = screen(session=session, actor=actor, criteria=Criteria(), today=today).set_index("ticker")
    upload(session, "OLDQ", session_csv("OLDQ", "2021-01-04", "2022-06-30", missing=("2021-03-01",)))
    both = screen(session=session, actor=actor, criteria=Criteria(), today=today).set_index("ticker")
    assert alone.loc["NEWQ", "data problems"] is None
    assert both.loc["NEWQ", "data problems"] is None
    assert both.loc["OLDQ", "data problems"] is None, "its one gap is more than a year before its last bar"


def test_a_ticker_with_a_month_of_prices_has_no_year_median_to_be_above(session):
    actor = Actor.of(create_user(session=session, username="hia", email="hia@example.com", password_hash="x"))
    days = pd.bdate_range("2024-05-01", periods=30)
    close = np.r_[np.full(25, 100.0) + np.arange(25) * 0.01, [100, 110, 95, 108, 97]]  # calm, then wild
    young = pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Open": close, "High": close + 0.5,
                          "Low": close - 0.5, "Close": close, "Volume": 1000})  # fmt: skip
    upload(session, "YOUNGQ", young.to_csv(index=False).encode())
    upload(session, "YEARQ", gspc_2018_bytes())  # December 2018 was the year's wildest month
    result = screen(session=session, actor=actor, criteria=Criteria(hv_above_year_median=True))
    assert "YOUNGQ" not in set(result["ticker"])
    assert "YEARQ" in set(result["ticker"])


def test_a_screen_again_reads_no_prices_until_they_change(session, engine, monkeypatch):
    """A match-all screen of 400 tickers read a year of each and judged its quality on every click: a second."""
    actor = Actor.of(create_user(session=session, username="ria", email="ria@example.com", password_hash="x"))
    bars = normalise_provider_frame(gspc_2018_frame()).frame
    silent = bars.copy()
    silent.loc[silent.index[100:103], "volume"] = 0
    for ticker, frame in (("CLEANR", bars), ("SILENTR", silent)):
        upsert_prices(session=session, frame=frame, ticker=ticker, owner_id=None, source="yahoo")
        refresh_indicators(session=session, ticker=ticker, owner_id=None)
    first = screen(session=session, actor=actor, criteria=Criteria())
    import db.repositories.indicators as repository
    import db.repositories.prices as prices

    with recorded_statements(engine, monkeypatch, repository, prices) as statements:
        again = screen(session=session, actor=actor, criteria=Criteria())
    assert not [statement for statement in statements if "historical_data" in statement.lower()]
    pd.testing.assert_frame_equal(again, first)
    assert again.set_index("ticker").loc["SILENTR", "data problems"].startswith("3 days with zero volume: ")

    # New prices of CLEANR, with silent days of their own: the next screen judges them.
    quiet = bars.assign(close=bars["close"] * 1.01, adjusted_close=bars["adjusted_close"] * 1.01)
    quiet.loc[quiet.index[200:202], "volume"] = 0
    upsert_prices(session=session, frame=quiet, ticker="CLEANR", owner_id=None, source="yahoo")
    refresh_indicators(session=session, ticker="CLEANR", owner_id=None)
    changed = screen(session=session, actor=actor, criteria=Criteria()).set_index("ticker")
    assert changed.loc["CLEANR", "data problems"].startswith("2 days with zero volume: ")
    assert changed.loc["CLEANR", "recent"] == pytest.approx((bars["close"] * 1.01).tail(60).round(4).tolist())
    assert changed.loc["SILENTR", "data problems"] == first.set_index("ticker").loc["SILENTR", "data problems"]


def test_each_user_s_screen_judges_the_prices_they_see(session):
    shared_bars = normalise_provider_frame(gspc_2018_frame()).frame
    silent = shared_bars.copy()
    silent.loc[silent.index[100:103], "volume"] = 0
    upsert_prices(session=session, frame=silent, ticker="OWNR", owner_id=None, source="yahoo")
    refresh_indicators(session=session, ticker="OWNR", owner_id=None)
    ann, ben = (
        Actor.of(create_user(session=session, username=name, email=f"{name}@example.com", password_hash="x"))
        for name in ("ann", "ben")
    )
    assert screen(session=session, actor=ann, criteria=Criteria()).set_index("ticker").loc["OWNR", "data problems"]
    # Ben uploads his own, complete prices of the ticker: his screen judges them, Ann's the shared ones still.
    upsert_prices(session=session, frame=shared_bars, ticker="OWNR", owner_id=ben.user_id, source="upload")
    refresh_indicators(session=session, ticker="OWNR", owner_id=ben.user_id)
    assert (
        screen(session=session, actor=ben, criteria=Criteria()).set_index("ticker").loc["OWNR", "data problems"] is None
    )
    ann_again = screen(session=session, actor=ann, criteria=Criteria()).set_index("ticker")
    assert ann_again.loc["OWNR", "data problems"].startswith("3 days with zero volume: ")


def test_a_rejected_split_leaves_the_flags_on_the_next_screen(session):
    # A rejection stores a 1:1 split and changes no price: the flags still follow it.
    from db.repositories.prices import replace_actions

    actor = Actor.of(create_user(session=session, username="sia2", email="sia2@example.com", password_hash="x"))
    bars = normalise_provider_frame(gspc_2018_frame()).frame
    halved = bars.copy()
    before = halved.index[:150]
    for column in ("open", "high", "low", "close", "adjusted_close"):
        halved.loc[before, column] = halved.loc[before, column] * 2  # as if a 2:1 split had not been adjusted
    upsert_prices(session=session, frame=halved, ticker="SPLITR", owner_id=None, source="yahoo")
    refresh_indicators(session=session, ticker="SPLITR", owner_id=None)
    day = pd.Timestamp(halved["date"].iloc[150]).date()
    flagged = screen(session=session, actor=actor, criteria=Criteria()).set_index("ticker")
    assert f"1 possible split to confirm: {day}" in flagged.loc["SPLITR", "data problems"]
    rejection = pd.DataFrame({"date": [day], "kind": ["split"], "value": [1.0]})
    replace_actions(session=session, ticker="SPLITR", owner_id=None, actions=rejection, source="rejected")
    after = screen(session=session, actor=actor, criteria=Criteria()).set_index("ticker")
    assert "possible split" not in (after.loc["SPLITR", "data problems"] or "")


@pytest.mark.parametrize(
    ("criteria", "named"),
    [
        (Criteria(rsi_below=20, rsi_above=80), "RSI above 80 and below 20"),
        (Criteria(rsi_below=50, rsi_above=50), "RSI above 50 and below 50"),
        (Criteria(close_above_ema200=True, close_below_ema200=True), "both above and below its EMA 200"),
    ],
)
def test_criteria_no_ticker_could_meet_are_refused_not_screened(session, criteria, named):
    with pytest.raises(ScreenerError, match=named):
        screen(session=session, actor=Actor(uuid.uuid4(), "ann", "analyst", "free"), criteria=criteria)


def test_bounds_that_leave_a_band_are_screened(window):
    assert matched(window, rsi_above=40, rsi_below=50) == ["CALM"]
