"""A PostgreSQL that accepts connections but never answers: a message within 15 s, recovery without a restart."""

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from common.config import load_settings
from db.engine import DATABASE_NOT_ANSWERING, create_engine_from_settings, database_error_message, session_scope
from tests.accounts import logged_in_app, make_account
from tests.security.tcp_proxy import FreezableProxy

pytestmark = pytest.mark.postgres
PROMISED_SECONDS = 15


@pytest.fixture
def proxy(postgres_database_url):
    proxy = FreezableProxy((postgres_database_url.host, postgres_database_url.port or 5432))
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_url(proxy, postgres_database_url):
    return postgres_database_url.set(host="127.0.0.1", port=proxy.port)


def select_one(factory) -> int:
    with session_scope(factory, action="health") as session:
        return session.execute(text("SELECT 1")).scalar()


def test_a_frozen_database_is_reported_in_time_and_the_app_recovers(proxy, proxied_url):
    engine = create_engine_from_settings(load_settings(), proxied_url)  # the default timeouts
    factory = sessionmaker(bind=engine)
    try:
        assert select_one(factory) == 1  # a pooled connection, now going through the proxy
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(OperationalError) as raised:
            select_one(factory)
        elapsed = time.monotonic() - started
        assert elapsed < PROMISED_SECONDS, f"took {elapsed:.1f} s"
        assert database_error_message(raised.value) == DATABASE_NOT_ANSWERING

        proxy.thaw()
        assert select_one(factory) == 1, "the same engine works again, no restart"
    finally:
        engine.dispose()


def _frozen_select_seconds(proxy, factory) -> float:
    """Freeze the proxy under a pooled connection and time the select that fails on it."""
    assert select_one(factory) == 1
    proxy.freeze()
    started = time.monotonic()
    with pytest.raises(OperationalError) as raised:
        select_one(factory)
    assert database_error_message(raised.value) == DATABASE_NOT_ANSWERING
    return time.monotonic() - started


def test_after_the_watch_finds_the_server_silent_the_pool_does_not_wait_to_reconnect(proxy, proxied_url):
    """The pre-ping waits the answer timeout, the watch's probe the connect timeout, and that is all."""
    settings = load_settings(db_answer_timeout=1, db_connect_timeout=4)
    engine = create_engine_from_settings(settings, proxied_url)
    try:
        elapsed = _frozen_select_seconds(proxy, sessionmaker(bind=engine))
        # Another connect timeout would take it past the bound; the 2 s spare covers the watch's tick.
        bound = settings.db_answer_timeout + settings.db_connect_timeout + 2
        assert elapsed < bound, f"took {elapsed:.1f} s: the reconnect waited for the silent server again"
    finally:
        engine.dispose()


def test_the_first_request_after_the_server_answers_again_succeeds(proxy, proxied_url):
    """The quick failure is for the reconnect that follows the verdict, not a window that outlives it."""
    engine = create_engine_from_settings(load_settings(db_answer_timeout=1, db_connect_timeout=4), proxied_url)
    factory = sessionmaker(bind=engine)
    try:
        _frozen_select_seconds(proxy, factory)
        proxy.thaw()
        started = time.monotonic()
        assert select_one(factory) == 1, "refused although the server answers"
        assert time.monotonic() - started < 1, "the first request after the thaw waited"
    finally:
        engine.dispose()


def test_a_slow_statement_on_a_live_server_is_not_cut_short(proxied_url):
    engine = create_engine_from_settings(load_settings(db_answer_timeout=1), proxied_url)
    try:
        with session_scope(sessionmaker(bind=engine)) as session:
            assert session.execute(text("SELECT pg_sleep(2.5), 7")).one()[1] == 7
    finally:
        engine.dispose()


def test_the_page_says_the_database_is_not_answering(monkeypatch, proxy, proxied_url):
    actor = make_account(proxied_url)
    monkeypatch.setenv("DATABASE_URL", proxied_url.render_as_string(hide_password=False))
    at = logged_in_app("Home.py", actor, timeout=PROMISED_SECONDS + 15).run()
    assert not at.exception
    proxy.freeze()
    started = time.monotonic()
    at.run()
    assert time.monotonic() - started < PROMISED_SECONDS
    assert not at.exception
    assert [error.value for error in at.error] == [DATABASE_NOT_ANSWERING]
    proxy.thaw()
    at.run()
    assert not at.exception
    assert not at.error
