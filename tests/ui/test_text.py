"""Escaped text shows exactly as written in Streamlit's markdown elements: no link, image or HTML."""

from streamlit.testing.v1 import AppTest

from ui.text import plain

HOSTILE = "![x](http://host/t.png) [click](http://evil.example) <b>bold</b> *em* `code` #head"


def test_every_markdown_character_is_escaped():
    escaped = plain(HOSTILE)
    for character in "![]()<>*`#":
        if character in "()":
            continue
        assert f"\\{character}" in escaped
    assert escaped.replace("\\", "") == HOSTILE.replace("\\", "")


def test_a_caption_of_escaped_text_renders_no_link():
    def page():
        import streamlit as st

        from ui.text import plain

        st.caption(plain("[click](http://evil.example)"))

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert at.caption[0].value == "\\[click\\](http\\://evil.example)"


def test_bare_addresses_and_line_start_markers_are_broken_up():
    # GitHub-flavoured markdown links bare addresses, and makes rules and lists of lines that start so:
    # a file's header names reach error messages.
    escaped = plain("see https://evil.example/verify and www.evil.example or ops@evil.example\n---\n1. one\n+ two")
    for live in ("https://", "www.", "ops@evil"):
        assert live not in escaped
    assert [line[:2] for line in escaped.splitlines()[1:]] == ["\\-", "1\\", "\\+"]
    assert escaped.replace("\\", "") == (
        "see https://evil.example/verify and www.evil.example or ops@evil.example\n---\n1. one\n+ two"
    )
