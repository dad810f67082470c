"""Imports all-or-nothing, uploads recorded, fetches one ticker at a time, refresh asks only for new days."""

import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from limits.storage import MemoryStorage
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from yfinance.exceptions import YFTzMissingError

from common.config import load_settings
from core.actions import ActionLimitedError
from core.auth import PermissionDeniedError
from core.data.quality import ticker_quality
from core.data.service import (
    MAX_MESSAGE_CHARS,
    delete_ticker,
    fetch_tickers,
    import_prices,
    load_sample,
    upload_prices,
)
from core.data.split_review import decide_splits, open_candidates
from core.data.yahoo import UNFINISHED_BAR_NOTE
from core.throttle import Throttle
from db.engine import session_scope
from db.models import AuditLog, DataUpload, HistoricalPrice
from db.models.accounts import Role
from db.models.market import CorporateAction
from db.repositories.actor import Actor
from db.repositories.prices import delete_prices, read_prices, upsert_prices
from db.repositories.users import create_user
from tests.accounts import make_account
from tests.core.data.test_layouts import rows_out_to_xfd, sheet_stored_as
from tests.core.data.test_yahoo import FakeYahoo
from tests.fixtures import gspc_2018_bytes, gspc_2018_frame

BAD_ROW = gspc_2018_bytes().replace(b"2018-12-28,2498.77002", b"2018-12-28,-2498.77002")


def count_rows(session, ticker: str) -> int:
    return session.scalar(select(func.count()).select_from(HistoricalPrice).where(HistoricalPrice.ticker == ticker))


@pytest.fixture
def analyst(session):
    return Actor.of(create_user(session=session, username="ida", email="ida@example.com", password_hash="x"))


def upload(session, actor, data, **options):
    return upload_prices(
        session=session,
        actor=actor,
        settings=load_settings(),
        throttle=Throttle(MemoryStorage()),
        data=data,
        filename=options.pop("filename", "prices.csv"),
        ticker=options.pop("ticker", "SPX"),
        **options,
    )


def test_a_file_with_one_bad_row_writes_nothing_and_says_why(session, analyst):
    result = upload(session, analyst, BAD_ROW)
    assert result.status == "rejected"
    assert result.message() == (
        "Rejected, nothing written: 1 of 251 rows invalid (price not above zero: 1; open outside low-high: 1)"
    )
    assert [o.line for o in result.report.examples] == [251]
    assert count_rows(session, "SPX") == 0
    record = session.scalar(select(DataUpload).where(DataUpload.user_id == analyst.user_id))
    assert (record.status, record.row_count, record.kind) == ("rejected", 0, "prices")
    assert record.details["report"]["counts"] == {"price not above zero": 1, "open outside low-high": 1}


def test_skip_bad_rows_writes_the_valid_ones(session, analyst):
    result = upload(session, analyst, BAD_ROW, skip_bad_rows=True)
    assert (result.status, result.written) == ("partial", 250)
    assert count_rows(session, "SPX") == 250
    assert session.scalar(select(DataUpload.status)) == "partial"


def test_a_clean_file_is_the_uploaders_own(session, analyst):
    assert upload(session, analyst, gspc_2018_bytes()).status == "accepted"
    other = Actor.of(create_user(session=session, username="joe", email="joe@example.com", password_hash="x"))
    assert len(read_prices(session=session, actor=analyst, ticker="SPX")) == 251
    assert read_prices(session=session, actor=other, ticker="SPX").empty
    assert session.scalar(select(AuditLog.action).where(AuditLog.user_id == analyst.user_id)) == "upload"


def test_unreadable_files_are_rejected_with_the_reason(session, analyst):
    result = upload(session, analyst, b"Date,Open\n2018-01-02,1\n")
    assert result.status == "rejected"
    assert "missing column close" in result.message()
    assert session.scalar(select(DataUpload.details))["error"].startswith("line 1: layout not recognised")


def test_a_viewer_cannot_upload(session):
    viewer = Actor.of(
        create_user(session=session, username="val", email="val@example.com", password_hash="x", role=Role.VIEWER)
    )
    with pytest.raises(PermissionDeniedError, match="viewer role cannot upload"):
        upload(session, viewer, gspc_2018_bytes())


def test_the_upload_quota(session, analyst, monkeypatch):
    monkeypatch.setenv("ACTION_LIMITS", '{"free": {"upload": "1/hour"}}')
    throttle = Throttle(MemoryStorage())
    options = {"settings": load_settings(), "throttle": throttle, "filename": "a.csv", "ticker": "SPX"}
    upload_prices(session=session, actor=analyst, data=gspc_2018_bytes(), **options)
    with pytest.raises(ActionLimitedError, match=r"try again in \d+ s"):
        upload_prices(session=session, actor=analyst, data=gspc_2018_bytes(), **options)


def test_cli_style_import_is_shared(session):
    result = import_prices(
        session=session,
        data=gspc_2018_bytes(),
        ticker="SPX",
        date_format=None,
        skip_bad_rows=False,
        owner=None,
    )
    assert result.written == 251
    assert (
        session.scalar(select(func.count()).select_from(HistoricalPrice).where(HistoricalPrice.owner_id.is_(None)))
        >= 251
    )


def test_the_sample_loads_as_shared_market_data(session, analyst):
    assert load_sample(session=session, actor=analyst) == 5031
    stored = read_prices(session=session, actor=analyst, ticker="^GSPC")
    assert (str(stored["date"].min().date()), str(stored["date"].max().date())) == (
        "1999-01-04",
        "2018-12-31",
    )
    assert set(stored["source"]) == {"sample"}


def test_only_admins_delete_shared_prices(session, analyst):
    upsert_prices(session=session, frame=gspc_2018_frame().pipe(_bars), ticker="SPX", owner_id=None, source="yahoo")
    with pytest.raises(PermissionDeniedError, match="only an admin"):
        delete_ticker(session=session, actor=analyst, ticker="SPX", shared=True)
    admin = Actor.of(
        create_user(session=session, username="adm", email="adm@example.com", password_hash="x", role=Role.ADMIN)
    )
    assert delete_ticker(session=session, actor=admin, ticker="SPX", shared=True) == 251


def _bars(frame):
    from core.data.frames import normalise_provider_frame

    return normalise_provider_frame(frame).frame


# Fetching commits ticker by ticker, so these run on committed databases of both backends.


@pytest.fixture
def committed(database_url, engine):
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    actor = make_account(database_url)
    yield sessions, actor
    with session_scope(sessions) as session:
        for ticker in ("FETCHA", "FETCHB", "NOPE"):
            delete_prices(session=session, ticker=ticker, owner_id=None)


def fetch(sessions, actor, tickers, fake, **options):
    return fetch_tickers(
        sessions=sessions,
        actor=actor,
        tickers=tickers,
        end=options.pop("end", date(2018, 12, 31)),
        start=options.pop("start", date(2018, 1, 1)),
        settings=load_settings(),
        throttle=Throttle(MemoryStorage()),
        source=options.pop("source", None) or fake.source(),
        **options,
    )


def test_one_bad_ticker_never_stops_the_rest(committed):
    sessions, actor = committed
    fake = FakeYahoo(gspc_2018_frame(), YFTzMissingError("NOPE"), gspc_2018_frame())
    progress = []
    run = fetch(
        sessions,
        actor,
        ["FETCHA", "NOPE", "FETCHB"],
        fake,
        on_progress=lambda i, n, o: progress.append((i, n, o.status)),
    )
    table = run.table()
    assert list(table["status"]) == ["ok", "error", "ok"]
    assert list(table["rows"]) == [251, 0, 251]
    assert table["message"].iloc[1] == "no data for NOPE"
    assert progress == [(1, 3, "ok"), (2, 3, "error"), (3, 3, "ok")]
    assert not run.offline


def test_offline_skips_the_rest_at_once(committed):
    from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError

    sessions, actor = committed
    fake = FakeYahoo(CurlConnectionError("Could not resolve host"))
    run = fetch(sessions, actor, ["FETCHA", "FETCHB"], fake)
    assert run.offline
    assert list(run.table()["status"]) == ["error", "skipped"]
    assert len(fake.requests) == 1


def test_one_slow_ticker_does_not_skip_the_rest(committed):
    from curl_cffi.requests.exceptions import ReadTimeout

    sessions, actor = committed
    slow = ReadTimeout("Operation timed out after 10000 milliseconds with 0 bytes received")
    fake = FakeYahoo(slow, slow, slow, gspc_2018_frame())
    run = fetch(sessions, actor, ["FETCHA", "FETCHB"], fake)
    assert not run.offline
    assert list(run.table()["status"]) == ["error", "ok"]
    assert run.table()["message"].iloc[0].startswith("Yahoo Finance took more than 10 s to answer for FETCHA")


def test_refresh_asks_only_for_days_after_the_last_cached_one(committed):
    sessions, actor = committed
    first_half = gspc_2018_frame().loc[:"2018-06-29"]
    second_half = gspc_2018_frame().loc["2018-07-02":]
    fake = FakeYahoo(first_half, second_half, YFTzMissingError("FETCHA"))
    assert fetch(sessions, actor, ["FETCHA"], fake).outcomes[0].rows == len(first_half)
    refreshed = fetch(sessions, actor, ["FETCHA"], fake, refresh=True)
    assert refreshed.outcomes[0].rows == len(second_half)
    assert fake.requests[1][1]["start"] == "2018-06-30"
    again = fetch(sessions, actor, ["FETCHA"], fake, refresh=True, end=date(2019, 1, 1))
    assert (again.outcomes[0].status, fake.requests[2][1]["start"]) == ("up to date", "2019-01-01")
    up_to_date = fetch(sessions, actor, ["FETCHA"], fake, refresh=True)
    assert up_to_date.outcomes[0].status == "up to date"
    assert len(fake.requests) == 3
    with session_scope(sessions) as session:
        assert len(read_prices(session=session, actor=actor, ticker="FETCHA")) == 251


def test_a_refresh_that_finds_a_split_fetches_the_whole_history_again_on_the_new_adjusted_basis(committed):
    sessions, actor = committed
    history = gspc_2018_frame().assign(**{"Dividends": 0.0, "Stock Splits": 0.0})
    split_day = list(history.index.date).index(date(2018, 9, 4))
    history.iloc[split_day, history.columns.get_loc("Stock Splits")] = 2.0
    # Yahoo after the split: every close before it halved in the adjusted column, raw closes as traded.
    after_the_split = history.copy()
    after_the_split.iloc[:split_day, after_the_split.columns.get_loc("Adj Close")] /= 2
    fake = FakeYahoo(history.loc[:"2018-06-29"], after_the_split.loc["2018-07-02":], after_the_split)
    fetch(sessions, actor, ["FETCHA"], fake)
    refreshed = fetch(sessions, actor, ["FETCHA"], fake, refresh=True)

    assert [options["start"] for _, options in fake.requests] == ["2018-01-01", "2018-06-30", "2018-01-02"]
    outcome = refreshed.outcomes[0]
    assert (outcome.status, outcome.rows) == ("ok", 251)
    assert outcome.message == (
        "a split on 2018-09-04 (2:1): the history from 2018-01-02 fetched again, so its adjusted close runs through it"
    )
    with session_scope(sessions) as session:
        stored = read_prices(session=session, actor=actor, ticker="FETCHA")
        report = ticker_quality(session=session, actor=actor, ticker="FETCHA", today=date(2019, 1, 2))
    expected = after_the_split["Adj Close"].to_numpy()
    np.testing.assert_allclose(stored["adjusted_close"].to_numpy(), expected)
    assert report.unadjusted_splits == []


def test_a_refresh_whose_second_fetch_fails_keeps_the_new_days_and_says_the_old_ones_stay(committed):
    from curl_cffi.requests.exceptions import ReadTimeout

    sessions, actor = committed
    history = gspc_2018_frame().assign(**{"Dividends": 0.0, "Stock Splits": 0.0})
    history.iloc[list(history.index.date).index(date(2018, 9, 4)), history.columns.get_loc("Stock Splits")] = 2.0
    slow = ReadTimeout("Operation timed out after 10000 milliseconds with 0 bytes received")
    fake = FakeYahoo(history.loc[:"2018-06-29"], history.loc["2018-07-02":], slow, slow, slow)
    fetch(sessions, actor, ["FETCHA"], fake)
    outcome = fetch(sessions, actor, ["FETCHA"], fake, refresh=True).outcomes[0]
    assert (outcome.status, outcome.rows) == ("ok", len(history.loc["2018-07-02":]))
    assert outcome.message.startswith("a split on 2018-09-04 (2:1): fetching the history again failed (Yahoo")
    assert outcome.message.endswith("so the adjusted close before it stays as it was")


def test_a_fetch_while_the_last_session_trades_stores_the_days_before_and_says_why(committed):
    sessions, actor = committed
    fake = FakeYahoo(gspc_2018_frame())
    during_the_last_session = datetime(2018, 12, 31, 17, 0, tzinfo=UTC)  # noon in New York
    run = fetch(sessions, actor, ["FETCHA"], fake, source=fake.source(now=during_the_last_session))
    [outcome] = run.outcomes
    assert (outcome.status, outcome.rows) == ("ok", 250)
    assert outcome.message == UNFINISHED_BAR_NOTE


def test_a_fetched_day_with_an_infinite_or_zero_price_is_not_stored_and_is_counted_as_dropped(committed):
    sessions, actor = committed
    history = gspc_2018_frame()
    history.iloc[100, history.columns.get_loc("Adj Close")] = np.inf
    history.iloc[101, history.columns.get_loc("Open")] = 0.0
    [outcome] = fetch(sessions, actor, ["FETCHA"], FakeYahoo(history)).outcomes
    assert (outcome.status, outcome.rows, outcome.dropped_rows) == ("ok", 249, 2)
    with session_scope(sessions) as session:
        stored = read_prices(session=session, actor=actor, ticker="FETCHA")
    prices = stored[["open", "high", "low", "close", "adjusted_close"]].to_numpy()
    assert np.isfinite(prices).all()
    assert (prices > 0).all()


def test_a_ticker_list_becomes_the_default_only_when_clean(session, analyst):
    from core.data.service import save_ticker_list
    from db.repositories.preferences import get_preferences

    assert save_ticker_list(session=session, actor=analyst, text="msft, brk-b") == (["MSFT", "BRK-B"], [])
    tickers, problems = save_ticker_list(session=session, actor=analyst, data=b"AAPL\nbad$\n", filename="list.txt")
    assert (tickers, len(problems)) == (["AAPL"], 1)
    assert get_preferences(session=session, actor=analyst).default_tickers == ["MSFT", "BRK-B"]
    record = session.scalar(select(DataUpload).where(DataUpload.kind == "tickers"))
    assert (record.filename, record.status, record.row_count) == ("list.txt", "partial", 1)


def seven_ticker_file() -> bytes:
    lines = gspc_2018_bytes().decode().splitlines()
    symbols = ["AAAA", "BBBB", "CCCC", "DDDD", "EEEE", "FFFF", "GGGG"]
    rows = [f"{symbol},{line}" for symbol in symbols for line in lines[1:21]]
    return "\n".join(["Ticker," + lines[0], *rows]).encode()


def test_a_file_with_seven_tickers_imports_and_is_recorded(session, analyst):
    result = upload(session, analyst, seven_ticker_file(), ticker=None)
    assert result.status == "accepted", result.message()
    assert result.tickers == ("AAAA", "BBBB", "CCCC", "DDDD", "EEEE", "FFFF", "GGGG")
    assert count_rows(session, "GGGG") == 20
    record = session.scalar(select(DataUpload).where(DataUpload.user_id == analyst.user_id))
    assert record.tickers == list(result.tickers)


def test_the_success_line_gives_the_span_and_counts_in_words(session, analyst):
    accepted = upload(session, analyst, gspc_2018_bytes())
    assert accepted.message() == "Wrote 251 rows of SPX from 2018-01-02 to 2018-12-31"
    partial = upload(session, analyst, BAD_ROW, ticker="SPY", skip_bad_rows=True)
    assert partial.message() == "Wrote 250 valid rows of SPY from 2018-01-02 to 2018-12-31; skipped 1 bad row"


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01\x00" + bytes(500),
        b"\xef\xbb\xbfDate,Open\xff,High\n",
        b"Date,Open,High,Low,Close\n2018-01-02,1,2,0.5,1\n" + b"2018-01-03," + b"9" * 200_000 + b",2,1,1\n",
    ],
    ids=["binary", "bom-then-invalid", "huge-field"],
)
def test_bad_files_write_no_prices_and_say_why(session, analyst, data):
    result = upload(session, analyst, data)
    assert result.status == "rejected"
    assert result.error
    assert count_rows(session, "SPX") == 0


def test_a_workbook_whose_sheet_part_is_not_named_xml_is_measured_and_refused(session, analyst):
    data = sheet_stored_as("xl/worksheets/sheet1.bin", rows_out_to_xfd(3_000))
    result = upload(session, analyst, data, filename="prices.xlsx")
    assert result.status == "rejected"
    assert "more than the 2,000,000 cells a workbook may have" in result.message()
    assert count_rows(session, "SPX") == 0


def test_an_impossible_date_format_is_a_message(session, analyst):
    result = upload(session, analyst, gspc_2018_bytes(), date_format="%Q")
    assert result.message().startswith("Rejected, nothing written: date format '%Q'")
    assert count_rows(session, "SPX") == 0


def test_a_rejected_upload_does_not_use_the_quota(session, analyst, monkeypatch):
    monkeypatch.setenv("ACTION_LIMITS", '{"free": {"upload": "1/hour"}}')
    options = {"settings": load_settings(), "throttle": Throttle(MemoryStorage()), "filename": "a.csv", "ticker": "SPX"}
    for _ in range(3):
        assert upload_prices(session=session, actor=analyst, data=BAD_ROW, **options).status == "rejected"
    assert upload_prices(session=session, actor=analyst, data=gspc_2018_bytes(), **options).status == "accepted"
    with pytest.raises(ActionLimitedError):
        upload_prices(session=session, actor=analyst, data=BAD_ROW, **options)


def test_the_same_file_again_changes_nothing_and_does_not_use_the_quota(session, analyst, monkeypatch):
    monkeypatch.setenv("ACTION_LIMITS", '{"free": {"upload": "2/hour"}}')
    options = {"settings": load_settings(), "throttle": Throttle(MemoryStorage()), "filename": "a.csv"}
    assert upload_prices(session=session, actor=analyst, data=gspc_2018_bytes(), ticker="SPX", **options).written == 251
    for _ in range(2):
        again = upload_prices(session=session, actor=analyst, data=gspc_2018_bytes(), ticker="SPX", **options)
        assert (again.status, again.written) == ("accepted", 0)
    assert again.message() == (
        "Nothing new: the 251 rows of SPX from 2018-01-02 to 2018-12-31 are stored already as the file gives them"
    )
    assert upload_prices(session=session, actor=analyst, data=gspc_2018_bytes(), ticker="SPY", **options).written
    with pytest.raises(ActionLimitedError):
        upload_prices(session=session, actor=analyst, data=gspc_2018_bytes(), ticker="SPX", **options)


def test_a_file_changing_some_days_says_how_many_were_stored_already(session, analyst):
    upload(session, analyst, gspc_2018_bytes())
    changed = gspc_2018_bytes().replace(b"2018-12-28,2498.77002", b"2018-12-28,2498.5")
    assert upload(session, analyst, changed).message() == (
        "Wrote 1 row of SPX from 2018-01-02 to 2018-12-31 (250 stored already as the file gives them)"
    )


def test_a_fetch_keeps_the_splits_yahoo_reports(committed):
    from db.repositories.prices import read_actions

    sessions, actor = committed
    history = gspc_2018_frame().assign(**{"Dividends": 0.0, "Stock Splits": 0.0})
    history.iloc[100, history.columns.get_loc("Stock Splits")] = 2.0
    assert list(fetch(sessions, actor, ["FETCHA"], FakeYahoo(history)).table()["status"]) == ["ok"]
    with session_scope(sessions) as session:
        actions = read_actions(session=session, actor=actor, ticker="FETCHA")
        session.execute(CorporateAction.__table__.delete().where(CorporateAction.ticker == "FETCHA"))
    assert actions[["kind", "value", "source"]].to_dict("records") == [
        {"kind": "split", "value": 2.0, "source": "yahoo"}
    ]
    assert str(actions["date"].iloc[0]) == str(history.index[100].date())


def test_an_upload_keeps_the_split_coefficient_of_its_source(session, analyst):
    from db.repositories.prices import read_actions

    lines = gspc_2018_bytes().decode().splitlines()
    body = [f"{line},0.0,{'2.0' if number == 30 else '1.0'}" for number, line in enumerate(lines[1:])]
    data = "\n".join([lines[0] + ",dividend_amount,split_coefficient", *body]).encode()
    assert upload(session, analyst, data).status == "accepted"
    actions = read_actions(session=session, actor=analyst, ticker="SPX")
    assert actions[["kind", "value", "source"]].to_dict("records") == [
        {"kind": "split", "value": 2.0, "source": "upload"}
    ]


SPLIT_DAY = pd.bdate_range("2024-01-02", periods=40)[20].date()


def four_for_one(*, adjusted: bool = False, days: slice = slice(None)) -> bytes:
    """40 days of raw prices falling 4:1 on the 21st (419 to 105), with or without an adjusted close column."""
    close = np.r_[np.linspace(400, 419, 20), np.linspace(105, 110, 20)]
    dates = pd.bdate_range("2024-01-02", periods=40).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"Date": dates, "Open": close, "High": close, "Low": close, "Close": close})
    if adjusted:
        frame["Adj Close"] = close
    frame["Volume"] = 1000
    return frame.iloc[days].to_csv(index=False).encode()


def adjusted_closes(session, actor) -> list[float]:
    return read_prices(session=session, actor=actor, ticker="FOUR")["adjusted_close"].tolist()


@pytest.fixture
def confirmed_split(session, analyst) -> list[float]:
    """FOUR uploaded and its 4:1 split confirmed: the adjusted closes it left."""
    assert upload(session, analyst, four_for_one(), ticker="FOUR").status == "accepted"
    [candidate] = open_candidates(session=session, ticker="FOUR", owner_id=analyst.user_id)
    assert (candidate.date, candidate.label) == (SPLIT_DAY, "4:1")
    decided = decide_splits(session=session, actor=analyst, ticker="FOUR", shared=False, confirm=[SPLIT_DAY], reject=[])
    assert decided.adjusted_rows == 20
    closes = adjusted_closes(session, analyst)
    assert closes[0] == pytest.approx(100)
    assert closes[19] == pytest.approx(419 / 4)
    return closes


def test_uploading_the_file_again_keeps_the_split_confirmed_in_its_adjusted_close(session, analyst, confirmed_split):
    again = upload(session, analyst, four_for_one(), ticker="FOUR")
    assert again.status == "accepted"
    assert adjusted_closes(session, analyst) == pytest.approx(confirmed_split)
    assert f"FOUR: the adjusted close divided by the split confirmed on {SPLIT_DAY} (4:1) on the 20 days before it" in (
        again.notes
    )
    assert open_candidates(session=session, ticker="FOUR", owner_id=analyst.user_id) == []
    report = ticker_quality(session=session, actor=analyst, ticker="FOUR", today=date(2024, 3, 1))
    assert report.unadjusted_splits == []
    assert report.split_candidates == []
    assert [split.date for split in report.reported_splits] == [SPLIT_DAY]


def test_days_before_a_confirmed_split_uploaded_alone_are_divided_by_it(session, analyst, confirmed_split):
    assert upload(session, analyst, four_for_one(days=slice(0, 10)), ticker="FOUR").status == "accepted"
    assert adjusted_closes(session, analyst) == pytest.approx(confirmed_split)


def test_a_close_that_already_runs_through_a_confirmed_split_is_not_divided_again(session, analyst, confirmed_split):
    lines = four_for_one().decode().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    for row in rows[:20]:
        row[1:5] = [f"{float(value) / 4}" for value in row[1:5]]
    result = upload(session, analyst, "\n".join([lines[0], *(",".join(row) for row in rows)]).encode(), ticker="FOUR")
    assert result.status == "accepted"
    assert adjusted_closes(session, analyst) == pytest.approx(confirmed_split)
    assert f"FOUR: the split confirmed on {SPLIT_DAY} (4:1) not applied: the file's close already runs through it" in (
        result.notes
    )


def test_a_file_with_its_own_adjusted_close_is_kept_as_given_and_its_split_can_be_confirmed_again(
    session, analyst, confirmed_split
):
    assert upload(session, analyst, four_for_one(adjusted=True), ticker="FOUR").status == "accepted"
    assert adjusted_closes(session, analyst)[0] == pytest.approx(400)
    [candidate] = open_candidates(session=session, ticker="FOUR", owner_id=analyst.user_id)
    assert (candidate.date, candidate.label) == (SPLIT_DAY, "4:1")
    decide_splits(session=session, actor=analyst, ticker="FOUR", shared=False, confirm=[SPLIT_DAY], reject=[])
    assert adjusted_closes(session, analyst) == pytest.approx(confirmed_split)


def test_deleting_a_ticker_forgets_its_split_decisions_so_a_fresh_upload_is_asked_again(session, analyst):
    assert upload(session, analyst, four_for_one(), ticker="FOUR").status == "accepted"
    # "Not a split" clicked by mistake: deleting the prices and uploading them again is how it is undone.
    decide_splits(session=session, actor=analyst, ticker="FOUR", shared=False, confirm=[], reject=[SPLIT_DAY])
    assert open_candidates(session=session, ticker="FOUR", owner_id=analyst.user_id) == []
    delete_ticker(session=session, actor=analyst, ticker="FOUR", shared=False)
    left = select(func.count()).select_from(CorporateAction).where(CorporateAction.ticker == "FOUR")
    assert session.scalar(left) == 0
    assert upload(session, analyst, four_for_one(), ticker="FOUR").status == "accepted"
    [candidate] = open_candidates(session=session, ticker="FOUR", owner_id=analyst.user_id)
    assert (candidate.date, candidate.label) == (SPLIT_DAY, "4:1")


def test_a_dividend_reported_on_a_split_day_leaves_the_decision_on_that_day(session, analyst, confirmed_split):
    from db.repositories.prices import read_actions, replace_actions

    dividend = pd.DataFrame({"date": [SPLIT_DAY], "kind": ["dividend"], "value": [0.5]})
    replace_actions(session=session, ticker="FOUR", owner_id=analyst.user_id, actions=dividend, source="upload")
    kept = read_actions(session=session, actor=analyst, ticker="FOUR")
    assert sorted(zip(kept["kind"], kept["source"], strict=True)) == [("dividend", "upload"), ("split", "confirmed")]


HIDDEN_BY_LINE_SEPARATORS = "Date,Close\n2024-01-02,185.64\n2024-01-03" + ("\u2028" + "x" * 500) * 10 + ",184.25\n"


def test_a_long_value_hidden_behind_line_separators_writes_nothing_even_skipping_bad_rows(session, analyst):
    result = upload(session, analyst, HIDDEN_BY_LINE_SEPARATORS.encode(), skip_bad_rows=True)
    assert result.status == "rejected"
    assert "line 3, column 1 holds a value of 5,020 characters" in result.message()
    assert count_rows(session, "SPX") == 0


def stored_details(session, actor) -> list[dict]:
    return session.scalars(select(DataUpload.details).where(DataUpload.user_id == actor.user_id)).all()


def test_what_a_refused_file_shows_and_leaves_on_record_is_bounded(session, analyst):
    junk = upload(session, analyst, (b"x" * 900 + b"\x85") * 5500)
    assert junk.status == "rejected"
    assert junk.preview is None
    assert len(junk.message()) < 300
    # Five tickers of 999 characters, each quoted in the refusal of a typed ticker over several.
    lines = ["Ticker,Date,Close"] + [f"{letter * 999},2024-01-0{day},1" for day, letter in enumerate("ABCDE", 2)]
    named = upload(session, analyst, "\n".join(lines).encode())
    assert named.status == "rejected"
    assert len(named.error) <= MAX_MESSAGE_CHARS
    assert named.error.endswith("…")
    details = stored_details(session, analyst)
    assert named.error in [record.get("error") for record in details]
    assert max(len(json.dumps(record)) for record in details) < 5_000
