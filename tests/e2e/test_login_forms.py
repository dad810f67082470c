"""The login, registration and password forms in a real browser: what a password manager reads to fill them."""

import secrets
import uuid

import pytest

from tests.e2e.app_server import CHROMIUM, running_app
from tests.e2e.test_journey import (
    open_page,
    register_and_log_in,
    visible_text,
    wait_for_session_cookie,
)
from tests.servers import unavailable

FIELDS = "() => [...document.querySelectorAll('input')].map(e => [e.ariaLabel, e.type, e.autocomplete])"
HEADINGS = "() => [...document.querySelectorAll('main h1, main h2, main h3')].map(h => [h.tagName, h.textContent])"


@pytest.fixture
def app_url(tmp_path):
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium to run the browser journey")
    env = {
        "APP_ENV": "development",
        "COOKIE_KEY": secrets.token_urlsafe(48),
        "LOG_DIR": str(tmp_path / "logs"),
        "REDIS_URL": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'forms.db'}",
    }
    with running_app(env, tmp_path, with_worker=False) as url:
        yield url


@pytest.mark.timeout(300)
def test_a_password_manager_can_fill_the_login_registration_and_password_forms(app_url, page):
    open_page(page, app_url)
    page.get_by_label("Password", exact=True).first.wait_for()
    # Both tabs' forms are in the page, the hidden one too.
    page.get_by_label("Repeat password").wait_for(state="attached")
    assert page.evaluate(FIELDS) == [
        ["Username", "text", "username"],
        ["Password", "password", "current-password"],
        ["First name", "text", "given-name"],
        ["Last name", "text", "family-name"],
        ["Email", "text", "email"],
        ["Username", "text", "username"],
        ["Password", "password", "new-password"],
        ["Repeat password", "password", "new-password"],
    ]
    # Under the page's h1 the tabs name each form: no heading skips a level.
    assert page.evaluate(HEADINGS) == [["H1", "Candlecast"]]

    username = f"filled{uuid.uuid4().hex[:6]}"
    register_and_log_in(page, username)
    wait_for_session_cookie(page)

    open_page(page, f"{app_url}/account")
    visible_text(page, "Current password").wait_for()
    assert [field for field in page.evaluate(FIELDS) if field[1] == "password"] == [
        ["Current password", "password", "current-password"],
        ["New password", "password", "new-password"],
        ["Repeat new password", "password", "new-password"],
    ]
    headings = page.evaluate(HEADINGS)
    assert headings[:2] == [["H1", "Account"], ["H2", "Change password"]], headings
