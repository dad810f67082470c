"""The API's documentation pages work on a machine with no internet, as the app does."""

from __future__ import annotations

import re


def test_the_docs_pages_load_their_scripts_from_the_api_itself(client):
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200, page
        assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert assets, page
        assert not [url for url in assets if "://" in url], f"{page} reaches out to a CDN: {assets}"
        for asset in assets:
            served = client.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 1000, asset
    assert client.get("/openapi.json").json()["info"]["title"] == "Candlecast API"
