"""The refresh timers a page sets in the browser, and the browser's side of them, for AppTest.

`@st.fragment(run_every=...)` sends the browser an auto-rerun message; the browser then reruns the
fragment alone on that interval until the next full run of the page, which clears every timer.
AppTest keeps no such message in its element tree and runs no timer, so a test reads the messages
as they are queued (the refresh_timers fixture, in conftest.py), and fires a timer itself by running
the fragment alone.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

TIMER_FIRED_KEY = "test_timer_fired"


def timed_runs(at: AppTest, refresh_timers: list[float]) -> list[float]:
    """Run the page once, as a browser's load or click does: the refresh timers that run left set."""
    refresh_timers.clear()
    at.run()
    return list(refresh_timers)


def fire_timer(at: AppTest, refresh_timers: list[float]) -> AppTest:
    """What the browser does when a timer the page set goes off: the script is told to run the fragment alone.

    Only a page that asked for a timer gets this run; the script under test reads TIMER_FIRED_KEY.
    """
    assert refresh_timers, "the page set no refresh timer to fire"
    refresh_timers.clear()
    at.session_state[TIMER_FIRED_KEY] = True
    return at.run()
