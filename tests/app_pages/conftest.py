"""The refresh timers a page's runs ask the browser for (see refresh_timers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue


@pytest.fixture
def refresh_timers() -> Iterator[list[float]]:
    """The interval, in seconds, of each refresh timer the page's runs asked for since the list was last cleared."""
    asked: list[float] = []

    def note(message) -> None:
        if message.HasField("auto_rerun"):
            asked.append(message.auto_rerun.interval)

    ForwardMsgQueue.on_before_enqueue_msg(note)
    yield asked
    ForwardMsgQueue.on_before_enqueue_msg(None)
