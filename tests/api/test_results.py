"""Walk-forward runs, backtests of their forecasts and portfolio risk, run and read through the API."""

from __future__ import annotations

import uuid

import pytest

from core.data.csv_prices import parse_price_csv
from core.forecasting.evaluation import LEADERBOARD_VERDICT
from db.engine import session_scope
from db.models import Evaluation
from tests.api.conftest import assert_error
from tests.fixtures import gspc_2018_bytes


@pytest.fixture
def evaluation(analyst, priced) -> str:
    """A stored walk-forward run whose forecasts are the 2018 closes nudged towards the next day's."""
    frame = parse_price_csv(gspc_2018_bytes(), ticker=priced).frame
    closes = frame["close"].astype(float).to_numpy()
    dates = frame["date"].dt.strftime("%Y-%m-%d").to_list()
    forecast = [
        {
            "origin_date": dates[i - 1],
            "date": dates[i],
            "previous_close": closes[i - 1],
            "actual": closes[i],
            "predicted": (closes[i] + closes[i - 1]) / 2,
        }
        for i in range(1, len(closes))
    ]
    with session_scope() as session:
        row = Evaluation(
            user_id=analyst.actor.user_id,
            ticker=priced,
            config={"training": {"model_type": "ridge"}, "walkforward": {"windows": 2}},
            metrics={"mae": 9.0, "naive_mae": 10.0, "dm_pvalue": 0.41, "verdict": "beats persistence"},
            windows=[
                {"train_until": dates[0], "forecast": forecast[:125]},
                {"train_until": dates[125], "forecast": forecast[125:]},
            ],
        )
        session.add(row)
        session.flush()
        return str(row.id)


def test_walkforward_runs_are_listed_and_read(client, analyst, evaluation, priced):
    listed = client.get("/v1/evaluations", params={"ticker": priced}, headers=analyst.headers).json()
    assert [(e["id"], e["model_type"]) for e in listed["evaluations"]] == [(evaluation, "ridge")]
    judged = "no better than tomorrow = today (p = 0.41)"
    assert listed["evaluations"][0]["metrics"]["verdict"] == judged, "judged as the Metrics page does, not echoed"
    detail = client.get(f"/v1/evaluations/{evaluation}", headers=analyst.headers).json()
    assert len(detail["windows"]) == 2
    assert_error(client.get(f"/v1/evaluations/{uuid.uuid4()}", headers=analyst.headers), 404)


def test_a_backtest_is_run_stored_and_read_back(client, analyst, evaluation):
    response = client.post("/v1/backtests", json={"evaluation_id": evaluation, "cost_bps": 0}, headers=analyst.headers)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["metrics"]["days"] == 250
    # A forecast that knows the next close half-way is always right about the direction.
    assert made["metrics"]["strategy"]["total_return"] > made["metrics"]["buy_and_hold"]["total_return"]
    assert [b["id"] for b in client.get("/v1/backtests", headers=analyst.headers).json()["backtests"]] == [made["id"]]
    again = client.get(f"/v1/backtests/{made['id']}", headers=analyst.headers).json()
    assert len(again["equity_curve"]) == 250


def test_backtest_errors(client, analyst, evaluation, new_user):
    # Someone else's run is as missing as one that never existed: 404, like every other resource.
    for caller, run in ((analyst, str(uuid.uuid4())), (new_user(), evaluation)):
        error = assert_error(
            client.post("/v1/backtests", json={"evaluation_id": run}, headers=caller.headers), 404, "not_found"
        )
        assert error["message"] == "no such walk-forward run"
    assert_error(
        client.post(
            "/v1/backtests", json={"evaluation_id": str(uuid.uuid4()), "cost_bps": -1}, headers=analyst.headers
        ),
        422,
        "invalid_request",
    )
    assert_error(client.get(f"/v1/backtests/{uuid.uuid4()}", headers=analyst.headers), 404)


def test_a_leaderboard_is_listed_as_one_and_cannot_be_backtested(client, analyst, priced):
    # A leaderboard keeps no forecasts to trade: backtesting one was a 500 from an empty concatenation.
    with session_scope() as session:
        row = Evaluation(
            user_id=analyst.actor.user_id,
            ticker=priced,
            kind="leaderboard",
            config={"training": {"model_type": "auto"}},
            metrics={"models": [{"kind": "persistence", "test_mase": 1.0}], "sorted_by": "validation_mase"},
            windows=[],
        )
        session.add(row)
        session.flush()
        board = str(row.id)
    error = assert_error(
        client.post("/v1/backtests", json={"evaluation_id": board}, headers=analyst.headers), 404, "not_found"
    )
    assert error["message"] == "no such walk-forward run"
    (listed,) = client.get("/v1/evaluations", headers=analyst.headers).json()["evaluations"]
    assert (listed["kind"], listed["metrics"]["verdict"]) == ("leaderboard", LEADERBOARD_VERDICT)


def test_portfolio_risk_is_measured_stored_and_read_back(client, analyst, priced):
    response = client.post("/v1/risk", json={"weights": {priced: 1.0}}, headers=analyst.headers)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["tickers"] == [priced]
    assert (made["start_date"], made["end_date"]) == ("2018-01-02", "2018-12-31")
    # The S&P 500 fell about a fifth from its September high to Christmas Eve 2018.
    assert -0.25 < made["metrics"]["max_drawdown"] < -0.15
    assert client.get(f"/v1/risk/{made['id']}", headers=analyst.headers).json() == made
    assert [r["id"] for r in client.get("/v1/risk", headers=analyst.headers).json()["results"]] == [made["id"]]


def test_risk_errors(client, analyst, priced):
    # No prices is a 404 here as on every other route that reads a ticker's prices.
    for body in ({"weights": {"NOSUCH": 1}}, {"weights": {priced: 1}, "benchmark": "nosuch"}):
        error = assert_error(client.post("/v1/risk", json=body, headers=analyst.headers), 404, "not_found")
        assert error["message"] == "no cached prices of NOSUCH"
    assert_error(client.post("/v1/risk", json={"weights": {}}, headers=analyst.headers), 422, "invalid_request")
    error = assert_error(
        client.post("/v1/risk", json={"weights": {priced: 0}}, headers=analyst.headers), 422, "invalid_request"
    )
    assert error["details"] == [{"location": "body.weights", "message": "at least one above 0"}]
    assert_error(client.get(f"/v1/risk/{uuid.uuid4()}", headers=analyst.headers), 404)


def test_two_spellings_of_one_ticker_in_the_weights_are_refused_naming_them(client, analyst, priced):
    body = {"weights": {priced.lower(): 1, priced: 2}}
    error = assert_error(client.post("/v1/risk", json=body, headers=analyst.headers), 422, "invalid_request")
    (problem,) = error["details"]
    assert problem["location"] == "body.weights"
    assert repr(priced.lower()) in problem["message"]
    assert repr(priced) in problem["message"]
    assert client.get("/v1/risk", headers=analyst.headers).json()["count"] == 0


def test_stored_results_are_listed_newest_first_up_to_a_limit(client, analyst, priced):
    made = [
        client.post("/v1/risk", json={"weights": {priced: 1.0}}, headers=analyst.headers).json()["id"] for _ in "abc"
    ]
    newest = client.get("/v1/risk", params={"limit": 2}, headers=analyst.headers).json()
    assert (newest["count"], [row["id"] for row in newest["results"]]) == (2, made[:0:-1])
    assert client.get("/v1/risk", headers=analyst.headers).json()["count"] == 3
    for path in ("/v1/evaluations", "/v1/backtests"):
        assert client.get(path, params={"limit": 500}, headers=analyst.headers).status_code == 200
        assert_error(client.get(path, params={"limit": 501}, headers=analyst.headers), 422, "invalid_request")


@pytest.mark.parametrize("field", ["threshold_bps", "cost_bps"])
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_a_backtest_setting_that_is_no_finite_number_is_refused_as_such(client, analyst, field, number):
    body = f'{{"evaluation_id": "{uuid.uuid4()}", "{field}": {number}}}'
    response = client.post(
        "/v1/backtests", content=body, headers=analyst.headers | {"Content-Type": "application/json"}
    )
    error = assert_error(response, 422, "invalid_request")
    assert error["details"] == [{"location": f"body.{field}", "message": "Input should be a finite number"}]
