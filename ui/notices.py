"""What an action did, said after the rerun that shows its result.

A page reruns after an action so that every table above it (or in another tab) shows the new
state; whatever the action wrote before st.rerun() is discarded with that run. Its message, or its
whole result, waits in the session and the next run of the page shows it once.
"""

from __future__ import annotations

from typing import Any, NoReturn

import streamlit as st

from ui.text import plain

NOTICE_KEY = "_candlecast_notice"


def keep_then_rerun(key: str, result: object) -> NoReturn:
    """Keep the result for the next run (see `kept`), and rerun the page now."""
    st.session_state[key] = result
    st.rerun()


def kept(key: str) -> Any:
    """The result an action kept before its rerun, once; None on any other run."""
    return st.session_state.pop(key, None)


def done_then_rerun(message: str) -> NoReturn:
    """Keep the message for the next run's notice, and rerun the page now."""
    keep_then_rerun(NOTICE_KEY, message)


def show_notice() -> None:
    """The message an action left before its rerun, as text (it may carry a ticker or a key name).

    Its slot is there on every run, message or not: an element that came and went would shift
    everything below it, and Streamlit would redraw the page's tabs on their first one.
    """
    slot = st.empty()
    message = kept(NOTICE_KEY)
    if message:
        slot.success(plain(message), icon=":material/check_circle:")
