"""Preferences: validated before anything is written, read back with defaults."""

import pytest

from core.preferences import PreferencesError, load_preferences, save_preferences
from db.repositories.actor import Actor
from db.repositories.users import create_user


@pytest.fixture
def actor(session):
    return Actor.of(create_user(session=session, username="pia", email="pia@example.com", password_hash="x"))


def save(session, actor, **overrides):
    fields = {
        "tickers_text": "msft, ^gspc\nBRK-B",
        "chart_theme": "dark",
        "default_range": "5Y",
        "notifications": {"training_finished": False, "prediction_matured": True},
    } | overrides
    return save_preferences(session=session, actor=actor, **fields)


def test_defaults_for_a_new_user(session, actor):
    preferences = load_preferences(session=session, actor=actor)
    assert (preferences.default_tickers, preferences.chart_theme, preferences.default_range) == (
        [],
        "light",
        "1Y",
    )
    assert preferences.plotly_template == "plotly_white"


def test_saved_values_come_back(session, actor):
    save(session, actor)
    session.expire_all()
    preferences = load_preferences(session=session, actor=actor)
    assert preferences.default_tickers == ["MSFT", "^GSPC", "BRK-B"]
    assert preferences.plotly_template == "plotly_dark"
    assert preferences.default_range == "5Y"
    assert preferences.notifications == {"training_finished": False, "prediction_matured": True}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tickers_text": "MSFT, $$$"}, "default tickers: '\\$\\$\\$' is not a ticker"),
        ({"chart_theme": "neon"}, "chart theme: 'neon'"),
        ({"default_range": "2W"}, "default range: '2W'"),
        ({"notifications": {"sms": True}}, "notifications: unknown setting 'sms'"),
    ],
)
def test_a_bad_value_is_named_and_nothing_is_written(session, actor, overrides, message):
    save(session, actor)
    with pytest.raises(PreferencesError, match=message):
        save(session, actor, **{"tickers_text": "AAPL", **overrides})
    session.expire_all()
    assert load_preferences(session=session, actor=actor).default_tickers == ["MSFT", "^GSPC", "BRK-B"]
