"""A destructive action in two steps: its button asks, and only a second button does it."""

from __future__ import annotations

import streamlit as st

from ui.text import plain


def confirmed(label: str, question: str, *, key: str, container=None, disabled: bool = False) -> bool:
    """True on the run where the user, having pressed `label`, answers "Yes" to `question`.

    `key` names what would be destroyed (a version's id, a ticker), so a question asked about one
    thing is never answered for another.
    """
    asking = f"_confirm_{key}"
    if (container or st).button(label, key=key, disabled=disabled):
        st.session_state[asking] = True
    if not st.session_state.get(asking):
        return False
    st.warning(plain(question), icon=":material/warning:")
    yes, cancel = st.columns(2)
    if yes.button(f"Yes, {label[:1].lower()}{label[1:]}", key=f"{key}_yes", type="primary"):
        del st.session_state[asking]
        return True
    if cancel.button("Cancel", key=f"{key}_cancel"):
        del st.session_state[asking]
        st.rerun()
    return False
