"""Home's recent jobs: a job's message (a verdict, a failure's reason) is read whole, not cut at the cell's edge."""

import json

from streamlit.testing.v1 import AppTest

VERDICT = "v3: no better than tomorrow = today (p = 0.61)"


def recent_jobs(verdict: str) -> None:
    from datetime import UTC, datetime

    from app_pages.home import render_jobs
    from core.home import JobRow, StartPage

    finished = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    job = JobRow("^GSPC", "auto ensemble", "succeeded", 1.0, finished, finished, verdict)
    render_jobs(StartPage(jobs=[job]))


def test_a_jobs_message_has_the_width_of_its_text():
    at = AppTest.from_function(recent_jobs, args=(VERDICT,), default_timeout=30).run()
    assert not at.exception
    [table] = at.dataframe
    assert table.value["Message"].tolist() == [VERDICT]
    config = json.loads(table.proto.columns)
    assert config["Message"]["width"] >= 6.5 * len(VERDICT) + 12, "wide enough for the whole message"
