"""Model versions, predictions from a stored version, and the ledger they land in (JSON and CSV)."""

from __future__ import annotations

import csv
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
    for _ in range(2):
        assert client.post("/v1/predictions", json={"ticker": modelled}, headers=analyst.headers).status_code == 201
    response = client.post("/v1/predictions", json={"ticker": modelled}, headers=analyst.headers)
    assert_error(response, 429, "quota_exceeded")
    assert int(response.headers["Retry-After"]) >= 1
    # Each request counts against the quota; the same forecast asked for twice is kept once.
    assert client.get("/v1/ledger", headers=analyst.headers).json()["count"] == 1


def test_a_retried_prediction_returns_the_rows_already_in_the_ledger(client, analyst, modelled):
    first = client.post("/v1/predictions", json={"ticker": modelled, "days": 2}, headers=analyst.headers)
    retry = client.post("/v1/predictions", json={"ticker": modelled, "days": 2}, headers=analyst.headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert (first.json()["added"], retry.json()["added"]) == (2, 0)
    assert [p["id"] for p in retry.json()["predictions"]] == [p["id"] for p in first.json()["predictions"]]
    assert client.get("/v1/ledger", headers=analyst.headers).json()["count"] == 2


def test_a_prediction_from_old_prices_says_it_is_stale_and_names_the_last_bar(client, analyst, modelled):
    made = client.post("/v1/predictions", json={"ticker": modelled, "days": 1}, headers=analyst.headers).json()
    assert (made["stale"], made["last_bar"]) == (True, "2018-12-31")
    documented = client.get("/openapi.json").json()["components"]["schemas"]["PredictionList"]
    assert {"stale", "last_bar", "added"} <= set(documented["required"])
    assert all(documented["properties"][name].get("description") for name in ("stale", "last_bar", "added"))
