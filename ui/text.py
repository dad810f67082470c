"""Text a user or a file controls, made safe for Streamlit's markdown-rendering elements."""

from __future__ import annotations

import re

# Every character markdown (or the HTML it allows) gives a meaning to.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>!#|~$])")
# GitHub-flavoured markdown links bare addresses: an escaped ':', '.' or '@' leaves them text.
_AUTOLINK = re.compile(r"(?i)(?<=https)(:)|(?<=http)(:)|(?<=ftp)(:)|(?<=www)(\.)|(@)")
# Lines that start a rule, a list or a setext heading: '---', '- x', '+ x', '===', '1. x', '1) x'.
_LINE_START = re.compile(r"(?m)^(\s*)([-+=])|^(\s*\d+)([.)])")


def plain(text: object) -> str:
    """The text escaped so st.markdown, st.caption, st.error and friends show it exactly as written."""
    escaped = _MARKDOWN.sub(r"\\\1", str(text))
    escaped = _AUTOLINK.sub(lambda found: "\\" + found.group(0), escaped)
    return _LINE_START.sub(_escape_marker, escaped)


def _escape_marker(found: re.Match[str]) -> str:
    lead, marker = (found[1], found[2]) if found[2] else (found[3], found[4])
    return f"{lead}\\{marker}"
