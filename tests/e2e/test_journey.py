"""The whole journey in a real browser (Debian's Chromium, driven by Playwright) against the real app.

Register and log in, load the sample and upload a file with one bad row, see the indicator panes,
train a tiny model to the end, predict five days into the ledger, read the baseline comparison,
log out, and find nothing private behind the back button. Once on the embedded default (SQLite,
a training thread) and once as a team deployment (PostgreSQL, Redis and a separate RQ worker).
Screenshots of each page go to SCREENSHOT_DIR when it is set (`make screenshots`).
"""

import os
import secrets
import uuid
from pathlib import Path

import pytest

from tests.e2e.app_server import CHROMIUM, CHROMIUM_FLAGS, running_app
from tests.fixtures import gspc_2018_bytes
from tests.servers import fresh_postgres_database, postgres_problem, redis_problem, redis_server_url, unavailable

TRAINING_SECONDS = 240
STEP_MS = 30_000
PASSWORD = "a long journey password"


@pytest.fixture(params=["embedded", pytest.param("team", marks=[pytest.mark.postgres, pytest.mark.redis])])
def app_url(request, tmp_path):
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium to run the browser journey")
    env = {
        "APP_ENV": "development",
        "COOKIE_KEY": secrets.token_urlsafe(48),
        "LOG_DIR": str(tmp_path / "logs"),
        "REDIS_URL": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'journey.db'}",
    }
    if request.param == "embedded":
        with running_app(env, tmp_path, with_worker=False) as url:
            yield url
        return
    for problem in (postgres_problem(), redis_problem()):
        if problem:
            unavailable(problem)
    with fresh_postgres_database() as database:
        env |= {
            "DATABASE_URL": database.render_as_string(hide_password=False),
            "REDIS_URL": redis_server_url(),
            "TRAINING_QUEUE": f"candlecast-e2e-{uuid.uuid4().hex[:8]}",
        }
        with running_app(env, tmp_path, with_worker=True) as url:
            yield url


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(STEP_MS)
        yield context.new_page()
        browser.close()


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1500)  # let charts finish drawing
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def open_page(page, url: str) -> None:
    """Go to a page and let its first runs settle, as a person reads a page before clicking."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)


def visible_text(page, text: str):
    return page.get_by_text(text, exact=False).first


def test_the_whole_journey(app_url, page, tmp_path):
    try:
        journey(app_url, page, tmp_path)
    except Exception:
        # A failed step is photographed, so it can be seen rather than guessed.
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
        raise


def journey(app_url: str, page, tmp_path: Path) -> None:
    username = f"analyst{uuid.uuid4().hex[:6]}"

    # Only the login page exists for a visitor: a typed page URL lands on it.
    open_page(page, f"{app_url}/metrics")
    visible_text(page, "Page not found").wait_for()
    page.keyboard.press("Escape")
    visible_text(page, "Log in or create an account").wait_for()
    page.get_by_text("Page not found").wait_for(state="hidden")
    shoot(page, "01-login")
    page.get_by_role("tab", name="Register").click()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Username").nth(1).fill(username)
    page.get_by_label("Password", exact=True).nth(1).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    visible_text(page, f"Account '{username}' created").wait_for()
    page.get_by_role("tab", name="Log in").click()
    page.get_by_label("Username").first.fill(username)
    page.get_by_label("Password", exact=True).first.fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    visible_text(page, f"Signed in as {username}").wait_for()
    visible_text(page, "System status").wait_for()
    page.wait_for_timeout(2000)  # the session cookie is written by a component after the login run
    shoot(page, "02-home")

    # Prices: the bundled sample, then an upload with one bad row.
    open_page(page, f"{app_url}/tickers")
    page.get_by_role("button", name="Load the S&P 500 sample").click()
    page.get_by_role("button", name="Download ^GSPC as CSV").wait_for()
    shoot(page, "03-tickers")
    page.get_by_role("tab", name="Upload prices").click()
    bad = gspc_2018_bytes().replace(b"2018-12-28,2498.77002", b"2018-12-28,-2498.77002")
    file = tmp_path / "spx-with-one-bad-row.csv"
    file.write_bytes(bad)
    page.locator('input[type="file"]').first.set_input_files(str(file))
    page.get_by_label("Ticker", exact=True).fill("SPX")
    page.get_by_role("button", name="Import").click()
    visible_text(page, "Rejected, nothing written: 1 of 251 rows invalid").wait_for()
    visible_text(page, "First offending rows").wait_for()
    shoot(page, "04-upload-report")

    # Indicators: candlesticks with RSI and MACD panes.
    open_page(page, f"{app_url}/indicators")
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    chart.get_by_text("RSI", exact=True).first.wait_for()
    chart.get_by_text("MACD", exact=True).first.wait_for()
    shoot(page, "05-indicators")

    # Train a tiny model and watch the job run to the end.
    open_page(page, f"{app_url}/train")
    page.get_by_text("Advanced", exact=True).click()
    page.get_by_label("LSTM units per layer", exact=True).fill("4")
    page.get_by_label("Epochs at most", exact=True).fill("1")
    page.get_by_role("button", name="Train").click()
    visible_text(page, "Queued 1 training job").wait_for()
    visible_text(page, "^GSPC · succeeded").wait_for(timeout=TRAINING_SECONDS * 1000)
    shoot(page, "06-train")

    # Predict five trading days into the ledger.
    open_page(page, f"{app_url}/predictions")
    page.get_by_role("button", name="Predict").click()
    visible_text(page, "Stored 5 predictions of ^GSPC in the ledger.").wait_for(timeout=90_000)
    page.get_by_role("button", name="Download the ledger (CSV)").wait_for()
    shoot(page, "07-predictions")

    # Metrics: the model beside tomorrow = today.
    open_page(page, f"{app_url}/metrics")
    visible_text(page, "Active ^GSPC v1").wait_for()
    visible_text(page, "against persistence").wait_for()
    shoot(page, "08-metrics")

    open_page(page, f"{app_url}/account")
    visible_text(page, "Change password").wait_for()
    shoot(page, "09-account")

    # Log out; the back button shows nothing private.
    page.get_by_role("button", name="Log out").click()
    visible_text(page, "You are logged out.").wait_for()
    page.go_back()
    visible_text(page, "Log in or create an account").wait_for()
    page.wait_for_timeout(1500)
    assert page.get_by_text("Signed in as").count() == 0
    assert page.get_by_text("Change password").count() == 0
    assert page.get_by_text("System status").count() == 0
    page.reload()
    visible_text(page, "Log in or create an account").wait_for()
    assert page.get_by_text("Signed in as").count() == 0
