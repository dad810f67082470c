"""POST /v1/predictions and training settings: a request refused for its own data says why, and costs no quota."""

from common.config import get_settings
from core.forecasting.registry import save_version
from db.engine import session_scope
from tests.api.conftest import assert_error, unique_ticker, upload
from tests.core.forecasting.tiny import tiny_result
from tests.fixtures import gspc_2018_bytes


def test_predictions_refused_for_want_of_a_model_use_none_of_the_hour_s(client, analyst, modelled, monkeypatch):
    monkeypatch.setenv("ACTION_LIMITS", '{"pro": {"predict": "2/hour"}}')
    get_settings.cache_clear()
    for ticker in ("NOMODEL1", "NOMODEL2", "NOMODEL3"):
        assert_error(client.post("/v1/predictions", json={"ticker": ticker}, headers=analyst.headers), 404, "not_found")
    made = client.post("/v1/predictions", json={"ticker": modelled}, headers=analyst.headers)
    assert made.status_code == 201, made.text


def test_too_few_days_for_the_model_s_window_are_unprocessable_in_plain_words(client, analyst):
    ticker = unique_ticker()
    lines = gspc_2018_bytes().decode().splitlines()
    assert upload(client, analyst, ticker, ("\n".join(lines[:6]) + "\n").encode()).status_code == 201
    with session_scope() as session:
        save_version(session=session, actor=analyst.actor, ticker=ticker, result=tiny_result())
    error = assert_error(
        client.post("/v1/predictions", json={"ticker": ticker}, headers=analyst.headers), 422, "unprocessable"
    )
    assert error["message"] == f"{ticker} has 5 days of prices; this model needs at least 43"


def test_a_seed_numpy_cannot_take_is_refused_when_submitted(client, analyst, priced):
    config = {"model_type": "ridge", "seed": 2**32}
    response = client.post("/v1/jobs/training", json={"ticker": priced, "config": config}, headers=analyst.headers)
    error = assert_error(response, 422, "invalid_request")
    assert [problem["location"] for problem in error["details"]] == ["body.config.seed"]
    assert client.get("/v1/jobs", headers=analyst.headers).json()["count"] == 0
