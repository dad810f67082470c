"""Static files the app serves itself, under versioned paths that a browser keeps for a year.

Streamlit serves a component's files with neither a validator nor a lifetime, so every chart page
fetched plotly.js (4.8 MB) again, and the server gzipped it again at level 9: about a quarter of a
second of a core per page, on the machine that also runs the trainings. Here it is one fetch per
browser and plotly version.
"""

from __future__ import annotations

from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

PLOTLY_VERSION = version("plotly")
PLOTLY_JS = Path(find_spec("plotly").origin).parent / "package_data" / "plotly.min.js"
# Relative to the app's root; the path changes with the version, so the file may be kept forever.
PLOTLY_PATH = f"assets/plotly-{PLOTLY_VERSION}.min.js"
CACHED_FOR_A_YEAR = {"Cache-Control": "public, max-age=31536000, immutable"}


async def _plotly_js(_: Request) -> FileResponse:
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=CACHED_FOR_A_YEAR)


ROUTES = [Route(f"/{PLOTLY_PATH}", _plotly_js, methods=["GET", "HEAD"])]
