"""A plotly chart whose value axes re-fit to the days in view after every zoom, pan or range button.

Plotly scales a y-axis over all its data and st.plotly_chart cannot react to a relayout, so the
chart runs in a component of its own: index.html draws the figure with the plotly.js of the
installed plotly package and re-fits each unfixed y-axis to the data inside the new date window.
Nothing is fetched from the network and nothing is built: the served folder is written at first
use, under var/, from price_chart.html and plotly's own plotly.min.js. The page loads plotly.js
from the app's cached route (ui/components/assets.py), and the copy beside it only without one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit.components.v1 as components

from common.config import PROJECT_ROOT
from ui.charts import CHART_CONFIG, layout_name, trace_bounds
from ui.components.assets import PLOTLY_JS, PLOTLY_PATH, PLOTLY_VERSION

PAGE = Path(__file__).with_name("price_chart.html")
SERVED_ROOT = PROJECT_ROOT / "var" / "components"
NAME = "price_chart"
# The row ui.charts keeps above the plot for its range buttons (11 px text, 4 px pads, the button's border).
RANGE_BUTTONS_PX = 30


@cache
def served_folder() -> Path:
    """The folder Streamlit serves: the page and plotly.js, named after both so an upgrade gets a new one."""
    page = PAGE.read_bytes().replace(b"__PLOTLY_PATH__", PLOTLY_PATH.encode())
    version = hashlib.sha256(page + PLOTLY_VERSION.encode()).hexdigest()[:12]
    folder = SERVED_ROOT / f"{NAME}-{version}"
    _write_once(folder / "index.html", lambda target: target.write_bytes(page))
    _write_once(folder / "plotly.min.js", lambda target: shutil.copyfile(PLOTLY_JS, target))
    return folder


def _write_once(path: Path, write) -> None:
    # Two sessions may start at once: each writes its own temporary file and renames it into
    # place, so the server never serves a half-written file.
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(temporary)
    os.replace(temporary, path)


def fit_data(figure: go.Figure) -> dict:
    """What the page needs to re-fit the y-axes: the dates (ms) and each trace's low and high by date,
    each as a typed array (see _numbers).

    Traces on a fixed axis (RSI's 0-100) are left out; bars count from zero, as they are drawn.
    """
    series, frames = [], []
    for index, trace in enumerate(figure.data):
        axis = layout_name(trace.yaxis or "y")
        bounds = trace_bounds(trace)
        if bounds is None or figure.layout[axis].fixedrange:
            continue
        frames.append(bounds[~bounds.index.duplicated()])
        series.append({"trace": index, "axis": axis, "fromZero": trace.type == "bar"})
    if not frames:
        return {"x": _numbers(np.array([])), "series": []}
    days = frames[0].index
    for frame in frames[1:]:
        days = days.union(frame.index)
    days = days.sort_values()
    for entry, frame in zip(series, frames, strict=True):
        frame = frame.reindex(days)
        entry["low"] = _numbers(frame["low"])
        # A line's low and high are one value: sent once.
        entry["high"] = None if frame["low"].equals(frame["high"]) else _numbers(frame["high"])
    # Plotly reads a date without a zone as UTC wall time, and so are these milliseconds.
    naive = days.tz_localize(None) if days.tz is not None else days
    return {"x": _numbers(naive.as_unit("ms").asi8), "series": series}


def _numbers(values: pd.Series | np.ndarray) -> dict[str, str]:
    """Numbers as plotly.py sends an array: base64 of little-endian float64, NaN where a value is missing.

    As a JSON list, 20 years of a chart's fit data was 1.3 MB of text, 30 ms to write on every run.
    """
    numbers = np.asarray(values, dtype="<f8")
    return {"dtype": "f8", "bdata": base64.b64encode(numbers.tobytes()).decode("ascii")}


def without_range_buttons(figure: go.Figure) -> go.Figure:
    """The figure without its range buttons and the row kept for them, opening on the range it was built for.

    For a page whose own control chooses the range: two controls that can disagree leave a URL that
    reopens another view than the one on screen.
    """
    if not figure.layout.updatemenus:
        return figure
    top, height = figure.layout.margin.t, figure.layout.height
    figure.layout.updatemenus = ()
    if top is not None and top > RANGE_BUTTONS_PX:
        figure.update_layout(margin={"t": top - RANGE_BUTTONS_PX})
        if height is not None:
            figure.update_layout(height=height - RANGE_BUTTONS_PX)
    return figure


def price_chart(figure: go.Figure, *, key: str | None = None, range_buttons: bool = True) -> None:
    """Draw the figure at its own height, with y-axes that follow the dates in view.

    Without range_buttons, the figure's buttons are taken off (see without_range_buttons).
    """
    if not range_buttons:
        figure = without_range_buttons(figure)
    component = components.declare_component(NAME, path=str(served_folder()))
    component(spec=figure.to_json(), fit=fit_data(figure), config=CHART_CONFIG, height=int(figure.layout.height or 450),
              key=key, default=None)  # fmt: skip
