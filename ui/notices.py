"""What an action did, said after the rerun that shows its result.

A page reruns after an action so that every table above it shows the new state; whatever the
action wrote before st.rerun() is discarded with that run. The message waits in the session and
the next run of the page shows it once.
"""

from __future__ import annotations

from typing import NoReturn

import streamlit as st

from ui.text import plain

NOTICE_KEY = "_candlecast_notice"


def done_then_rerun(message: str) -> NoReturn:
    """Keep the message for the next run, and rerun the page now."""
    st.session_state[NOTICE_KEY] = message
    st.rerun()


def show_notice() -> None:
    """The message an action left before its rerun, as text (it may carry a ticker or a key name).

    Its slot is there on every run, message or not: an element that came and went would shift
    everything below it, and Streamlit would redraw the page's tabs on their first one.
    """
    slot = st.empty()
    message = st.session_state.pop(NOTICE_KEY, None)
    if message:
        slot.success(plain(message), icon=":material/check_circle:")
