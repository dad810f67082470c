"""A ticker is one symbol however a client spells it: every route reads it as the upload stored it."""

from __future__ import annotations

from tests.api.conftest import assert_error
from tests.fixtures import gspc_2018_bytes


def test_a_lower_case_ticker_reads_the_prices_stored_under_its_symbol(client, analyst, priced):
    lower = priced.lower()
    response = client.get(f"/v1/prices/{lower}", headers=analyst.headers)
    assert response.status_code == 200, response.text
    assert response.json()["ticker"] == priced
    assert client.get(f"/v1/indicators/{lower}", headers=analyst.headers).status_code == 200


def test_a_lower_case_ticker_finds_its_models_and_predicts(client, analyst, modelled):
    lower = modelled.lower()
    listed = client.get("/v1/models", params={"ticker": lower}, headers=analyst.headers).json()
    assert listed["count"] == 1
    made = client.post("/v1/predictions", json={"ticker": lower, "days": 1}, headers=analyst.headers)
    assert made.status_code == 201, made.text
    assert made.json()["predictions"][0]["ticker"] == modelled


def test_a_risk_portfolio_and_a_training_job_take_the_symbol_in_any_case(client, analyst, priced):
    risk = client.post("/v1/risk", json={"weights": {priced.lower(): 1.0}}, headers=analyst.headers)
    assert risk.status_code == 201, risk.text
    job = client.post(
        "/v1/jobs/training", json={"ticker": priced.lower(), "config": {"model_type": "drift"}}, headers=analyst.headers
    )
    assert job.status_code == 202, job.text
    assert job.json()["ticker"] == priced


def test_what_no_upload_could_store_as_a_ticker_is_refused_by_name(client, analyst):
    error = assert_error(client.get("/v1/prices/has_underscore", headers=analyst.headers), 422, "invalid_request")
    assert "not a ticker symbol" in error["details"][0]["message"]
    error = assert_error(
        client.post("/v1/predictions", json={"ticker": "A" * 25}, headers=analyst.headers), 422, "invalid_request"
    )
    assert error["details"][0]["location"] == "body.ticker"


def test_a_symbol_that_is_not_ascii_is_refused_not_stored_under_its_upper_case(client, analyst):
    # "ßß".upper() is "SSSS": the upload stored rows under a ticker the client never named.
    response = client.post(
        "/v1/prices",
        headers=analyst.headers,
        files={"file": ("prices.csv", gspc_2018_bytes(), "text/csv")},
        data={"ticker": "ßß"},
    )
    error = assert_error(response, 422, "invalid_request")
    assert error["details"][0]["location"] == "body.ticker"
    assert error["details"][0]["message"].startswith("'ßß' is not a ticker symbol")
    assert_error(client.get("/v1/prices/SSSS", headers=analyst.headers), 404, "not_found")
    error = assert_error(client.get("/v1/prices/ﬁ", headers=analyst.headers), 422, "invalid_request")
    assert error["details"][0]["message"].startswith("'ﬁ' is not a ticker symbol")
