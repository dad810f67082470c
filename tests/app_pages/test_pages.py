"""Every page's main() under Streamlit's AppTest, and the router with its status panel."""

import pytest
from streamlit.testing.v1 import AppTest

from common.config import PROJECT_ROOT
from db.models.accounts import Role
from tests.accounts import logged_in_app, make_account

PAGE_TITLES = {
    "login": "Candlecast",
    "home": "Candlecast",
    "tickers": "Tickers",
    "indicators": "Indicators",
    "train": "Train",
    "predictions": "Predictions",
    "metrics": "Metrics",
    "account": "Account",
}


@pytest.fixture
def app_on(monkeypatch, committing_sqlite_url):
    """Point the app at a database, and return a runner for a script of the app, logged in as an analyst."""

    def run(script: str, database_url=committing_sqlite_url, role=Role.ANALYST) -> AppTest:
        monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
        actor = make_account(database_url, role=role)
        return logged_in_app(script, actor).run()

    return run


@pytest.mark.parametrize("page", sorted(PAGE_TITLES))
def test_each_page_renders(app_on, page):
    at = app_on(f"app_pages/{page}.py")
    assert not at.exception
    assert [title.value for title in at.title] == [PAGE_TITLES[page]]


def _markdown(at: AppTest) -> str:
    return "\n".join(element.value for element in at.markdown)


def test_home_is_a_start_page_with_the_status_for_admins_only(app_on):
    at = app_on("Home.py")
    assert not at.exception
    assert [h.value for h in at.header][:2] == ["Getting started", "Watchlist"]
    assert not at.expander, "analysts do not see the system status"
    assert "**Database**" not in _markdown(at)


def test_home_routes_to_the_status_panel_on_sqlite(app_on):
    at = app_on("Home.py", role=Role.ADMIN)
    assert not at.exception
    assert at.title[0].value == "Candlecast"
    text = _markdown(at)
    assert "**Database** · sqlite" in text
    assert ":green-badge[healthy]" in text
    assert ":green-badge[up to date]" in text
    assert ":gray-badge[not configured]" in text
    assert [s.value for s in at.success] == ["All systems go"]


@pytest.mark.postgres
@pytest.mark.redis
def test_status_panel_on_postgres_with_redis_shows_pool_figures(app_on, monkeypatch, postgres_database_url, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    at = app_on("Home.py", postgres_database_url, role=Role.ADMIN)
    assert not at.exception
    text = _markdown(at)
    assert "**Database** · postgresql" in text
    assert "pool: size 5" in "\n".join(c.value for c in at.caption)
    assert ":green-badge[ok]" in text


def test_status_panel_says_when_migrations_are_behind(app_on, monkeypatch, tmp_path):
    from alembic import command
    from sqlalchemy.engine import URL

    from db.migrate import alembic_config

    url = URL.create("sqlite", database=str(tmp_path / "behind.db"))
    command.upgrade(alembic_config(url), "0002")
    monkeypatch.setattr("db.migrate.head_revision", lambda: "9999")
    monkeypatch.setattr("core.status.head_revision", lambda: "9999")
    at = app_on("Home.py", url, role=Role.ADMIN)
    assert not at.exception
    assert any("python -m db setup" in e.value for e in at.error)
    assert not at.success


@pytest.mark.parametrize("page", sorted(set(PAGE_TITLES) - {"home", "login"}))
def test_router_reaches_every_page(app_on, page):
    at = app_on("Home.py")
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    assert at.title[0].value == PAGE_TITLES[page]


def test_a_bad_setting_stops_the_app_with_one_message(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "-2")
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=30).run()
    assert not at.exception
    assert len(at.error) == 1
    assert "DB_POOL_SIZE" in at.error[0].value
    assert not at.title


def test_production_refuses_a_placeholder_cookie_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("COOKIE_KEY", "change-me-to-a-long-random-string-please")
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=30).run()
    assert "COOKIE_KEY: is a placeholder" in at.error[0].value
    assert not at.title
