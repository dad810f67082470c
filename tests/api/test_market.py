"""Tickers, prices as JSON and CSV, all-or-nothing CSV uploads with their report, indicators."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from core.data.frames import normalise_provider_frame
from db.engine import session_scope
from db.repositories.prices import upsert_prices
from tests.api.conftest import assert_error, unique_ticker, upload
from tests.fixtures import gspc_2018_bytes, gspc_2018_frame


def test_prices_come_back_as_uploaded_oldest_first(client, analyst, priced):
    response = client.get(f"/v1/prices/{priced}", headers=analyst.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["ticker"], body["count"]) == (priced, 251)
    first, last = body["prices"][0], body["prices"][-1]
    assert first["date"] == "2018-01-02"
    assert last["date"] == "2018-12-31"
    assert last["close"] == 2506.850098
    assert set(first) == {"date", "open", "high", "low", "close", "adjusted_close", "volume", "source"}


def test_a_date_range_narrows_the_prices(client, analyst, priced):
    response = client.get(
        f"/v1/prices/{priced}", params={"start": "2018-12-01", "end": "2018-12-10"}, headers=analyst.headers
    )
    assert [row["date"] for row in response.json()["prices"]] == [
        "2018-12-03", "2018-12-04", "2018-12-06", "2018-12-07", "2018-12-10",
    ]  # fmt: skip


def test_prices_as_csv_on_request(client, analyst, priced):
    response = client.get(f"/v1/prices/{priced}", headers=analyst.headers | {"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 251
    assert rows[-1]["date"] == "2018-12-31"
    assert float(rows[-1]["close"]) == 2506.850098


def test_json_wins_unless_csv_is_preferred(client, analyst, priced):
    for accept, csv_expected in [
        ("application/json, text/csv", False),
        ("text/csv;q=0.5, application/json", False),
        ("text/csv, */*", True),
        ("*/*", False),
        ("text/csv;q=0.9, application/json;q=0.1", True),
    ]:
        response = client.get(f"/v1/prices/{priced}", headers=analyst.headers | {"Accept": accept})
        assert response.headers["content-type"].startswith("text/csv") is csv_expected, accept


def test_unknown_ticker_and_bad_dates(client, analyst):
    assert_error(client.get("/v1/prices/NOSUCH", headers=analyst.headers), 404, "not_found")
    error = assert_error(
        client.get("/v1/prices/MSFT", params={"start": "31.12.2018"}, headers=analyst.headers), 422, "invalid_request"
    )
    assert error["details"][0]["location"] == "query.start"
    assert_error(client.get("/v1/prices/=cmd()", headers=analyst.headers), 422, "invalid_request")


def test_an_upload_with_one_bad_row_is_refused_whole_with_the_report(client, analyst):
    lines = gspc_2018_bytes().decode().splitlines()
    date, open_, high, low, close, adjusted, volume = lines[5].split(",")
    lines[5] = ",".join([date, open_, low, high, close, adjusted, volume])  # high below low on line 6
    ticker = unique_ticker()
    response = upload(client, analyst, ticker, "\n".join(lines).encode())
    error = assert_error(response, 422, "invalid_file")
    report = error["details"]["report"]
    assert report["invalid_rows"] == 1
    assert report["counts"]["high below low"] == 1
    assert report["examples"][0]["line"] == 6
    assert error["details"]["written"] == 0
    assert_error(client.get(f"/v1/prices/{ticker}", headers=analyst.headers), 404)


@pytest.mark.parametrize(
    ("row", "rule"),
    [
        ("9999-12-31,10,11,9,10,10,100", "date after today"),
        ("0001-01-01,10,11,9,10,10,100", "date before 1800"),
        ("2018-06-01,10,11,9,10,10,1e19", "volume too large to store"),
    ],
)
def test_a_day_no_market_had_or_a_volume_too_large_to_store_is_refused(client, analyst, row, rule):
    ticker = unique_ticker()
    text = f"Date,Open,High,Low,Close,Adj Close,Volume\n2018-05-31,10,11,9,10,10,100\n{row}\n"
    error = assert_error(upload(client, analyst, ticker, text.encode()), 422, "invalid_file")
    assert error["details"]["report"]["counts"] == {rule: 1}
    assert_error(client.get(f"/v1/prices/{ticker}", headers=analyst.headers), 404)


def test_a_file_that_is_not_a_price_csv_gets_422_with_the_reason(client, analyst):
    error = assert_error(upload(client, analyst, unique_ticker(), b"\x00\x01binary junk\xff"), 422, "invalid_file")
    assert error["message"].startswith("Rejected, nothing written")


def test_an_accepted_upload_reports_what_was_written(client, analyst):
    response = upload(client, analyst, unique_ticker())
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["written"]) == ("accepted", 251)
    assert body["report"]["invalid_rows"] == 0


DAY_FIRST = (
    b"Date,Open,High,Low,Close,Adj Close,Volume\n01/02/2024,1,2,0.5,1.5,1.5,100\n02/02/2024,1,2,0.5,1.5,1.5,100\n"
)


@pytest.mark.parametrize(
    ("fields", "location", "problem"),
    [
        ({"ticker": "DMY", "dateformat": "%d/%m/%Y"}, "body.dateformat", "Extra inputs are not permitted"),
        ({"tikcer": "DMY"}, "body.tikcer", "Extra inputs are not permitted"),
        ({"ticker": ["DMY", "DMZ"]}, "body.ticker", "given more than once"),
    ],
    ids=["date-format-misspelt", "ticker-misspelt", "ticker-twice"],
)
def test_an_upload_with_a_form_field_it_does_not_take_is_refused_naming_it(client, analyst, fields, location, problem):
    # Read without the date format it misspelt, the file's days would be taken month first.
    response = client.post(
        "/v1/prices",
        headers=analyst.headers,
        files={"file": ("prices.csv", DAY_FIRST, "text/csv")},
        data=fields,
    )
    error = assert_error(response, 422, "invalid_request")
    assert error["details"] == [{"location": location, "message": problem}]
    assert location in error["message"]
    tickers = client.get("/v1/tickers", headers=analyst.headers).json()["tickers"]
    assert not [ticker for ticker in tickers if ticker["owned"]], "nothing is stored"


def test_an_upload_takes_its_date_format_by_name(client, analyst):
    response = client.post(
        "/v1/prices",
        headers=analyst.headers,
        files={"file": ("prices.csv", DAY_FIRST, "text/csv")},
        data={"ticker": "DMY", "date_format": "%d/%m/%Y"},
    )
    assert response.status_code == 201, response.text
    days = client.get("/v1/prices/DMY", headers=analyst.headers).json()["prices"]
    assert [day["date"] for day in days] == ["2024-02-01", "2024-02-02"]


def test_an_oversized_upload_gets_413(client, analyst):
    from api.routes.market import MAX_UPLOAD_BYTES

    error = assert_error(upload(client, analyst, unique_ticker(), b"x" * (MAX_UPLOAD_BYTES + 1)), 413, "too_large")
    assert error["message"] == f"the file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", "worded as the body's 413"


def test_indicators_with_their_parameters(client, analyst, priced):
    response = client.get(
        f"/v1/indicators/{priced}",
        params={"rsi_period": 7, "ema_spans": [5, 10], "start": "2018-12-01"},
        headers=analyst.headers,
    )
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert rows[0]["date"] == "2018-12-03"
    assert {"rsi_7", "ema_5", "ema_10", "macd", "bb_upper", "obv"} <= set(rows[0])
    assert 0 <= rows[-1]["rsi_7"] <= 100


def test_indicators_on_the_adjusted_scale_run_through_a_split_the_adjusted_close_accounts_for(client, analyst, priced):
    raw = pd.read_csv(io.BytesIO(gspc_2018_bytes()))
    raw.loc[: len(raw) - 12, ["Open", "High", "Low", "Close"]] *= 2  # a 2:1 split eleven days before the end
    split = unique_ticker()
    assert upload(client, analyst, split, raw.to_csv(index=False).encode()).status_code == 201

    def last_rsi(ticker: str, **params) -> float:
        response = client.get(f"/v1/indicators/{ticker}", params=params, headers=analyst.headers)
        assert response.status_code == 200, response.text
        return response.json()["rows"][-1]["rsi_14"]

    assert last_rsi(split) < 20, "as traded, the split reads as a collapse"
    assert last_rsi(split, adjusted="true") == pytest.approx(last_rsi(priced), rel=1e-9)


def test_indicator_errors(client, analyst, priced):
    assert_error(client.get("/v1/indicators/NOSUCH", headers=analyst.headers), 404)
    error = assert_error(
        client.get(f"/v1/indicators/{priced}", params={"macd_fast": 30, "macd_slow": 26}, headers=analyst.headers),
        422,
    )
    assert "macd_fast" in error["message"]
    assert_error(client.get(f"/v1/indicators/{priced}", params={"rsi_period": 1}, headers=analyst.headers), 422)


@pytest.mark.parametrize(
    ("route", "params", "location"),
    [
        ("indicators", {"ema_spans": 1}, "query.ema_spans.0"),
        ("indicators", [("ema_spans", 20), ("ema_spans", 501)], "query.ema_spans.1"),
        ("indicators", {"macd_fast": 30, "macd_slow": 26}, "query.macd_fast"),
        ("prices", {"start": "2018-12-10", "end": "2018-12-01"}, "query.start"),
        ("indicators", {"start": "2018-12-10", "end": "2018-12-01"}, "query.start"),
    ],
    ids=["ema-span", "second-ema-span", "macd-periods", "price-range", "indicator-range"],
)
def test_a_malformed_field_is_an_invalid_request_whose_details_name_it(
    client, analyst, priced, route, params, location
):
    for accept in ("application/json", "text/csv"):
        response = client.get(f"/v1/{route}/{priced}", params=params, headers=analyst.headers | {"Accept": accept})
        error = assert_error(response, 422, "invalid_request")
        assert [problem["location"] for problem in error["details"]] == [location]
        assert error["message"] == f"{location}: {error['details'][0]['message']}"


def test_an_unknown_query_parameter_is_refused_by_name(client, analyst, priced):
    error = assert_error(
        client.get(f"/v1/prices/{priced}", params={"strat": "2018-12-01"}, headers=analyst.headers), 422
    )
    assert error["message"] == "unknown query parameter 'strat'"


def test_a_parameter_of_one_value_given_twice_is_refused_and_a_list_may_repeat(client, analyst, priced):
    twice = [("start", "2018-12-01"), ("start", "2018-06-01")]
    error = assert_error(client.get(f"/v1/prices/{priced}", params=twice, headers=analyst.headers), 422)
    assert error["message"] == "query parameter 'start' given more than once"
    spans = [("ema_spans", 12), ("ema_spans", 26)]
    response = client.get(f"/v1/indicators/{priced}", params=spans, headers=analyst.headers)
    assert response.status_code == 200, response.text


def test_a_body_declared_over_the_limit_is_refused_before_it_is_read(client, analyst):
    from api.routes.market import MAX_UPLOAD_BYTES

    headers = analyst.headers | {"Content-Length": str(MAX_UPLOAD_BYTES * 2), "Content-Type": "text/csv"}
    response = client.post("/v1/prices", headers=headers, content=b"Date,Open\n")
    assert_error(response, 413, "too_large")


def _shared_prices(ticker: str, bars: pd.DataFrame) -> None:
    with session_scope() as session:
        upsert_prices(session=session, frame=bars, ticker=ticker, owner_id=None, source="yahoo")


def test_json_and_csv_give_the_same_rows_and_an_upload_wins_over_shared_days(client, analyst, new_user):
    ticker = unique_ticker()
    bars = normalise_provider_frame(gspc_2018_frame()).frame
    _shared_prices(ticker, bars)
    lines = gspc_2018_bytes().decode().splitlines()
    # Five days of their own that closed at the day's low
    cells = [line.split(",") for line in lines[1:6]]
    own_days = [",".join([*day[:4], day[3], day[3], day[6]]) for day in cells]
    assert upload(client, analyst, ticker, "\n".join([lines[0], *own_days]).encode()).status_code == 201

    body = client.get(f"/v1/prices/{ticker}", headers=analyst.headers).json()
    csv_rows = list(csv.DictReader(io.StringIO(_csv(client, analyst, ticker))))
    assert body["count"] == len(body["prices"]) == len(csv_rows) == 251
    for row, csv_row in zip(body["prices"], csv_rows, strict=True):
        assert row["date"] == csv_row["date"]
        assert row["source"] == csv_row["source"]
        for name in ("open", "high", "low", "close", "adjusted_close", "volume"):
            assert row[name] == pytest.approx(float(csv_row[name]), rel=1e-9)
    lows = [float(line.split(",")[3]) for line in lines[1:7]]
    assert [(row["source"], row["close"]) for row in body["prices"][:6]] == [
        *(("upload", low) for low in lows[:5]),
        ("yahoo", pytest.approx(bars["close"].iloc[5])),
    ]

    others = client.get(f"/v1/prices/{ticker}", headers=new_user().headers).json()["prices"]
    assert {row["source"] for row in others} == {"yahoo"}
    assert others[0]["close"] == pytest.approx(bars["close"].iloc[0])


def test_json_prices_carry_every_digit_the_file_and_the_csv_have(client, analyst):
    # Yahoo's closes are float32 widened to float64: 17 significant digits, which 15 do not read back as.
    written = {
        "2024-03-01": ("172.27999877929688", "171.61053466796875"),
        "2024-03-04": ("123456789.123456789", "123456789.123456789"),
        "2024-03-05": ("1.7976931348623157e308", "1.7976931348623157e308"),
    }
    lines = [f"{day},{close},{close},{close},{close},{adjusted},1000" for day, (close, adjusted) in written.items()]
    ticker = unique_ticker()
    file = "\n".join(["Date,Open,High,Low,Close,Adj Close,Volume", *lines]).encode()
    assert upload(client, analyst, ticker, file).status_code == 201

    prices = client.get(f"/v1/prices/{ticker}", headers=analyst.headers).json()["prices"]
    csv_rows = list(csv.DictReader(io.StringIO(_csv(client, analyst, ticker))))
    as_filed = [(float(close), float(adjusted)) for close, adjusted in written.values()]
    assert [(row["close"], row["adjusted_close"]) for row in prices] == as_filed
    assert [(float(row["close"]), float(row["adjusted_close"])) for row in csv_rows] == as_filed


def test_a_range_with_no_days_is_404_in_json_and_csv(client, analyst, priced):
    for accept in ("application/json", "text/csv"):
        headers = analyst.headers | {"Accept": accept}
        params = {"start": "2019-06-01"}
        assert_error(client.get(f"/v1/prices/{priced}", params=params, headers=headers), 404, "not_found")


def test_a_non_finite_stored_price_is_null_in_valid_json(client, analyst):
    ticker = unique_ticker()
    bars = normalise_provider_frame(gspc_2018_frame()).frame.head(3).copy()
    bars.loc[1, "adjusted_close"] = float("inf")
    _shared_prices(ticker, bars)
    response = client.get(f"/v1/prices/{ticker}", headers=analyst.headers)
    assert [row["adjusted_close"] is None for row in json.loads(response.text)["prices"]] == [False, True, False]


def _csv(client, user, ticker: str) -> str:
    response = client.get(f"/v1/prices/{ticker}", headers=user.headers | {"Accept": "text/csv"})
    assert response.status_code == 200
    return response.text


def _as_json_reads(cell: str, like: object) -> object:
    """A CSV cell read as the JSON value beside it: text as text, an empty cell as null, else a number."""
    return cell if isinstance(like, str) else None if cell == "" else float(cell)


def test_json_numbers_are_the_csv_s_to_the_last_digit_however_small(client, analyst):
    # A coin priced in fractions of a millionth: its MACD is in billionths and its histogram smaller still.
    raw = pd.read_csv(io.BytesIO(gspc_2018_bytes()))
    raw[["Open", "High", "Low", "Close", "Adj Close"]] *= 2.5e-10
    ticker = unique_ticker()
    assert upload(client, analyst, ticker, raw.to_csv(index=False).encode()).status_code == 201

    response = client.get(f"/v1/indicators/{ticker}", headers=analyst.headers)
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    as_csv = client.get(f"/v1/indicators/{ticker}", headers=analyst.headers | {"Accept": "text/csv"})
    csv_rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == len(csv_rows) == 251
    assert [row["close"] for row in rows] == list(raw["Close"])
    assert 0 < min(abs(row["macd_hist"]) for row in rows if row["macd_hist"]) < 5e-11
    for row, csv_row in zip(rows, csv_rows, strict=True):
        assert set(row) == set(csv_row)
        assert row == {name: _as_json_reads(csv_row[name], value) for name, value in row.items()}, row["date"]


@pytest.mark.parametrize("field", ["ticker", "date_format"])
def test_an_empty_form_field_is_refused_by_name_not_read_as_absent(client, analyst, field):
    # Read as absent, an empty ticker would store the rows under the one the file name gives.
    response = client.post(
        "/v1/prices",
        headers=analyst.headers,
        files={"file": ("msft.csv", gspc_2018_bytes(), "text/csv")},
        data={"ticker": "MSFT", field: ""},
    )
    error = assert_error(response, 422, "invalid_request")
    assert [problem["location"] for problem in error["details"]] == [f"body.{field}"]
    assert error["message"].startswith(f"body.{field}: ")
    tickers = client.get("/v1/tickers", headers=analyst.headers).json()["tickers"]
    assert not [ticker for ticker in tickers if ticker["owned"]], "nothing is stored"


def test_an_empty_form_ticker_is_refused_as_an_empty_query_ticker_is(client, analyst):
    uploaded = client.post(
        "/v1/prices",
        headers=analyst.headers,
        files={"file": ("msft.csv", gspc_2018_bytes(), "text/csv")},
        data={"ticker": ""},
    )
    queried = client.get("/v1/ledger", headers=analyst.headers, params={"ticker": ""})
    problem = assert_error(uploaded, 422)["details"][0]["message"]
    assert problem == assert_error(queried, 422)["details"][0]["message"]


def test_a_file_sent_as_text_is_refused_in_words_naming_the_field(client, analyst):
    response = client.post(
        "/v1/prices",
        headers=analyst.headers,
        files={"file": (None, gspc_2018_bytes().decode()), "ticker": (None, "MSFT")},
    )
    error = assert_error(response, 422, "invalid_request")
    [problem] = error["details"]
    assert problem["location"] == "body.file"
    assert "class" not in problem["message"]
    assert "<" not in problem["message"]
    assert problem["message"].startswith("a file")


def test_the_same_file_again_writes_nothing_and_answers_200_not_201(client, analyst):
    # As a retried prediction answers 200 with added 0: 201 Created said rows were stored when none were.
    ticker = unique_ticker()
    first = upload(client, analyst, ticker)
    assert first.status_code == 201, first.text
    again = upload(client, analyst, ticker)
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["written"]) == ("accepted", 0)
    lines = gspc_2018_bytes().decode().splitlines()
    day, open_, high, low, close, adjusted, volume = lines[-1].split(",")
    lines[-1] = ",".join([day, open_, high, low, close, adjusted, str(int(float(volume)) + 1)])
    changed = upload(client, analyst, ticker, "\n".join(lines).encode())
    assert changed.status_code == 201, changed.text
    assert changed.json()["written"] == 1


def test_the_upload_documents_both_its_answers_of_success(client):
    responses = client.get("/openapi.json").json()["paths"]["/v1/prices"]["post"]["responses"]
    for status in ("200", "201"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/UploadResult"}, status


@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "-Infinity"])
def test_a_bollinger_width_that_is_no_finite_number_is_refused_as_such(client, analyst, priced, value):
    # NaN was refused as "less than or equal to 10", which it is not said to be: it is no number.
    response = client.get(f"/v1/indicators/{priced}", params={"bb_k": value}, headers=analyst.headers)
    error = assert_error(response, 422, "invalid_request")
    assert error["details"] == [{"location": "query.bb_k", "message": "Input should be a finite number"}]


def test_volumes_stay_whole_numbers_on_the_adjusted_scale_in_json_and_csv(client, analyst, priced):
    raw = pd.read_csv(io.BytesIO(gspc_2018_bytes()))
    raw.loc[: len(raw) - 12, ["Open", "High", "Low", "Close"]] *= 2  # a 2:1 split eleven days before the end
    split = unique_ticker()
    assert upload(client, analyst, split, raw.to_csv(index=False).encode()).status_code == 201
    traded_volume = int(raw["Volume"].iloc[-1])
    for ticker in (priced, split):
        for adjusted in ("false", "true"):
            params = {"start": "2018-12-10", "adjusted": adjusted}
            rows = client.get(f"/v1/indicators/{ticker}", params=params, headers=analyst.headers).json()["rows"]
            assert [type(row["volume"]) for row in rows] == [int] * len(rows), (ticker, adjusted)
            assert rows[-1]["volume"] == traded_volume
            csv_answer = client.get(
                f"/v1/indicators/{ticker}", params=params, headers=analyst.headers | {"Accept": "text/csv"}
            )
            volumes = [row["volume"] for row in csv.DictReader(io.StringIO(csv_answer.text))]
            assert volumes == [str(row["volume"]) for row in rows], (ticker, adjusted)
    # Before the split, a day's shares count as the two each became: whole numbers still.
    before = client.get(
        f"/v1/indicators/{split}", params={"end": "2018-12-10", "adjusted": "true"}, headers=analyst.headers
    ).json()["rows"][-1]
    assert before["volume"] == 2 * int(raw.loc[raw["Date"] == "2018-12-10", "Volume"].iloc[0])
