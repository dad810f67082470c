"""A destructive action in two steps: its button asks, and only a second button does it."""

from __future__ import annotations

import streamlit as st

from ui.text import plain


def confirmed(label: str, question: str, *, key: str, container=None, disabled: bool = False) -> bool:
    """True on the run where the user, having pressed `label`, answers "Yes" to `question`.

    The question stands for the next click only: anything else the user does instead dismisses it,
    so an unanswered question never comes back by itself. `key` names what would be destroyed (a
    version's id, a ticker), so a question asked about one thing is never answered for another.
    """
    asking = f"_confirm_{key}"
    asked = (container or st).button(label, key=key, disabled=disabled)
    if asked:
        st.session_state[asking] = True
    if not st.session_state.get(asking):
        return False
    # Drawn before the answer is known: a button returns its click only where it is drawn.
    box = st.empty()
    with box.container():
        st.warning(plain(question), icon=":material/warning:")
        yes_column, cancel_column = st.columns(2)
        yes = yes_column.button(f"Yes, {label[:1].lower()}{label[1:]}", key=f"{key}_yes", type="primary")
        cancel_column.button("Cancel", key=f"{key}_cancel")  # its click is a run without a yes
    if asked:
        return False
    del st.session_state[asking]
    if not yes:
        box.empty()  # cancelled, or dismissed by whatever the user did instead
    return yes
