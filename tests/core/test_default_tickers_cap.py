"""Default tickers are a short list to pick from, not a store: past the cap they are refused, nothing written."""

import pytest

from core.preferences import MAX_DEFAULT_TICKERS, PreferencesError, load_preferences, save_preferences
from db.repositories.actor import Actor
from db.repositories.users import create_user


@pytest.fixture
def actor(session):
    return Actor.of(create_user(session=session, username="pia", email="pia@example.com", password_hash="x"))


def save(session, actor, tickers_text):
    return save_preferences(
        session=session,
        actor=actor,
        tickers_text=tickers_text,
        chart_theme="dark",
        default_range="1Y",
        notifications={"training_finished": True},
    )


def test_the_cap_is_allowed(session, actor):
    tickers = [f"T{number}" for number in range(MAX_DEFAULT_TICKERS)]
    assert save(session, actor, ", ".join(tickers)).default_tickers == tickers


@pytest.mark.parametrize("count", [MAX_DEFAULT_TICKERS + 1, 20_000])
def test_more_than_the_cap_are_refused_naming_both_counts(session, actor, count):
    with pytest.raises(PreferencesError) as refused:
        save(session, actor, ", ".join(f"T{number}" for number in range(count)))
    assert str(refused.value) == (
        f"default tickers: at most {MAX_DEFAULT_TICKERS} ({count:,} given); keep the ones you look at most"
    )
    assert load_preferences(session=session, actor=actor).default_tickers == []
