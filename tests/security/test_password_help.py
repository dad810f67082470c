"""The password fields' help states the rules the form applies, and nothing else."""

from streamlit.testing.v1 import AppTest

from common.config import PROJECT_ROOT
from core.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PASSWORD_RULES, check_password_policy


def test_the_help_names_our_rules():
    assert f"{MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters" in PASSWORD_RULES
    # The library's default promised upper case, digits, symbols and at most 20 characters.
    check_password_policy("all lower case and much longer than twenty characters")
    for promise in ("at least one", "uppercase", "special character", "between 8 and 20"):
        assert promise not in PASSWORD_RULES.lower()


def test_the_registration_form_shows_that_help(monkeypatch, sqlite_database_url):
    monkeypatch.setenv("DATABASE_URL", sqlite_database_url.render_as_string(hide_password=False))
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=30).run()
    assert not at.exception
    passwords = [field for field in at.text_input if field.label == "Password"]
    assert [field.help or None for field in passwords] == [None, PASSWORD_RULES]
