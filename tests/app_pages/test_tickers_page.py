"""The Tickers page through AppTest: offline notice, sample, uploads with their report, lists, viewers."""

import pytest
import streamlit as st
from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError

from core.data.yahoo import OFFLINE_MESSAGE
from db.models.accounts import Role
from tests.accounts import logged_in_app, make_account
from tests.core.data.test_bad_input import BAD_FILES
from tests.fixtures import gspc_2018_bytes

PAGE = "app_pages/tickers.py"


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """A fresh database, and Yahoo unreachable exactly as it is on this machine."""
    from sqlalchemy.engine import URL

    from db.migrate import upgrade_to_head

    url = URL.create("sqlite", database=str(tmp_path / "tickers.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))

    def no_network(ticker, **options):
        raise CurlConnectionError("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")

    monkeypatch.setattr("core.data.yahoo.yfinance_history", no_network)
    monkeypatch.setattr("core.data.yahoo.yahoo_reachable", lambda timeout_seconds=3.0: False)
    st.cache_data.clear()
    return url


def button(at, label_start):
    return next(b for b in at.button if b.label.startswith(label_start))


def text_input(at, label):
    return next(t for t in at.text_input if t.label == label)


def test_offline_is_one_line_pointing_to_upload_and_the_sample(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    assert not at.exception
    assert at.info[0].value.startswith("Yahoo Finance cannot be reached from here: upload a price CSV or load")


def test_load_the_sample_and_preview_it(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    button(at, "Load the S&P 500 sample").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Loaded 5,031 days of ^GSPC."], "said after the page refreshed"
    tabs_at = [type(node).__name__ for node in at.main.children.values()].index("Block")
    at.run()
    assert not at.success, "said once"
    # Were the notice's place gone, the tabs would move up one and the browser redraw them on their first.
    assert [type(node).__name__ for node in at.main.children.values()].index("Block") == tabs_at
    table = at.dataframe[0].value
    assert table.iloc[0].to_dict() == {
        "Ticker": "^GSPC",
        "Prices": "shared",
        "Source": "sample",
        "First day": "1999-01-04",
        "Last day": "2018-12-31",
        "Days": "5,031",
        "Freshness": "stale",
    }
    assert at.selectbox[0].value == "^GSPC"
    (chart,) = at.get("component_instance")
    assert chart.proto.component_name.endswith("price_chart")
    assert at.expander[0].label == "Data quality: 2 findings"
    assert at.text[0].value == "5,031 days from 1999-01-04 to 2018-12-31 (XNYS calendar)"
    assert at.text[1].value.startswith("• stale: the last bar is 2018-12-31, the exchange last traded on")
    assert at.text[2].value == ("• 2 returns beyond 8 standard deviations: 2008-10-13 (+9.1 sd), 2008-10-28 (+8.5 sd)")
    assert any(b.label.startswith("Load the S&P") for b in at.button) is False


def test_deleting_uploaded_prices_is_asked_about_then_confirmed(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[0].set_value(("spx.csv", gspc_2018_bytes(), "text/csv"))
    text_input(at, "Ticker").input("SPX")
    button(at, "Import").click().run()
    at.run()
    button(at, "Delete my uploaded SPX").click().run()
    assert [w.value for w in at.warning if w.value.startswith("Delete")] == [
        "Delete your 251 days of SPX, with their split decisions? Nothing else keeps them."
    ]
    assert at.dataframe[0].value["Ticker"].tolist() == ["SPX"], "nothing deleted on the first click"
    button(at, "Yes, delete").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Deleted 251 days of SPX."]
    assert at.info[-1].value.startswith("The cache is empty")


def test_upload_with_a_bad_row_shows_the_report_and_writes_nothing(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    bad = gspc_2018_bytes().replace(b"2018-12-28,2498.77002", b"2018-12-28,-2498.77002")
    at.file_uploader[0].set_value(("spx.csv", bad, "text/csv"))
    text_input(at, "Ticker").input("SPX")
    button(at, "Import").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Rejected, nothing written: 1 of 251 rows invalid (price not above zero: 1; open outside low-high: 1)"
    ]
    rules, offenders = at.dataframe[-2].value, at.dataframe[-1].value
    assert dict(zip(rules["Rule"], rules["Rows"], strict=True)) == {
        "price not above zero": "1",
        "open outside low-high": "1",
    }
    assert list(offenders["Line"]) == [251]
    names = ["Line", "Problems", "Date", "Open", "High", "Low", "Close", "Adjusted close", "Volume"]
    assert list(offenders.columns) == names, "named as every other table, not by our internal column names"
    assert at.info[-1].value.startswith("The cache is empty")

    at.checkbox[-1].check()
    button(at, "Import").click().run()
    assert [w.value for w in at.warning] == [
        "Wrote 250 valid rows of SPX from 2018-01-02 to 2018-12-31; skipped 1 bad row"
    ]


def test_an_upload_with_notes_above_its_header_is_imported_and_says_what_it_skipped(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    notes = b"Desk export of the S&P 500\nPrepared for the morning meeting\n\n"
    at.file_uploader[0].set_value(("spx.csv", notes + gspc_2018_bytes(), "text/csv"))
    text_input(at, "Ticker").input("SPX")
    button(at, "Import").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Wrote 251 rows of SPX from 2018-01-02 to 2018-12-31"]
    captions = [c.value for c in at.caption]
    assert any("header on line 4: the 2 lines of notes above it skipped" in text for text in captions), captions
    cache = at.dataframe[0].value
    assert "Freshness" in cache.columns, "the Cache tab is not left saying the cache is empty"
    assert cache["Ticker"].tolist() == ["SPX"], "the Cache tab shows the upload at once"


def test_fetched_prices_show_in_the_cache_at_once(offline, monkeypatch):
    from datetime import date

    from tests.fixtures import gspc_2018_frame

    monkeypatch.setattr("core.data.yahoo.yfinance_history", lambda ticker, **options: gspc_2018_frame())
    monkeypatch.setattr("core.data.yahoo.yahoo_reachable", lambda timeout_seconds=3.0: True)
    st.cache_data.clear()
    at = logged_in_app(PAGE, make_account(offline)).run()
    next(t for t in at.text_area if t.label == "Tickers").input("^GSPC")
    next(d for d in at.date_input if d.label == "From").set_value(date(2018, 1, 1))
    next(d for d in at.date_input if d.label == "To").set_value(date(2018, 12, 31))
    button(at, "Fetch").click().run()
    assert not at.exception
    cache = at.dataframe[0].value
    assert "Freshness" in cache.columns, "the Cache tab is not left saying the cache is empty"
    assert cache["Ticker"].tolist() == ["^GSPC"], "the Cache tab shows the fetch at once"
    fetched = at.dataframe[-1].value
    assert fetched["Ticker"].tolist() == ["^GSPC"]
    assert fetched["Days stored"].tolist() == ["251"]


def test_fetching_offline_says_so_and_skips_the_rest(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.text_area[0].input("MSFT, AAPL")
    button(at, "Fetch").click().run()
    assert not at.exception
    assert list(at.dataframe[-1].value["Status"]) == ["error", "skipped"]
    assert list(at.dataframe[-1].value["Message"]) == [
        "Yahoo Finance unreachable",
        "not tried: Yahoo Finance unreachable",
    ]
    assert not at.get("progress"), "the progress bar goes once the table says how each ticker went"
    shown = [e.value for e in (*at.info, *at.warning, *at.error)] + list(at.dataframe[-1].value["Message"])
    assert sum(OFFLINE_MESSAGE in text for text in shown) == 1


def test_a_ticker_list_file_becomes_the_default_tickers(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[-1].set_value(("list.txt", b"# watchlist\nmsft\nBRK-B\n\n^gspc\nmsft\n", "text/plain"))
    button(at, "Save as my default tickers").click().run()
    assert [s.value for s in at.success] == ["Saved 3 tickers: MSFT, BRK-B, ^GSPC"]
    at.run()
    assert at.text_area[0].value == "MSFT, BRK-B, ^GSPC"


def test_viewers_look_but_do_not_fetch_or_upload(offline):
    at = logged_in_app(PAGE, make_account(offline, role=Role.VIEWER)).run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert "Viewers can look at prices but not fetch them." in captions
    assert "Viewers can look at prices but not upload them." in captions
    assert not any(b.label.startswith("Load the S&P") for b in at.button)


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_price_file_is_a_message_on_the_page(offline, name):
    data, words = BAD_FILES[name]
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[0].set_value(("prices.csv", data, "text/csv"))
    text_input(at, "Ticker").input("SPX")
    button(at, "Import").click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("Rejected, nothing written: ")
    assert words in at.error[0].value
    assert at.info[-1].value.startswith("The cache is empty")


def test_an_impossible_date_format_is_a_message_on_the_page(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[0].set_value(("spx.csv", gspc_2018_bytes(), "text/csv"))
    text_input(at, "Ticker").input("SPX")
    text_input(at, "Date format").input("%Q")
    button(at, "Import").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Rejected, nothing written: date format '%Q'")


def test_a_ticker_list_with_a_huge_field_is_a_message(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[-1].set_value(("list.csv", b"Ticker,Note\nMSFT,ok\nAAPL," + b"y" * 200_000 + b"\n", "text/csv"))
    button(at, "Save as my default tickers").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "line 3, column 2 holds a value of 200,000 characters (at most 1,000): this is not a price or ticker table"
    ]


def test_a_file_of_seven_tickers_imports_on_the_page(offline):
    lines = gspc_2018_bytes().decode().splitlines()
    symbols = ["AAAA", "BBBB", "CCCC", "DDDD", "EEEE", "FFFF", "GGGG"]
    data = "\n".join(["Ticker," + lines[0]] + [f"{s},{line}" for s in symbols for line in lines[1:11]]).encode()
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[0].set_value(("seven.csv", data, "text/csv"))
    button(at, "Import").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        "Wrote 70 rows of AAAA, BBBB, CCCC, DDDD, EEEE, FFFF, GGGG from 2018-01-02 to 2018-01-16"
    ]
    at.run()
    assert list(at.dataframe[0].value["Ticker"]) == symbols


def test_the_preview_starts_on_a_default_ticker(offline):
    account = make_account(offline)
    at = logged_in_app(PAGE, account).run()
    for name in ("AAA.csv", "ZZZ.csv"):
        at.file_uploader[0].set_value((name, gspc_2018_bytes(), "text/csv"))
        button(at, "Import").click().run()
    at.text_area[-1].input("ZZZ")
    button(at, "Save as my default tickers").click().run()
    # A choice already on screen stays; the next visit to the page starts on the default ticker.
    again = logged_in_app(PAGE, account).run()
    assert again.selectbox[0].options == ["AAA", "ZZZ"]
    assert again.selectbox[0].value == "ZZZ"


def selectbox(at, label):
    return next(s for s in at.selectbox if s.label == label)


def test_an_unknown_layout_is_previewed_and_mapped_by_hand(offline):
    data = b"Day;Last price;Turnover\n2018-01-02;2695,81;100\n2018-01-03;2713,06;200\n"
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[0].set_value(("odd.csv", data, "text/csv"))
    text_input(at, "Ticker").input("ODD")
    button(at, "Import").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Rejected, nothing written: line 1: layout not recognised")
    assert at.dataframe[-1].value.iloc[1].tolist() == ["2018-01-02", "2695,81", "100"]
    selectbox(at, "Date").select("Day")
    selectbox(at, "Close").select("Last price")
    selectbox(at, "Volume").select("Turnover")
    button(at, "Import with these columns").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Wrote 2 rows of ODD from 2018-01-02 to 2018-01-03"]
    assert "Layout recognised: columns mapped by hand" in [c.value for c in at.caption]
    assert not any(b.label == "Import with these columns" for b in at.button), "the mapping is done with"
    assert at.dataframe[0].value["Ticker"].tolist() == ["ODD"]


def test_an_excel_workbook_uploads_and_names_its_layout(offline):
    from tests.core.data.test_layouts import BARS, workbook

    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[0].set_value(("XLS.xlsx", workbook(("Prices", BARS)), "application/vnd.ms-excel"))
    button(at, "Import").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Wrote 30 rows of XLS from 2018-01-02 to 2018-02-13"]
    captions = [c.value for c in at.caption]
    assert "Layout recognised: Date, Open, High, Low, Close columns (Yahoo, Stooq daily and the like)" in captions
    assert "ticker XLS taken from the file name" in captions


def test_a_header_written_as_markdown_is_shown_as_text(offline):
    data = b"[click](http://evil.example),![x](http://evil.example/x.png)\n2018-01-02,1\n"
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[0].set_value(("evil.csv", data, "text/csv"))
    text_input(at, "Ticker").input("EVIL")
    button(at, "Import").click().run()
    assert not at.exception
    shown = at.error[0].value
    assert "'\\[click\\](http\\://evil.example)', '\\!\\[x\\](http\\://evil.example/x.png)'" in shown


def test_detected_splits_are_confirmed_on_the_page(offline):
    from tests.core.services.test_market import split_csv, split_day

    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[0].set_value(("SPL.csv", split_csv(), "text/csv"))
    button(at, "Import").click().run()
    at.run()
    labels = [r.label for r in at.radio]
    assert len(labels) == 2
    assert labels[0].startswith(f"{split_day(60):%Y-%m-%d}: 2:1")
    assert labels[1].startswith(f"{split_day(150):%Y-%m-%d}: 1:10")
    at.radio[0].set_value("confirm")
    at.radio[1].set_value("reject")
    button(at, "Apply these decisions").click().run()
    assert not at.exception
    assert not at.error
    [decided] = [s.value for s in at.success]
    assert decided.startswith("1 split confirmed ("), decided
    assert decided.endswith("adjusted closes rewritten), 1 rejected."), decided
    assert len(at.radio) == 0, "no candidate is left to decide"
    assert any(text.value.startswith("• 1 split reported by the source: " + str(split_day(60))) for text in at.text)


@pytest.mark.parametrize("typed", [" Prices ", "prices"])
def test_a_sheet_named_with_spaces_around_it_is_found_as_typed_or_trimmed(offline, typed):
    from tests.core.data.test_layouts import BARS, workbook

    at = logged_in_app(PAGE, make_account(offline)).run()
    data = workbook(("Notes", BARS.head(1)), (" Prices ", BARS))
    at.file_uploader[0].set_value(("XLS.xlsx", data, "application/vnd.ms-excel"))
    text_input(at, "Sheet (Excel)").input(typed)
    button(at, "Import").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Wrote 30 rows of XLS from 2018-01-02 to 2018-02-13"]


def test_a_footer_after_the_prices_is_ignored_and_said_so(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    data = gspc_2018_bytes() + b"\nSource: Yahoo Finance. Prices are not advice.\n"
    at.file_uploader[0].set_value(("spx.csv", data, "text/csv"))
    text_input(at, "Ticker").input("SPX")
    button(at, "Import").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Wrote 251 rows of SPX from 2018-01-02 to 2018-12-31"]
    captions = [c.value for c in at.caption]
    assert any(text.startswith("ignored 1 footer line after line 252") for text in captions), captions


def test_a_ticker_list_on_one_line_becomes_the_default_tickers(offline):
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[-1].set_value(("list.csv", b"AAPL,MSFT,GOOG", "text/csv"))
    button(at, "Save as my default tickers").click().run()
    assert [s.value for s in at.success] == ["Saved 3 tickers: AAPL, MSFT, GOOG"]


@pytest.mark.parametrize(("hour", "minute", "freshness"), [(20, 59, "fresh"), (21, 0, "stale")])
def test_freshness_turns_stale_at_the_exchange_s_close(offline, monkeypatch, hour, minute, freshness):
    from datetime import UTC, datetime

    # The upload ends on Monday 2018-12-31; Wednesday 2019-01-02's session closes at 21:00 UTC.
    monkeypatch.setattr("ui.freshness.now", lambda: datetime(2019, 1, 2, hour, minute, tzinfo=UTC))
    at = logged_in_app(PAGE, make_account(offline)).run()
    at.file_uploader[0].set_value(("spx.csv", gspc_2018_bytes(), "text/csv"))
    text_input(at, "Ticker").input("SPX")
    button(at, "Import").click().run()
    at.run()
    assert not at.exception
    assert at.dataframe[0].value["Freshness"].tolist() == [freshness]
    stale_findings = [t.value for t in at.text if t.value.startswith("• stale")]
    assert stale_findings == ([] if freshness == "fresh" else [
        "• stale: the last bar is 2018-12-31, the exchange last traded on 2019-01-02"
    ])  # fmt: skip
