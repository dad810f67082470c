"""A key of user B never sees user A's uploads, models, predictions, jobs or results."""

from __future__ import annotations

from tests.api.conftest import assert_error


def test_another_users_key_sees_none_of_their_things(client, analyst, new_user, modelled):
    a = analyst.headers
    prediction = client.post("/v1/predictions", json={"ticker": modelled, "days": 1}, headers=a).json()
    job = client.post("/v1/jobs/training", json={"ticker": modelled}, headers=a).json()
    risk = client.post("/v1/risk", json={"weights": {modelled: 1}}, headers=a).json()
    version_id = client.get("/v1/models", headers=a).json()["versions"][0]["id"]
    assert prediction["count"] == 1

    user_b = new_user()
    b = user_b.headers
    assert modelled not in {t["ticker"] for t in client.get("/v1/tickers", headers=b).json()["tickers"]}
    assert_error(client.get(f"/v1/prices/{modelled}", headers=b), 404)
    assert_error(client.get(f"/v1/indicators/{modelled}", headers=b), 404)
    assert client.get("/v1/models", headers=b).json()["count"] == 0
    assert_error(client.get(f"/v1/models/{version_id}", headers=b), 404)
    assert_error(client.post("/v1/predictions", json={"ticker": modelled, "version_id": version_id}, headers=b), 404)
    assert client.get("/v1/ledger", headers=b).json()["count"] == 0
    assert client.get("/v1/ledger", headers=b | {"Accept": "text/csv"}).text.count("\n") == 1  # the header only
    assert client.get("/v1/jobs", headers=b).json()["count"] == 0
    assert_error(client.get(f"/v1/jobs/{job['id']}", headers=b), 404)
    assert_error(client.post(f"/v1/jobs/{job['id']}/cancel", headers=b), 404)
    assert client.get("/v1/risk", headers=b).json()["count"] == 0
    assert_error(client.get(f"/v1/risk/{risk['id']}", headers=b), 404)
    assert {u["key_prefix"] for u in client.get("/v1/usage", headers=b).json()["usage"]} == {user_b.key[:11]}

    # A's things are untouched by B's attempts: the job is still queued, A still sees everything.
    assert client.get(f"/v1/jobs/{job['id']}", headers=a).json()["status"] == "queued"
    assert client.get("/v1/ledger", headers=a).json()["count"] == 1
