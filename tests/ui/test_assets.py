"""The app's own static route: plotly.js for the chart component, cached by browsers."""

from starlette.applications import Starlette
from starlette.testclient import TestClient

from ui.components.assets import PLOTLY_JS, PLOTLY_PATH, ROUTES


def test_plotly_js_is_served_whole_and_kept_by_browsers():
    with TestClient(Starlette(routes=ROUTES)) as client:
        response = client.get(f"/{PLOTLY_PATH}")
    assert response.status_code == 200
    assert response.content == PLOTLY_JS.read_bytes()
    assert response.headers["content-type"].startswith("text/javascript")
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]
