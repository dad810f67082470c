"""The Metrics page's table of versions: each version's moment read in the viewer's zone."""

from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pandas as pd

import ui.format
from ui.versions_panel import version_rows


def test_the_trained_column_is_converted_once_in_the_viewer_s_zone(monkeypatch):
    # Each row went through local_moment alone: a library of hundreds of versions paid a conversion per row.
    zones_asked = []

    def new_york():
        zones_asked.append(1)
        return ZoneInfo("America/New_York")

    monkeypatch.setattr(ui.format, "browser_zone", new_york)
    made = datetime(2019, 1, 2, 22, 5, tzinfo=UTC)
    versions = [
        SimpleNamespace(ticker="SPX", version=n, created_at=made, is_active=n == 1, model_type="ridge", metrics={})
        for n in range(1, 7)
    ]
    table = version_rows(versions)
    assert list(table["Trained"]) == [pd.Timestamp("2019-01-02 17:05")] * 6
    assert len(zones_asked) == 1
