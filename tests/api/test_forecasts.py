"""Model versions, predictions from a stored version, and the ledger they land in (JSON and CSV)."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import uuid

import pytest

from common.config import get_settings
from db.engine import session_scope
from tests.api.conftest import assert_error


def test_model_versions_are_listed_and_read_one_by_one(client, analyst, modelled):
    listed = client.get("/v1/models", params={"ticker": modelled}, headers=analyst.headers).json()
    assert listed["count"] == 1
    version = listed["versions"][0]
    assert (version["ticker"], version["version"], version["is_active"]) == (modelled, 1, True)
    assert "mae" in version["metrics"]
    one = client.get(f"/v1/models/{version['id']}", headers=analyst.headers)
    assert one.status_code == 200
    assert one.json()["id"] == version["id"]


def test_a_version_imported_under_another_ticker_says_which_prices_it_was_trained_on(client, analyst, modelled):
    from sqlalchemy import update

    from db.models import ModelVersion

    # The fixture's tiny model was trained on the sample's ^GSPC and saved under another ticker.
    [moved] = client.get("/v1/models", params={"ticker": modelled}, headers=analyst.headers).json()["versions"]
    assert moved["trained_on"] == "^GSPC"
    with session_scope() as session:  # as a version trained on its own ticker's prices is stored
        session.execute(update(ModelVersion).where(ModelVersion.ticker == modelled).values(trained_on=None))
    own = client.get(f"/v1/models/{moved['id']}", headers=analyst.headers).json()
    assert own["trained_on"] is None


def test_a_version_s_verdict_comes_from_its_diebold_mariano_test_as_on_the_pages(client, analyst, priced):
    from db.repositories.models import add_model_version

    claimed = {"mae": 9.0, "naive_mae": 10.0, "dm_pvalue": 0.41, "verdict": "beats persistence"}
    with session_scope() as session:
        add_model_version(
            session=session, actor=analyst.actor, ticker=priced, model_type="ridge", parameters={}, metrics=claimed,
            data_start=None, data_end=None, data_hash=None, artifact=b"x", artifact_sha256="0" * 64,
        )  # fmt: skip
    version = client.get("/v1/models", params={"ticker": priced}, headers=analyst.headers).json()["versions"][0]
    assert version["metrics"]["verdict"] == "no better than tomorrow = today (p = 0.41)"
    assert version["metrics"]["dm_pvalue"] == claimed["dm_pvalue"], "the measurements stay as stored"


def test_unknown_model_version_is_404_and_a_malformed_id_422(client, analyst):
    assert_error(client.get(f"/v1/models/{uuid.uuid4()}", headers=analyst.headers), 404, "not_found")
    assert_error(client.get("/v1/models/not-a-uuid", headers=analyst.headers), 422, "invalid_request")


def test_a_prediction_is_stored_and_read_back_from_the_ledger(client, analyst, modelled):
    response = client.post("/v1/predictions", json={"ticker": modelled, "days": 3}, headers=analyst.headers)
    assert response.status_code == 201, response.text
    made = response.json()["predictions"]
    # 2019-01-01 is a New York holiday, so the three sessions after the last close are these.
    assert [p["target_date"] for p in made] == ["2019-01-02", "2019-01-03", "2019-01-04"]
    assert all(p["lower"] < p["predicted_value"] < p["upper"] for p in made)
    ledger = client.get("/v1/ledger", params={"ticker": modelled}, headers=analyst.headers).json()
    assert ledger["count"] == 3
    assert {row["id"] for row in ledger["ledger"]} == {p["id"] for p in made}
    assert {(row["model"], row["model_type"]) for row in ledger["ledger"]} == {
        (f"{modelled} v1 · LSTM (Keras)", "lstm")
    }
    # Not matured yet: no actual, no error, no interval verdict (null, never "nan").
    assert {(row["actual_value"], row["error"], row["inside"]) for row in ledger["ledger"]} == {(None, None, None)}


def test_a_prediction_says_which_version_made_it_and_its_verdict_against_persistence(client, analyst, modelled):
    made = client.post("/v1/predictions", json={"ticker": modelled, "days": 2}, headers=analyst.headers).json()
    stored = client.get("/v1/models", params={"ticker": modelled}, headers=analyst.headers).json()["versions"][0]
    assert made["model"]["id"] == stored["id"] == made["predictions"][0]["model_version_id"]
    assert (made["model"]["version"], made["model"]["model_type"]) == (1, "lstm")
    assert made["model"]["metrics"]["verdict"] == stored["metrics"]["verdict"]
    assert made["model"]["metrics"]["verdict"].startswith(
        ("beats persistence", "no better than", "worse than", "not enough")
    )


def test_the_ledger_as_csv(client, analyst, modelled):
    client.post("/v1/predictions", json={"ticker": modelled, "days": 2}, headers=analyst.headers)
    response = client.get("/v1/ledger", headers=analyst.headers | {"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["target_date"] for row in rows] == ["2019-01-03", "2019-01-02"]
    assert {(row["model"], row["model_type"]) for row in rows} == {(f"{modelled} v1 · LSTM (Keras)", "lstm")}
    assert {row["error"] for row in rows} == {""}


def test_an_unbounded_interval_is_null_in_the_ledger_s_json_and_an_empty_cell_in_its_csv(client, analyst, priced):
    from core.data.csv_prices import parse_price_csv
    from core.forecasting.config import parse_config
    from core.forecasting.registry import save_version
    from core.forecasting.training import train_model
    from tests.fixtures import gspc_2018_bytes

    # A year of prices leaves too few validation residuals for a 99 % interval: its upper bound is infinite.
    prices = parse_price_csv(gspc_2018_bytes(), ticker=priced).frame
    result = train_model(prices, parse_config(model_type="drift", interval_level=0.99), ticker=priced)
    with session_scope() as session:
        save_version(session=session, actor=analyst.actor, ticker=priced, result=result)
    made = client.post("/v1/predictions", json={"ticker": priced, "days": 2}, headers=analyst.headers)
    assert made.status_code == 201, made.text

    as_json = client.get("/v1/ledger", headers=analyst.headers).json()["ledger"]
    as_csv = client.get("/v1/ledger", headers=analyst.headers | {"Accept": "text/csv"}).text
    csv_rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert [row["upper"] for row in as_json] == [None, None]
    assert [row["upper"] for row in csv_rows] == ["", ""]
    assert [float(row["lower"]) for row in csv_rows] == [row["lower"] for row in as_json]


def test_a_whole_number_written_with_a_decimal_point_is_a_whole_number(client, analyst, modelled):
    # JSON Schema's "integer" admits 2.0, and so do the clients that write every number as a float.
    response = client.post("/v1/predictions", json={"ticker": modelled, "days": 2.0}, headers=analyst.headers)
    assert response.status_code == 201, response.text
    assert response.json()["count"] == 2


def test_predicting_without_a_model_or_with_anothers_version_is_404(client, analyst, priced):
    error = assert_error(
        client.post("/v1/predictions", json={"ticker": priced}, headers=analyst.headers), 404, "not_found"
    )
    assert f"no active model for {priced}" in error["message"]
    assert "POST /v1/jobs/training" in error["message"], "what to do, said for a client of the API"
    assert_error(
        client.post(
            "/v1/predictions", json={"ticker": priced, "version_id": str(uuid.uuid4())}, headers=analyst.headers
        ),
        404,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"ticker": "MSFT", "days": 0},
        {"ticker": "MSFT", "days": 31},
        {"ticker": "MSFT", "days": 2.5},
        {"ticker": "MSFT", "days": "2"},
        {"ticker": "MSFT", "days": True},
        {"days": 1},
        {},
    ],
)
def test_bad_prediction_requests_get_422(client, analyst, body):
    assert_error(client.post("/v1/predictions", json=body, headers=analyst.headers), 422, "invalid_request")


def test_the_tier_quota_on_predictions_gives_429_with_retry_after(client, analyst, modelled, monkeypatch):
    monkeypatch.setenv("ACTION_LIMITS", '{"pro": {"predict": "2/hour"}}')
    get_settings.cache_clear()
    statuses = [client.post("/v1/predictions", json={"ticker": modelled}, headers=analyst.headers).status_code]
    statuses.append(client.post("/v1/predictions", json={"ticker": modelled}, headers=analyst.headers).status_code)
    assert statuses == [201, 200]
    response = client.post("/v1/predictions", json={"ticker": modelled}, headers=analyst.headers)
    assert_error(response, 429, "quota_exceeded")
    assert int(response.headers["Retry-After"]) >= 1
    # Each request counts against the quota; the same forecast asked for twice is kept once.
    assert client.get("/v1/ledger", headers=analyst.headers).json()["count"] == 1


def test_a_retried_prediction_returns_the_rows_already_in_the_ledger(client, analyst, modelled):
    first = client.post("/v1/predictions", json={"ticker": modelled, "days": 2}, headers=analyst.headers)
    retry = client.post("/v1/predictions", json={"ticker": modelled, "days": 2}, headers=analyst.headers)
    assert (first.status_code, retry.status_code) == (201, 200), "the retry created nothing"
    assert (first.json()["added"], retry.json()["added"]) == (2, 0)
    assert [p["id"] for p in retry.json()["predictions"]] == [p["id"] for p in first.json()["predictions"]]
    assert client.get("/v1/ledger", headers=analyst.headers).json()["count"] == 2


def test_a_retry_that_adds_nothing_is_documented_as_200_beside_the_201_of_a_new_forecast(client):
    responses = client.get("/openapi.json").json()["paths"]["/v1/predictions"]["post"]["responses"]
    for status in ("200", "201"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/PredictionList"}, status


def test_each_ledger_row_names_the_version_that_made_it_in_json_and_csv(client, analyst, modelled):
    made = client.post("/v1/predictions", json={"ticker": modelled, "days": 2}, headers=analyst.headers).json()
    version_id = made["model"]["id"]
    rows = client.get("/v1/ledger", headers=analyst.headers).json()["ledger"]
    assert [row["model_version_id"] for row in rows] == [version_id] * 2
    as_csv = client.get("/v1/ledger", headers=analyst.headers | {"Accept": "text/csv"}).text
    assert [row["model_version_id"] for row in csv.DictReader(io.StringIO(as_csv))] == [version_id] * 2
    documented = client.get("/openapi.json").json()["components"]["schemas"]["LedgerRow"]
    assert "model_version_id" in documented["required"]


def test_a_deleted_version_s_ledger_rows_name_no_version(client, analyst):
    seed_ledger(analyst.actor, 2)  # rows whose version is gone, as deleting one leaves them
    rows = client.get("/v1/ledger", headers=analyst.headers).json()["ledger"]
    assert [row["model_version_id"] for row in rows] == [None, None]


def test_a_prediction_from_old_prices_says_it_is_stale_and_names_the_last_bar(client, analyst, modelled):
    made = client.post("/v1/predictions", json={"ticker": modelled, "days": 1}, headers=analyst.headers).json()
    assert (made["stale"], made["last_bar"]) == (True, "2018-12-31")
    documented = client.get("/openapi.json").json()["components"]["schemas"]["PredictionList"]
    assert {"stale", "last_bar", "added"} <= set(documented["required"])
    assert all(documented["properties"][name].get("description") for name in ("stale", "last_bar", "added"))


def seed_ledger(actor, count: int, *, tickers=("AAA", "BBB", "CCC"), first_target=None) -> list[uuid.UUID]:
    """`count` predictions of the actor's, their ids in the ledger's order: newest target day first, then
    newest made, then id. Target days and creation times repeat, so only the id orders some rows."""
    from db.models import Prediction

    made_at = datetime.datetime(2026, 1, 5, 12, 0, tzinfo=datetime.UTC)
    first_target = first_target or datetime.date(2018, 12, 3)
    rows = [
        Prediction(
            user_id=actor.user_id, ticker=tickers[n % len(tickers)], model_version_number=1, model_type="ridge",
            prediction_date=datetime.date(2018, 12, 1), target_date=first_target + datetime.timedelta(days=n // 4),
            base_close=100.0, predicted_value=100.0 + n, lower=90.0, upper=110.0,
            created_at=made_at + datetime.timedelta(seconds=n % 2),
        )
        for n in range(count)
    ]  # fmt: skip
    with session_scope() as session:
        session.add_all(rows)
    ordered = sorted(rows, key=lambda row: (row.target_date, row.created_at, row.id), reverse=True)
    return [row.id for row in ordered]


def walk_ledger(client, user, **params) -> list[dict]:
    """Every page of the ledger as a client walks it: each page's cursor asks for the next."""
    pages = []
    cursor = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        response = client.get("/v1/ledger", params=query, headers=user.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["count"] == len(page["ledger"])
        pages.append(page)
        cursor = page["next_cursor"]
        assert response.headers.get("Next-Cursor") == cursor
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor must move on"


def test_the_ledger_is_walked_page_by_page_each_row_once_in_order(client, analyst):
    expected = seed_ledger(analyst.actor, 25)
    pages = walk_ledger(client, analyst, limit=10)
    assert [page["count"] for page in pages] == [10, 10, 5]
    seen = [uuid.UUID(row["id"]) for page in pages for row in page["ledger"]]
    assert seen == expected, "every row once, newest target day first, in one stable order"
    assert pages[-1]["next_cursor"] is None


def test_the_ledger_pages_even_when_a_page_ends_exactly_at_its_last_row(client, analyst):
    expected = seed_ledger(analyst.actor, 20)
    pages = walk_ledger(client, analyst, limit=10)
    # A full last page cannot know it is the last without looking one row further: it says so itself.
    assert [page["count"] for page in pages] == [10, 10]
    assert [uuid.UUID(row["id"]) for page in pages for row in page["ledger"]] == expected


def test_without_a_limit_the_ledger_answers_the_default_page(client, analyst):
    from api.routes import DEFAULT_LIMIT

    expected = seed_ledger(analyst.actor, DEFAULT_LIMIT + 3)
    first = client.get("/v1/ledger", headers=analyst.headers).json()
    assert first["count"] == DEFAULT_LIMIT
    assert [uuid.UUID(row["id"]) for row in first["ledger"]] == expected[:DEFAULT_LIMIT]
    rest = client.get("/v1/ledger", params={"cursor": first["next_cursor"]}, headers=analyst.headers).json()
    assert [uuid.UUID(row["id"]) for row in rest["ledger"]] == expected[DEFAULT_LIMIT:]
    assert rest["next_cursor"] is None


def test_the_ledger_limit_is_applied_by_the_database_not_after_reading_everything(client, analyst, monkeypatch):
    from db.repositories import predictions as repository

    seed_ledger(analyst.actor, 30)
    fetched = []
    real_read = repository.read_ledger

    def counting_read(**arguments):
        frame = real_read(**arguments)
        fetched.append(len(frame))
        return frame

    monkeypatch.setattr(repository, "read_ledger", counting_read)
    monkeypatch.setattr("core.predictions.read_ledger", counting_read)
    assert client.get("/v1/ledger", params={"limit": 5}, headers=analyst.headers).json()["count"] == 5
    assert fetched == [6], "the page and one row more, to know whether another page follows"


def test_a_prediction_added_while_a_client_walks_the_ledger_moves_no_row_onto_two_pages(client, analyst):
    expected = seed_ledger(analyst.actor, 12)
    first = client.get("/v1/ledger", params={"limit": 5}, headers=analyst.headers).json()
    # A later target day than any: it goes to the top, before the cursor; an offset would repeat a row.
    newest = seed_ledger(analyst.actor, 1, first_target=datetime.date(2019, 6, 3))
    rest = walk_ledger(client, analyst, limit=5, cursor=first["next_cursor"])
    seen = [uuid.UUID(row["id"]) for page in [first, *rest] for row in page["ledger"]]
    assert seen == expected
    assert newest[0] not in seen


def test_the_ledger_filters_hold_across_pages(client, analyst):
    seed_ledger(analyst.actor, 25)
    everything = [row for page in walk_ledger(client, analyst, limit=100) for row in page["ledger"]]
    only_bbb = [row["id"] for row in everything if row["ticker"] == "BBB" and row["target_date"] >= "2018-12-04"]
    pages = walk_ledger(client, analyst, limit=3, ticker="bbb", since="2018-12-04")
    assert [row["id"] for page in pages for row in page["ledger"]] == only_bbb
    assert len(pages) == -(-len(only_bbb) // 3)


def test_the_ledger_as_csv_pages_the_same_way_its_next_cursor_in_a_header(client, analyst):
    expected = seed_ledger(analyst.actor, 25)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        response = client.get("/v1/ledger", params=params, headers=analyst.headers | {"Accept": "text/csv"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        seen += [uuid.UUID(row["id"]) for row in csv.DictReader(io.StringIO(response.text))]
        pages += 1
        cursor = response.headers.get("Next-Cursor")
        if cursor is None:
            break
    assert (pages, seen) == (3, expected)


def test_the_ledger_s_paging_is_documented(client):
    document = client.get("/openapi.json").json()
    ledger = document["paths"]["/v1/ledger"]["get"]
    parameters = {parameter["name"]: parameter for parameter in ledger["parameters"]}
    assert {"limit", "cursor"} <= set(parameters)
    assert parameters["cursor"].get("description")
    assert ledger["responses"]["200"]["headers"]["Next-Cursor"]["description"]
    assert "next_cursor" in document["components"]["schemas"]["Ledger"]["required"]


def test_the_ledger_s_numbers_are_as_stored_in_json_and_csv_alike(client, analyst):
    from db.models import Prediction

    stored = {
        "base_close": 6.390862785707e-06,
        "predicted_value": 6.24307362956495e-06,
        "lower": 4.2e-11,
        "upper": 2506.850098,
        "confidence_score": 0.010686439006809207,
    }
    with session_scope() as session:
        session.add(
            Prediction(
                user_id=analyst.actor.user_id, ticker="SHIB-USD", model_version_number=1, model_type="ridge",
                prediction_date=datetime.date(2024, 1, 2), target_date=datetime.date(2024, 1, 3), **stored,
            )
        )  # fmt: skip
    row = client.get("/v1/ledger", headers=analyst.headers).json()["ledger"][0]
    assert {name: row[name] for name in stored} == stored
    as_csv = client.get("/v1/ledger", headers=analyst.headers | {"Accept": "text/csv"}).text
    csv_row = next(csv.DictReader(io.StringIO(as_csv)))
    assert {name: float(csv_row[name]) for name in stored} == stored


def test_the_ledger_s_interval_hits_read_true_or_false_in_csv_as_in_json(client, analyst):
    from db.models import Prediction

    made_at = datetime.datetime(2024, 1, 4, 12, 0, tzinfo=datetime.UTC)
    with session_scope() as session:
        session.add_all(
            Prediction(
                user_id=analyst.actor.user_id, ticker="AAA", model_version_number=1, model_type="ridge",
                prediction_date=datetime.date(2024, 1, 2), target_date=datetime.date(2024, 1, day),
                base_close=100.0, predicted_value=100.0, lower=95.0, upper=105.0, actual_value=actual,
                matured_at=made_at,
            )
            for day, actual in ((3, 101.0), (4, 120.0))
        )  # fmt: skip
    pending = seed_ledger(analyst.actor, 1, tickers=("BBB",), first_target=datetime.date(2024, 1, 2))
    as_json = client.get("/v1/ledger", headers=analyst.headers).json()["ledger"]
    assert [(row["target_date"], row["inside"]) for row in as_json] == [
        ("2024-01-04", False), ("2024-01-03", True), ("2024-01-02", None),
    ]  # fmt: skip
    as_csv = client.get("/v1/ledger", headers=analyst.headers | {"Accept": "text/csv"}).text
    assert [row["inside"] for row in csv.DictReader(io.StringIO(as_csv))] == ["false", "true", ""]
    assert str(pending[0]) in as_csv


def as_cursor(text: str) -> str:
    """Text wrapped as the API wraps a cursor (base64url without padding): well formed, yet never given."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "problem"),
    [
        ("not-a-cursor", "not a cursor this API gave"),
        ("", "not a cursor this API gave"),
        (as_cursor("hello"), "not a cursor this API gave"),
        (as_cursor(f"2018-13-01|2026-01-05T12:00:00+00:00|{uuid.UUID(int=0).hex}"), "2018-13-01"),
        (as_cursor(f"2018-12-01|yesterday|{uuid.UUID(int=0).hex}"), "yesterday"),
        (as_cursor("2018-12-01|2026-01-05T12:00:00+00:00|not-an-id"), "not-an-id"),
        (as_cursor(f"2018-12-01|2026-01-05|{uuid.UUID(int=0).hex}"), "2026-01-05"),
        # Zoned times the calendar holds whose UTC time it does not: the database compares in UTC.
        (as_cursor(f"0001-01-01|0001-01-01T00:00:00+01:00|{uuid.UUID(int=0).hex}"), "0001-01-01T00:00:00+01:00"),
        (as_cursor(f"9999-12-31|9999-12-31T23:59:59-01:00|{uuid.UUID(int=0).hex}"), "9999-12-31T23:59:59-01:00"),
    ],
    ids=["garbage", "empty", "other-text", "no-such-day", "no-time", "no-id", "no-zone", "before-utc", "after-utc"],
)
def test_a_bad_ledger_cursor_is_422_naming_the_cursor_and_its_problem(client, analyst, cursor, problem):
    error = assert_error(
        client.get("/v1/ledger", params={"cursor": cursor}, headers=analyst.headers), 422, "invalid_request"
    )
    assert error["message"].startswith("query.cursor: ")
    assert problem in error["message"]
    assert error["details"] == [
        {"location": "query.cursor", "message": error["message"].removeprefix("query.cursor: ")}
    ]


@pytest.mark.parametrize(
    "text",
    [
        f"0001-01-01|0001-01-01T00:00:00+00:00|{uuid.UUID(int=0).hex}",
        f"9999-12-31|9999-12-31T23:59:59.999999+00:00|{uuid.UUID(int=0).hex}",
    ],
    ids=["first-moment", "last-moment"],
)
def test_a_cursor_at_the_calendar_s_edge_reads_the_rows_past_it(client, analyst, text):
    expected = seed_ledger(analyst.actor, 3)
    page = client.get("/v1/ledger", params={"cursor": as_cursor(text)}, headers=analyst.headers)
    assert page.status_code == 200, page.text
    past = [] if text.startswith("0001") else expected
    assert [uuid.UUID(row["id"]) for row in page.json()["ledger"]] == past


@pytest.mark.parametrize("limit", ["0", "501", "ten"])
def test_a_ledger_limit_out_of_range_is_422(client, analyst, limit):
    assert_error(client.get("/v1/ledger", params={"limit": limit}, headers=analyst.headers), 422, "invalid_request")
