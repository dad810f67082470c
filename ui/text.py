"""Text a user or a file controls, made safe for Streamlit's markdown-rendering elements."""

from __future__ import annotations

import re

# Every character markdown (or the HTML it allows) gives a meaning to.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>!#|~$])")


def plain(text: object) -> str:
    """The text escaped so st.markdown, st.caption, st.error and friends show it exactly as written."""
    return _MARKDOWN.sub(r"\\\1", str(text))
